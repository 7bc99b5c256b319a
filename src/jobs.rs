//! Bulk deletion as a persisted job: the confirmed set is frozen when the administrator
//! confirms, then a background worker deletes it in batches. Knows nothing of HTTP.
//!
//! - What you confirm is what is deleted: the confirmation carries a fingerprint of the set it
//!   showed (count, sum and mix of ids); on submit the set is resolved into the job's items and
//!   fingerprinted again in the same transaction, and nothing happens if the two differ.
//! - No customer is ever half deleted: each batch deletes its customers with all their data
//!   ([`deletion::delete_locked`]), advances the job's cursor and adds to its totals in one
//!   transaction.
//! - Crash safety: a job is worked under a lease (owner, expiry) renewed by every batch; after a
//!   crash, or on another instance, the job is taken over when the lease runs out and resumes at
//!   its cursor.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta};
use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::accounts::random_token;
use crate::customers::{now, selection_filter, selection_filter_planned, WALK_SORT_INDEX_ABOVE};
use crate::db::{write_transaction, DbConn, DbPool, Dialect};
use crate::deletion::{self, Actor};
use crate::domain::deletion_counts::DeletionCounts;
use crate::domain::selection::Selection;
use crate::lock;
use crate::order_cache::customers_changed;
use crate::pacing;
use crate::schema::{customers, deletion_job_items, deletion_jobs};

/// Identifies a set of customer ids cheaply: a set that gained, lost or swapped members has
/// (all but certainly) another fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
pub struct Fingerprint {
    pub count: i64,
    pub id_sum: i64,
    pub id_mix: i64,
}

/// SUM over bigint is numeric on PostgreSQL: cast back so both backends give a BIGINT.
const SUM_SQL: &str = "CAST(COALESCE(SUM(id), 0) AS BIGINT)";
const MIX_SQL: &str = "CAST(COALESCE(SUM((id * 2654435761) % 1000000007), 0) AS BIGINT)";
const ITEM_SUM_SQL: &str = "CAST(COALESCE(SUM(customer_id), 0) AS BIGINT)";
const ITEM_MIX_SQL: &str =
    "CAST(COALESCE(SUM((customer_id * 2654435761) % 1000000007), 0) AS BIGINT)";

/// The fingerprint of the customers a selection holds now.
pub fn fingerprint(conn: &mut DbConn, selection: &Selection) -> QueryResult<Fingerprint> {
    let (count, id_sum, id_mix) = customers::table
        .filter(selection_filter(selection, Dialect::of(conn)))
        .select((count_star(), sql::<BigInt>(SUM_SQL), sql::<BigInt>(MIX_SQL)))
        .get_result::<(i64, i64, i64)>(conn)?;
    Ok(Fingerprint {
        count,
        id_sum,
        id_mix,
    })
}

fn items_fingerprint(conn: &mut DbConn, job: i64) -> QueryResult<Fingerprint> {
    let (count, id_sum, id_mix) = deletion_job_items::table
        .filter(deletion_job_items::job_id.eq(job))
        .select((
            count_star(),
            sql::<BigInt>(ITEM_SUM_SQL),
            sql::<BigInt>(ITEM_MIX_SQL),
        ))
        .get_result::<(i64, i64, i64)>(conn)?;
    Ok(Fingerprint {
        count,
        id_sum,
        id_mix,
    })
}

/// What the bulk confirmation shows, and the fingerprint it sends back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkPreview {
    pub fingerprint: Fingerprint,
    pub counts: DeletionCounts,
    /// The first few names, by name.
    pub names: Vec<String>,
}

