//! Working a job: claiming it under a lease, deleting it batch by batch, and finishing it with
//! the deletion record: done when nothing is left, stopped when a stop was requested.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::{stop, JobId, JobStatus};
use crate::db::{now, DbConn};
use crate::deletion::{self, RelatedSums};
use crate::domain::deletion_counts::DeletionCounts;
use crate::domain::ids::AgentId;
use crate::schema::{deletion_job_items, deletion_jobs};
use crate::state::AppState;

use super::WorkerSettings;

pub(super) fn lease_end(lease: Duration) -> NaiveDateTime {
    now() + TimeDelta::milliseconds(lease.as_millis() as i64)
}

fn unfinished() -> [&'static str; 2] {
    JobStatus::UNFINISHED.map(JobStatus::as_str)
}

/// Takes the oldest unfinished job whose lease is free or expired (one asked to stop too: its
/// next batch ends it).
pub fn claim(conn: &mut DbConn, owner: &str, lease: Duration) -> QueryResult<Option<JobId>> {
    let at = now();
    let candidates: Vec<i64> = deletion_jobs::table
        .filter(deletion_jobs::status.eq_any(unfinished()))
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
                .filter(deletion_jobs::status.eq_any(unfinished()))
                .filter(
                    deletion_jobs::lease_until
                        .is_null()
                        .or(deletion_jobs::lease_until.lt(at)),
                ),
        )
        .set((
            deletion_jobs::status.eq(JobStatus::Running.as_str()),
            deletion_jobs::lease_owner.eq(Some(owner)),
            deletion_jobs::lease_until.eq(Some(lease_end(lease))),
        ))
        .execute(conn)?;
        if claimed == 1 {
            return Ok(Some(JobId(job)));
        }
    }
    Ok(None)
}

/// Takes this job if it is unfinished and its lease is free or expired (the command line works
/// the job it started; a serving instance's worker may have taken it first).
pub fn claim_job(conn: &mut DbConn, job: JobId, owner: &str, lease: Duration) -> QueryResult<bool> {
    let at = now();
    let claimed = diesel::update(
        deletion_jobs::table
            .find(job.0)
            .filter(deletion_jobs::status.eq_any(unfinished()))
            .filter(
                deletion_jobs::lease_until
                    .is_null()
                    .or(deletion_jobs::lease_until.lt(at)),
            ),
    )
    .set((
        deletion_jobs::status.eq(JobStatus::Running.as_str()),
        deletion_jobs::lease_owner.eq(Some(owner)),
        deletion_jobs::lease_until.eq(Some(lease_end(lease))),
    ))
    .execute(conn)?;
    Ok(claimed == 1)
}

/// Whether `owner` holds the job's lease now (e.g. it was frozen already leased to it).
pub fn leased_to(conn: &mut DbConn, job: JobId, owner: &str) -> QueryResult<bool> {
    let held: i64 = deletion_jobs::table
        .find(job.0)
        .filter(deletion_jobs::lease_owner.eq(owner))
        .filter(deletion_jobs::status.eq_any(unfinished()))
        .filter(deletion_jobs::lease_until.gt(now()))
        .count()
        .get_result(conn)?;
    Ok(held == 1)
}

