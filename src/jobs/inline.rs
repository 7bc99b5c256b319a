//! A bulk deletion small enough for one batch is worked to its end by the caller (the request
//! that confirmed it) instead of the background worker, so that the administrator gets the
//! outcome at once instead of a progress page. Nothing else changes: the same frozen set and
//! comparison ([`freeze`]), the same lease, batches and record ([`run_batch`]), and any doubt
//! (another worker took the job first, a stop, an error) leaves the job to the workers.

use super::run::{claim_job, leased_to, release, run_batch, Step};
use super::{added_after_confirmation, find, freeze, Confirmed, JobId, StartError, WorkerSettings};
use crate::db::DbConn;
use crate::deletion::Actor;
use crate::domain::selection::Selection;
use crate::state::AppState;
use crate::tokens::random_token;

/// Where a confirmed deletion is once [`start_and_finish`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// Worked to its end here; `summary` says what was deleted ("Deleted 3 customers with …").
    Finished { job: JobId, summary: String },
    /// Queued for the workers (or worked by one already): follow it on its page.
    InBackground(JobId),
}

/// Whether a deletion of `customers` is worked by the caller: this instance deletes at all
/// (`enabled`), the set fits in one batch, and no backup is due before it (the worker writes
/// one for a job over `backup_before_bulk.above`; a request does not).
pub fn fits_in_one_batch(customers: i64, settings: &WorkerSettings) -> bool {
    let backup_due = settings
        .backup_before_bulk
        .as_ref()
        .is_some_and(|backup| customers > backup.above);
    settings.enabled && customers <= settings.batch_size && !backup_due
}

/// [`super::start`], and when the set [`fits_in_one_batch`], its deletion to the end in this
/// thread. The worker is woken only for a job left to it.
// The submitted confirmation's parts, as `start` takes them, and the worker's settings.
#[allow(clippy::too_many_arguments)]
pub fn start_and_finish(
    conn: &mut DbConn,
    state: &AppState,
    settings: &WorkerSettings,
    selection: &Selection,
    skip_open_tickets: bool,
    confirmed: &Confirmed,
    token: &str,
    actor: &Actor,
) -> Result<Started, StartError> {
    if !fits_in_one_batch(confirmed.customers(), settings) {
        return super::start(
            conn,
            state,
            selection,
            skip_open_tickets,
            confirmed,
            token,
            actor,
        )
        .map(Started::InBackground);
    }
    let owner = format!("request-{}-{}", std::process::id(), random_token(6));
    let leased = Some((owner.as_str(), settings.lease));
    let job = freeze(
        conn,
        selection,
        skip_open_tickets,
        confirmed,
        token,
        actor,
        leased,
    )?;
    match work_to_the_end(conn, state, job, settings, &owner) {
        Ok(Some(summary)) => Ok(Started::Finished { job, summary }),
        Ok(None) => {
            state.jobs.wake();
            Ok(Started::InBackground(job))
        }
        Err(error) => {
            tracing::warn!(
                job = job.0,
                error = format!("{error:#}"),
                "small deletion left to the worker"
            );
            state.jobs.wake();
            Ok(Started::InBackground(job))
        }
    }
}

/// Runs the batches of `job`, frozen leased to `owner` (or claimed now, for a replayed
/// confirmation's job), until it is done: its summary, or `None` when the job is not (or no
/// longer) this caller's (another worker holds it, a stop was asked for, or the job was
/// already finished).
fn work_to_the_end(
    conn: &mut DbConn,
    state: &AppState,
    job: JobId,
    settings: &WorkerSettings,
    owner: &str,
) -> anyhow::Result<Option<String>> {
    if !(leased_to(conn, job, owner)? || claim_job(conn, job, owner, settings.lease)?) {
        return Ok(None);
    }
    // One batch deletes the frozen set (it fits), the next finds nothing left and writes the
    // record; each batch moves the cursor, so this ends.
    loop {
        let started = std::time::Instant::now();
        match run_batch(conn, state, job, owner, settings) {
            Ok(Step::Progressed { .. }) => crate::telemetry::batch_took(started.elapsed()),
            Ok(Step::Finished) => break,
            Ok(Step::Stopped | Step::LostLease) => return Ok(None),
            Err(error) => {
                // Given back at once rather than after the lease: the worker takes it over.
                if let Err(release_error) = release(conn, job, owner) {
                    tracing::warn!(job = job.0, %release_error, "could not give the job back");
                }
                return Err(error.into());
            }
        }
    }
    let done = find(conn, job)?.ok_or_else(|| anyhow::anyhow!("job {} vanished", job.0))?;
    let added = added_after_confirmation(conn, job)?;
    Ok(Some(done.finished_text(&added)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::before_bulk::BackupBeforeBulk;

    #[test]
    fn only_a_set_of_one_batch_with_no_backup_due_is_worked_by_the_caller() {
        let settings = WorkerSettings {
            batch_size: 7,
            ..WorkerSettings::default()
        };
        assert!(fits_in_one_batch(1, &settings));
        assert!(fits_in_one_batch(7, &settings));
        assert!(!fits_in_one_batch(8, &settings));
        let no_worker = WorkerSettings {
            enabled: false,
            ..settings.clone()
        };
        assert!(!fits_in_one_batch(1, &no_worker));
        let backups = WorkerSettings {
            backup_before_bulk: Some(BackupBeforeBulk {
                above: 3,
                dir: "backups".into(),
            }),
            ..settings
        };
        assert!(fits_in_one_batch(3, &backups));
        assert!(!fits_in_one_batch(4, &backups), "a backup is due first");
    }
}