/// The confirmation's numbers in one pass over the selection: its fingerprint, and what goes
/// with it (each customer's related rows counted from indexes alone); then the first names.
pub fn preview(conn: &mut DbConn, selection: &Selection) -> QueryResult<BulkPreview> {
    let dialect = Dialect::of(conn);
    let (count, id_sum, id_mix, related) = customers::table
        .filter(selection_filter(selection, dialect))
        .select((
            count_star(),
            sql::<BigInt>(SUM_SQL),
            sql::<BigInt>(MIX_SQL),
            deletion::related_sums(),
        ))
        .get_result::<(i64, i64, i64, deletion::RelatedSums)>(conn)?;
    let names = crate::customers::names_where(
        conn,
        selection_filter_planned(selection, dialect, count > WALK_SORT_INDEX_ABOVE),
        3,
    )?;
    Ok(BulkPreview {
        fingerprint: Fingerprint {
            count,
            id_sum,
            id_mix,
        },
        counts: deletion::related_counts(count, related),
        names,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = deletion_jobs)]
pub struct Job {
    pub id: i64,
    pub created_at: NaiveDateTime,
    pub actor_name: String,
    pub status: String,
    pub total: i64,
    pub processed: i64,
    pub customers: i64,
    pub tickets: i64,
    pub chats: i64,
    pub notes: i64,
    pub finished_at: Option<NaiveDateTime>,
}

impl Job {
    pub fn is_done(&self) -> bool {
        self.status == "done"
    }

    pub fn counts(&self) -> DeletionCounts {
        DeletionCounts {
            customers: self.customers,
            tickets: self.tickets,
            tickets_in_trash: 0,
            chats: self.chats,
            notes: self.notes,
        }
    }

    /// Customers in the job that someone else deleted first.
    pub fn already_gone(&self) -> i64 {
        self.processed - self.customers
    }

    pub fn seconds_taken(&self) -> Option<f64> {
        self.finished_at
            .map(|end| (end - self.created_at).num_milliseconds() as f64 / 1000.0)
    }
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Job>> {
    deletion_jobs::table
        .find(id)
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// Jobs not finished yet, oldest first.
pub fn active(conn: &mut DbConn) -> QueryResult<Vec<Job>> {
    deletion_jobs::table
        .filter(deletion_jobs::status.ne("done"))
        .order(deletion_jobs::id.asc())
        .select(Job::as_select())
        .load(conn)
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The set is not what the confirmation showed; nothing was started.
    #[error("the selection changed since it was confirmed")]
    Changed,
    #[error("nothing is selected")]
    Empty,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

pub fn job_for_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<i64>> {
    deletion_jobs::table
        .filter(deletion_jobs::confirmation_token.eq(token))
        .select(deletion_jobs::id)
        .first(conn)
        .optional()
}

/// Freezes the selection into a queued job, if it is still exactly what was confirmed.
/// Submitting the same confirmation again returns the job it started.
pub fn start(
    conn: &mut DbConn,
    selection: &Selection,
    confirmed: Fingerprint,
    token: &str,
    actor: &Actor,
) -> Result<i64, StartError> {
    let started = write_transaction(conn, |conn| {
        if let Some(job) = job_for_token(conn, token)? {
            return Ok(job);
        }
        if confirmed.count == 0 {
            return Err(StartError::Empty);
        }
        let job: i64 = diesel::insert_into(deletion_jobs::table)
            .values((
                deletion_jobs::created_at.eq(now()),
                deletion_jobs::confirmation_token.eq(token),
                deletion_jobs::actor_id.eq(Some(actor.id)),
                deletion_jobs::actor_name.eq(&actor.name),
                deletion_jobs::status.eq("queued"),
                deletion_jobs::total.eq(confirmed.count),
            ))
            .returning(deletion_jobs::id)
            .get_result(conn)?;
        let frozen = customers::table
            .filter(selection_filter(selection, Dialect::of(conn)))
            .select((job.into_sql::<BigInt>(), customers::id));
        diesel::insert_into(deletion_job_items::table)
            .values(frozen)
            .into_columns((deletion_job_items::job_id, deletion_job_items::customer_id))
            .execute(conn)?;
        // Fingerprint what was frozen, not a second look at the table: this is the set that
        // will be deleted.
        if items_fingerprint(conn, job)? != confirmed {
            return Err(StartError::Changed);
        }
        Ok(job)
    });
    match started {
        // Two submissions of one confirmation at the same moment: the loser finds the winner's.
        Err(StartError::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => job_for_token(conn, token)?.ok_or(StartError::Changed),
        Ok(job) => {
            wake_workers();
            Ok(job)
        }
        other => other,
    }
}

/// Jobs queued by this process: its idle workers wait on this rather than sleep, so that a
/// deletion starts at once instead of at the next poll (other instances still find it by
/// polling).
static JOBS_QUEUED: Mutex<u64> = Mutex::new(0);
static JOB_QUEUED: Condvar = Condvar::new();

fn wake_workers() {
    *lock(&JOBS_QUEUED) += 1;
    JOB_QUEUED.notify_all();
}

/// Waits up to `poll` for a job queued after the worker last saw `seen` of them.
fn wait_for_job(seen: u64, poll: Duration) {
    let queued = lock(&JOBS_QUEUED);
    if *queued == seen {
        let _ = JOB_QUEUED.wait_timeout(queued, poll);
    }
}

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
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            batch_size: 500,
            pause: Duration::ZERO,
            lease: Duration::from_secs(15),
            poll: Duration::from_millis(250),
        }
    }
}

fn lease_end(lease: Duration) -> NaiveDateTime {
    now() + TimeDelta::milliseconds(lease.as_millis() as i64)
}

/// Takes the oldest unfinished job whose lease is free or expired.
pub fn claim(conn: &mut DbConn, owner: &str, lease: Duration) -> QueryResult<Option<i64>> {
    let at = now();
    let candidates: Vec<i64> = deletion_jobs::table
        .filter(deletion_jobs::status.ne("done"))
        .filter(
            deletion_jobs::lease_until
                .is_null()
                .or(deletion_jobs::lease_until.lt(at)),
        )
        .order(deletion_jobs::id.asc())
        .limit(8)
        .select(deletion_jobs::id)
        .load(conn)?;
    for job in candidates {
        // The lease condition again: of two workers racing for a job, one updates the row and
        // the other moves on to the next candidate.
        let claimed = diesel::update(
            deletion_jobs::table
                .find(job)
                .filter(deletion_jobs::status.ne("done"))
                .filter(
                    deletion_jobs::lease_until
                        .is_null()
                        .or(deletion_jobs::lease_until.lt(at)),
                ),
        )
        .set((
            deletion_jobs::status.eq("running"),
            deletion_jobs::lease_owner.eq(Some(owner)),
            deletion_jobs::lease_until.eq(Some(lease_end(lease))),
        ))
        .execute(conn)?;
        if claimed == 1 {
            return Ok(Some(job));
        }
    }
    Ok(None)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A batch was deleted; there may be more.
    Progressed { processed: i64 },
    /// Nothing was left: the record is written and the job is done.
    Finished,
    /// Another worker holds the job now (this one was too slow); stop working on it.
    LostLease,
}

#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error("lease lost")]
    LostLease,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Deletes the next batch of a job held by `owner`, all in one transaction.
pub fn run_batch(
    conn: &mut DbConn,
    job: i64,
    owner: &str,
    settings: &WorkerSettings,
) -> QueryResult<Step> {
    let step = write_transaction(conn, |conn| -> Result<Step, StepError> {
        // Renewing the lease first also checks that the job is still ours.
        let renewed = diesel::update(
            deletion_jobs::table
                .find(job)
                .filter(deletion_jobs::lease_owner.eq(owner))
                .filter(deletion_jobs::status.ne("done")),
        )
        .set(deletion_jobs::lease_until.eq(Some(lease_end(settings.lease))))
        .execute(conn)?;
        if renewed != 1 {
            return Err(StepError::LostLease);
        }
        let cursor: i64 = deletion_jobs::table
            .find(job)
            .select(deletion_jobs::cursor)
            .first(conn)?;
        let batch: Vec<i64> = deletion_job_items::table
            .filter(deletion_job_items::job_id.eq(job))
            .filter(deletion_job_items::customer_id.gt(cursor))
            .order(deletion_job_items::customer_id.asc())
            .limit(settings.batch_size)
            .select(deletion_job_items::customer_id)
            .load(conn)?;
        let Some(&last) = batch.last() else {
            finish(conn, job)?;
            return Ok(Step::Finished);
        };
        let existing = deletion::lock_existing(conn, &batch)?;
        let deleted = deletion::delete_locked(conn, &existing)?;
        diesel::update(deletion_jobs::table.find(job))
            .set((
                deletion_jobs::cursor.eq(last),
                deletion_jobs::processed.eq(deletion_jobs::processed + batch.len() as i64),
                deletion_jobs::customers.eq(deletion_jobs::customers + deleted.customers),
                deletion_jobs::tickets.eq(deletion_jobs::tickets + deleted.tickets),
                deletion_jobs::chats.eq(deletion_jobs::chats + deleted.chats),
                deletion_jobs::notes.eq(deletion_jobs::notes + deleted.notes),
            ))
            .execute(conn)?;
        let processed = deletion_jobs::table
            .find(job)
            .select(deletion_jobs::processed)
            .first(conn)?;
        Ok(Step::Progressed { processed })
    });
    match step {
        Ok(step) => {
            if matches!(step, Step::Progressed { .. }) {
                customers_changed();
            }
            Ok(step)
        }
        Err(StepError::LostLease) => Ok(Step::LostLease),
        Err(StepError::Database(error)) => Err(error),
    }
}

/// The last step, in the transaction of the batch that found nothing left: the deletion record
/// (with the totals and the actor) and the job marked done.
fn finish(conn: &mut DbConn, job: i64) -> QueryResult<()> {
    let (actor_id, actor_name, customers, tickets, chats, notes): (
        Option<i64>,
        String,
        i64,
        i64,
        i64,
        i64,
    ) = deletion_jobs::table
        .find(job)
        .select((
            deletion_jobs::actor_id,
            deletion_jobs::actor_name,
            deletion_jobs::customers,
            deletion_jobs::tickets,
            deletion_jobs::chats,
            deletion_jobs::notes,
        ))
        .first(conn)?;
    let counts = DeletionCounts {
        customers,
        tickets,
        tickets_in_trash: 0,
        chats,
        notes,
    };
    deletion::record_bulk(conn, actor_id, &actor_name, &counts, job)?;
    diesel::update(deletion_jobs::table.find(job))
        .set((
            deletion_jobs::status.eq("done"),
            deletion_jobs::finished_at.eq(Some(now())),
            deletion_jobs::lease_owner.eq(None::<String>),
            deletion_jobs::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// The background worker of one app instance. Dropping the handle stops it after its current
/// batch and waits for its thread, so that nothing is left using the database once it is gone.
pub struct Worker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes it if it is waiting for work.
        wake_workers();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Worker {
    pub fn spawn(pool: DbPool, settings: WorkerSettings) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        if !settings.enabled {
            return Self { stop, thread: None };
        }
        let stopping = stop.clone();
        let owner = format!("{}-{}", std::process::id(), random_token(6));
        let thread = std::thread::Builder::new()
            .name("deletion-worker".into())
            .spawn(move || {
                lower_priority();
                worker_loop(&pool, &owner, &settings, &stopping)
            })
            .expect("start the deletion worker thread");
        Self {
            stop,
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

fn worker_loop(pool: &DbPool, owner: &str, settings: &WorkerSettings, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let seen = *lock(&JOBS_QUEUED);
        let worked = pool
            .get()
            .map_err(anyhow::Error::from)
            .and_then(|mut conn| {
                let Some(job) = claim(&mut conn, owner, settings.lease)? else {
                    return Ok(false);
                };
                tracing::info!(job, owner, "deletion job claimed");
                loop {
                    if stop.load(Ordering::Relaxed) {
                        return Ok(true);
                    }
                    let started = Instant::now();
                    let requests = pacing::requests_received();
                    match run_batch(&mut conn, job, owner, settings)? {
                        Step::Progressed { processed } => {
                            tracing::debug!(job, processed, "deletion batch done");
                            let busy = pacing::rest_after(
                                started.elapsed(),
                                pacing::requests_received() - requests,
                            );
                            let rest = settings.pause.max(busy);
                            if !rest.is_zero() {
                                std::thread::sleep(rest);
                            }
                        }
                        Step::Finished => {
                            tracing::info!(job, "deletion job finished");
                            return Ok(true);
                        }
                        Step::LostLease => {
                            tracing::warn!(job, "deletion job taken over by another worker");
                            return Ok(true);
                        }
                    }
                }
            });
        match worked {
            Ok(true) => {}
            Ok(false) => wait_for_job(seen, settings.poll),
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "deletion worker: will retry");
                wait_for_job(seen, Duration::from_secs(1).max(settings.poll));
            }
        }
    }
}