/// Gives a job back when its worker stops gracefully (between batches), so that another
/// instance, or this one restarted, takes it at once instead of after the lease.
pub fn release(conn: &mut DbConn, job: JobId, owner: &str) -> QueryResult<()> {
    diesel::update(
        deletion_jobs::table
            .find(job.0)
            .filter(deletion_jobs::lease_owner.eq(owner))
            .filter(deletion_jobs::status.eq_any(unfinished())),
    )
    .set((
        deletion_jobs::status.eq(JobStatus::Queued.as_str()),
        deletion_jobs::lease_owner.eq(None::<String>),
        deletion_jobs::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
    .map(drop)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A batch was deleted; there may be more.
    Progressed { processed: i64 },
    /// Nothing was left: the record is written and the job is done.
    Finished,
    /// A stop was requested: the record (of what was deleted so far) is written and the job is
    /// stopped; the customers not reached stay whole.
    Stopped,
    /// The job is no longer this worker's (another took it over after its lease ran out, or it
    /// was stopped meanwhile); stop working on it.
    LostLease,
}

#[derive(Debug, thiserror::Error)]
enum StepError {
    #[error("lease lost")]
    LostLease,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Deletes the next batch of a job held by `owner`, all in one transaction: as many of its
/// customers as `settings.batch_size`.
pub fn run_batch(
    conn: &mut DbConn,
    state: &AppState,
    job: JobId,
    owner: &str,
    settings: &WorkerSettings,
) -> QueryResult<Step> {
    run_batch_of(conn, state, job, owner, settings, settings.batch_size)
}

/// [`run_batch`] of at most `customers` customers (the worker sizes its batches: `pacing`).
#[tracing::instrument(skip(conn, state, settings))]
pub fn run_batch_of(
    conn: &mut DbConn,
    state: &AppState,
    job: JobId,
    owner: &str,
    settings: &WorkerSettings,
    customers: i64,
) -> QueryResult<Step> {
    let job = job.0;
    let mut deleted_now = None;
    // The customers deleted are logged for the list caches before the commit.
    let step = state.write_customers(conn, |conn| -> Result<(Step, Vec<i64>), StepError> {
        // Renewing the lease first also checks that the job is still ours (and, on PostgreSQL,
        // locks its row: a stop request waits for this batch and then finds the lease live).
        let renewed = diesel::update(
            deletion_jobs::table
                .find(job)
                .filter(deletion_jobs::lease_owner.eq(owner))
                .filter(deletion_jobs::status.eq_any(unfinished())),
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
            .limit(customers.max(1))
            .select(deletion_job_items::customer_id)
            .load(conn)?;
        let Some(&last) = batch.last() else {
            finish(conn, job, JobStatus::Done)?;
            return Ok((Step::Finished, Vec::new()));
        };
        // Checked once the batch is known not to be empty: a stop asked after the last batch
        // leaves a job that is simply done.
        if stop::requested(conn, JobId(job))? {
            finish(conn, job, JobStatus::Stopped)?;
            return Ok((Step::Stopped, Vec::new()));
        }
        let existing = deletion::lock_existing(conn, &batch)?;
        let frozen = frozen_counts(conn, job, &existing)?;
        let deleted = deletion::delete_locked(conn, &existing)?;
        deleted_now = Some(deleted);
        // More than was frozen with these customers arrived after the confirmation; it went
        // with them (a customer is never half deleted) and the summary says so.
        let added = |deleted: i64, frozen: i64| (deleted - frozen).max(0);
        let (tickets, chats, notes) = (
            added(deleted.tickets, frozen.tickets),
            added(deleted.chats, frozen.chats),
            added(deleted.notes, frozen.notes),
        );
        if tickets + chats + notes > 0 {
            use crate::schema::deletion_job_confirmations as confirmations;
            diesel::update(confirmations::table.find(job))
                .set((
                    confirmations::tickets_added.eq(confirmations::tickets_added + tickets),
                    confirmations::chats_added.eq(confirmations::chats_added + chats),
                    confirmations::notes_added.eq(confirmations::notes_added + notes),
                ))
                .execute(conn)?;
        }
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
        Ok((Step::Progressed { processed }, existing))
    });
    match step {
        Ok(step) => {
            // Counted once committed.
            if let Some(deleted) = &deleted_now {
                crate::telemetry::deleted("bulk", deleted);
            }
            Ok(step)
        }
        Err(StepError::LostLease) => Ok(Step::LostLease),
        Err(StepError::Database(error)) => Err(error),
    }
}

type Sum = diesel::expression::SqlLiteral<diesel::sql_types::BigInt>;

/// The frozen per-customer counts of items, summed (cast: SUM is NUMERIC on PostgreSQL).
fn item_sums() -> (Sum, Sum, Sum, Sum) {
    let [tickets, trashed, chats, notes] = ["tickets", "tickets_in_trash", "chats", "notes"]
        .map(|column| diesel::dsl::sql(&format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)")));
    (tickets, trashed, chats, notes)
}

/// What these items of a job had when they were frozen.
fn frozen_counts(conn: &mut DbConn, job: i64, ids: &[i64]) -> QueryResult<DeletionCounts> {
    if ids.is_empty() {
        return Ok(DeletionCounts::default());
    }
    let (customers, related) = deletion_job_items::table
        .filter(deletion_job_items::job_id.eq(job))
        .filter(deletion_job_items::customer_id.eq_any(ids))
        .select((count_star(), item_sums()))
        .get_result::<(i64, RelatedSums)>(conn)?;
    Ok(deletion::related_counts(customers, related))
}

/// The last step, in the transaction of the batch that found nothing left (`Done`) or a stop
/// request (`Stopped`): the deletion record (with the totals so far, the actor, and how the job
/// ended) and the job marked as `outcome`.
pub(super) fn finish(conn: &mut DbConn, job: i64, outcome: JobStatus) -> QueryResult<()> {
    debug_assert!(outcome.is_finished());
    let (actor_id, actor_name, (customers, tickets, chats, notes), total): (
        Option<i64>,
        String,
        (i64, i64, i64, i64),
        i64,
    ) = deletion_jobs::table
        .find(job)
        .select((
            deletion_jobs::actor_id,
            deletion_jobs::actor_name,
            (
                deletion_jobs::customers,
                deletion_jobs::tickets,
                deletion_jobs::chats,
                deletion_jobs::notes,
            ),
            deletion_jobs::total,
        ))
        .first(conn)?;
    use crate::schema::deletion_job_confirmations as confirmations;
    let kept_open_tickets: i64 = confirmations::table
        .find(job)
        .select(confirmations::kept_open_tickets)
        .first(conn)
        .optional()?
        .unwrap_or(0);
    let counts = DeletionCounts {
        customers,
        tickets,
        tickets_in_trash: 0,
        chats,
        notes,
    };
    deletion::record(
        conn,
        actor_id.map(AgentId),
        &actor_name,
        &counts,
        deletion::RecordOf::Bulk {
            job: JobId(job),
            confirmed: total,
            kept_open_tickets,
            stopped: outcome == JobStatus::Stopped,
        },
    )?;
    diesel::update(deletion_jobs::table.find(job))
        .set((
            deletion_jobs::status.eq(outcome.as_str()),
            deletion_jobs::finished_at.eq(Some(now())),
            deletion_jobs::lease_owner.eq(None::<String>),
            deletion_jobs::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}
