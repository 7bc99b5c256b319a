//! Starting a job: the confirmed selection frozen into its items, compared with what the
//! confirmation showed in the same transaction, or nothing.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::{confirmation, run, Confirmed, JobId, JobStatus};
use crate::customers::{has_open_ticket, selection_filter};
use crate::db::{now, write_transaction, DbConn, Dialect};
use crate::deletion::{related_of, Actor};
use crate::domain::selection::Selection;
use crate::schema::{customers, deletion_job_confirmations, deletion_job_items, deletion_jobs};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The set or what goes with it is not what the confirmation showed; nothing was started.
    #[error("the selection changed since it was confirmed")]
    Changed,
    #[error("nothing is selected")]
    Empty,
    /// Every confirmed customer is gone or being deleted: by this job, if one was started from
    /// the same set (a second tab of the same confirmation). Nothing was started or recorded.
    #[error("these customers were already deleted")]
    AlreadyDeleted { by_job: Option<JobId> },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

pub fn job_for_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<JobId>> {
    deletion_jobs::table
        .filter(deletion_jobs::confirmation_token.eq(token))
        .select(deletion_jobs::id)
        .first::<i64>(conn)
        .optional()
        .map(|job| job.map(JobId))
}

/// The newest job (other than `except`) started from a confirmation of exactly this set. Its
/// customers are deleted or being deleted: ids are never used again. A stopped job does not
/// count: the customers it did not reach are still there, and may be confirmed again.
pub fn job_for_digest(
    conn: &mut DbConn,
    digest: &str,
    except: Option<JobId>,
) -> QueryResult<Option<JobId>> {
    let stopped = deletion_jobs::table
        .filter(deletion_jobs::status.eq(JobStatus::Stopped.as_str()))
        .select(deletion_jobs::id);
    deletion_job_confirmations::table
        .filter(deletion_job_confirmations::digest.eq(digest))
        .filter(deletion_job_confirmations::job_id.ne(except.map_or(0, |job| job.0)))
        .filter(diesel::dsl::not(
            deletion_job_confirmations::job_id.eq_any(stopped),
        ))
        .order(deletion_job_confirmations::job_id.desc())
        .select(deletion_job_confirmations::job_id)
        .first::<i64>(conn)
        .optional()
        .map(|job| job.map(JobId))
}

/// Freezes the selection into a queued job, if it is still exactly what was confirmed: the same
/// customers (by digest) with the same counts of tickets, chats and notes. Submitting the same
/// confirmation again returns the job it started. With `skip_open_tickets`, only the customers
/// without an open ticket at this moment are frozen, and how many were kept must also be what
/// the confirmation showed (`confirmed.kept`). This instance's worker is woken for the job.
pub fn start(
    conn: &mut DbConn,
    state: &AppState,
    selection: &Selection,
    skip_open_tickets: bool,
    confirmed: &Confirmed,
    token: &str,
    actor: &Actor,
) -> Result<JobId, StartError> {
    let job = freeze(
        conn,
        selection,
        skip_open_tickets,
        confirmed,
        token,
        actor,
        None,
    )?;
    state.jobs.wake();
    Ok(job)
}

/// [`start`] without waking this instance's worker: for a caller that works the job itself
/// ([`inline`]) and wakes the worker only if it leaves the job to it. With `leased_to`, a new
/// job is created already running under that owner's lease, so that no worker polling
/// meanwhile takes it between its commit and the caller's first batch.
#[tracing::instrument(skip_all, fields(actor = ?actor.id, customers = confirmed.customers()))]
// The submitted confirmation's parts, as `start` takes them, and the optional lease.
#[allow(clippy::too_many_arguments)]
pub(super) fn freeze(
    conn: &mut DbConn,
    selection: &Selection,
    skip_open_tickets: bool,
    confirmed: &Confirmed,
    token: &str,
    actor: &Actor,
    leased_to: Option<(&str, std::time::Duration)>,
) -> Result<JobId, StartError> {
    let (status, lease_owner, lease_until) = match leased_to {
        Some((owner, lease)) => (JobStatus::Running, Some(owner), Some(run::lease_end(lease))),
        None => (JobStatus::Queued, None, None),
    };
    let started = write_transaction(conn, |conn| {
        if let DbConn::Pg(pg) = conn {
            // One start at a time, so that two tabs of one confirmation cannot both freeze the
            // same customers: the second sees the first's items as taken. (SQLite's write
            // transactions are already one at a time.)
            diesel::sql_query("LOCK TABLE deletion_jobs IN SHARE ROW EXCLUSIVE MODE")
                .execute(pg)?;
        }
        if let Some(job) = job_for_token(conn, token)? {
            return Ok(job);
        }
        if confirmed.customers() == 0 {
            return Err(StartError::Empty);
        }
        let busy = confirmation::unfinished_jobs(conn)?;
        let job: i64 = diesel::insert_into(deletion_jobs::table)
            .values((
                deletion_jobs::created_at.eq(now()),
                deletion_jobs::confirmation_token.eq(token),
                deletion_jobs::actor_id.eq(actor.id.map(|id| id.0)),
                deletion_jobs::actor_name.eq(&actor.name),
                deletion_jobs::status.eq(status.as_str()),
                deletion_jobs::lease_owner.eq(lease_owner),
                deletion_jobs::lease_until.eq(lease_until),
                deletion_jobs::total.eq(confirmed.customers()),
            ))
            .returning(deletion_jobs::id)
            .get_result(conn)?;
        diesel::insert_into(deletion_job_confirmations::table)
            .values((
                deletion_job_confirmations::job_id.eq(job),
                deletion_job_confirmations::digest.eq(&confirmed.digest),
            ))
            .execute(conn)?;
        let dialect = Dialect::of(conn);
        let frozen = customers::table
            .filter(confirmation::to_delete(
                selection_filter(selection, dialect),
                &busy,
                skip_open_tickets,
                dialect,
            ))
            .select((job.into_sql::<BigInt>(), customers::id, related_of()));
        diesel::insert_into(deletion_job_items::table)
            .values(frozen)
            .into_columns((
                deletion_job_items::job_id,
                deletion_job_items::customer_id,
                (
                    deletion_job_items::tickets,
                    deletion_job_items::tickets_in_trash,
                    deletion_job_items::chats,
                    deletion_job_items::notes,
                ),
            ))
            .execute(conn)?;
        let kept: i64 = if skip_open_tickets {
            customers::table
                .filter(confirmation::candidates(
                    selection_filter(selection, dialect),
                    &busy,
                ))
                .filter(has_open_ticket(dialect))
                .count()
                .get_result(conn)?
        } else {
            0
        };
        if kept > 0 {
            diesel::update(deletion_job_confirmations::table.find(job))
                .set(deletion_job_confirmations::kept_open_tickets.eq(kept))
                .execute(conn)?;
        }
        // Compare what was frozen, not a second look at the table: this is what will be deleted.
        let frozen = Confirmed {
            kept,
            ..confirmation::frozen(conn, job)?
        };
        if frozen.customers() == 0 {
            return Err(
                match job_for_digest(conn, &confirmed.digest, Some(JobId(job)))? {
                    Some(job) => StartError::AlreadyDeleted { by_job: Some(job) },
                    None => StartError::Changed,
                },
            );
        }
        if frozen != *confirmed {
            return Err(StartError::Changed);
        }
        Ok(JobId(job))
    });
    match started {
        // Two submissions of one confirmation at the same moment: the loser finds the winner's.
        Err(StartError::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => job_for_token(conn, token)?.ok_or(StartError::Changed),
        other => other,
    }
}
