//! The background worker of an instance: waits for jobs, claims them and runs their batches,
//! resting while pages are busy.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::run::{claim, release, run_batch_of, Step};
use crate::backup::before_bulk::{self, BackupBeforeBulk};
use crate::db::DbPool;
use crate::pacing;
use crate::state::AppState;
use crate::tokens::random_token;

/// How a worker works jobs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Whether this instance runs a worker at all (an instance can serve pages only, and leave
    /// the deleting to others sharing its PostgreSQL database).
    pub enabled: bool,
    /// Customers deleted per transaction.
    pub batch_size: i64,
    /// Rest between batches (0: none), to leave room for other writers.
    pub pause: Duration,
    /// How long a job stays with a worker that stopped renewing it.
    pub lease: Duration,
    /// How often an idle worker looks for work.
    pub poll: Duration,
    /// SQLite: a backup before a large bulk deletion starts (off: `None`).
    pub backup_before_bulk: Option<BackupBeforeBulk>,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            batch_size: 500,
            pause: Duration::ZERO,
            lease: Duration::from_secs(15),
            poll: Duration::from_millis(250),
            backup_before_bulk: None,
        }
    }
}

/// The background worker of one app instance. Dropping the handle stops it after its current
/// batch and waits for its thread, so that nothing is left using the database once it is gone.
pub struct Worker {
    stop: Arc<AtomicBool>,
    state: Arc<AppState>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes it if it is waiting for work.
        self.state.jobs.wake();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Worker {
    /// Starts the worker of the instance whose state is `state`: jobs queued through it wake
    /// the worker, and the worker rests while its pages are busy.
    pub fn spawn(pool: DbPool, settings: WorkerSettings, state: Arc<AppState>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        if !settings.enabled {
            return Self {
                stop,
                state,
                thread: None,
            };
        }
        let stopping = stop.clone();
        let shared = state.clone();
        let owner = format!("{}-{}", std::process::id(), random_token(6));
        let thread = std::thread::Builder::new()
            .name("deletion-worker".into())
            .spawn(move || {
                lower_priority();
                worker_loop(&pool, &shared, &owner, &settings, &stopping)
            })
            .expect("start the deletion worker thread");
        Self {
            stop,
            state,
            thread: Some(thread),
        }
    }
}

/// The deletion yields the CPU to page views: with two cores, a batch running flat out would
/// otherwise make the list wait. Linux lets one thread be niced on its own.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on this thread's own id, no memory is shared.
    unsafe {
        let thread = libc::syscall(libc::SYS_gettid) as libc::id_t;
        if libc::setpriority(libc::PRIO_PROCESS, thread, 10) != 0 {
            tracing::debug!("could not lower the deletion worker's priority");
        }
    }
}

fn worker_loop(
    pool: &DbPool,
    state: &AppState,
    owner: &str,
    settings: &WorkerSettings,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        let seen = state.jobs.seen();
        let worked = pool
            .get()
            .map_err(anyhow::Error::from)
            .and_then(|mut conn| {
                let Some(job) = claim(&mut conn, owner, settings.lease)? else {
                    return Ok(false);
                };
                tracing::info!(job = job.0, owner, "deletion job claimed");
                if let Some(backup) = &settings.backup_before_bulk {
                    before_bulk::ensure(&mut conn, job, backup)?;
                }
                let mut sizes =
                    pacing::BatchSizes::new(settings.batch_size, state.write_turns.is_some());
                loop {
                    if stop.load(Ordering::Relaxed) {
                        release(&mut conn, job, owner)?;
                        tracing::info!(job = job.0, "deletion job released: stopping");
                        return Ok(true);
                    }
                    // In line with the requests that write (SQLite): their writes wait for a
                    // batch, not for every batch the worker would fit in between.
                    let turn = state
                        .write_turns
                        .as_ref()
                        .map(|turns| turns.take_blocking());
                    // Counted from here: the wait for the turn is not the batch's time.
                    let requests = state.arrivals.requests_received();
                    let started = Instant::now();
                    let step = run_batch_of(&mut conn, state, job, owner, settings, sizes.next())?;
                    let took = started.elapsed();
                    drop(turn);
                    match step {
                        Step::Progressed { processed } => {
                            crate::telemetry::batch_took(took);
                            tracing::debug!(job = job.0, processed, "deletion batch done");
                            let busy = pacing::rest_after(
                                took,
                                state.arrivals.requests_received() - requests,
                            );
                            sizes.after(sizes.next(), took, !busy.is_zero());
                            let rest = settings.pause.max(busy);
                            if !rest.is_zero() {
                                std::thread::sleep(rest);
                            }
                        }
                        Step::Finished => {
                            tracing::info!(job = job.0, "deletion job finished");
                            return Ok(true);
                        }
                        Step::Stopped => {
                            tracing::info!(job = job.0, "deletion job stopped on request");
                            return Ok(true);
                        }
                        Step::LostLease => {
                            tracing::warn!(
                                job = job.0,
                                "deletion job no longer ours (taken over, or stopped meanwhile)"
                            );
                            return Ok(true);
                        }
                    }
                }
            });
        match worked {
            Ok(true) => {}
            Ok(false) => state.jobs.wait(seen, settings.poll),
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "deletion worker: will retry");
                state
                    .jobs
                    .wait(seen, Duration::from_secs(1).max(settings.poll));
            }
        }
    }
}
