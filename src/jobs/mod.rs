//! Bulk deletion as a persisted job: the confirmed set is frozen when the administrator
//! confirms, then a background worker deletes it in batches. Knows nothing of HTTP.
//!
//! - What you confirm is what is deleted ([`confirmation`]): the confirmation carries a SHA-256
//!   digest of the exact set it showed and the counts of what goes with it; on submit the set is
//!   frozen into the job's items, with each customer's counts, and compared in the same
//!   transaction. Any difference and nothing happens.
//! - No customer is ever half deleted ([`run`]): each batch deletes its customers with all their
//!   data, advances the job's cursor and adds to its totals in one transaction. Data that arrived
//!   for a frozen customer after the confirmation goes with that customer and is reported.
//! - Crash safety ([`worker`]): a job is worked under a lease (owner, expiry) renewed by every
//!   batch; after a crash, or on another instance, the job is taken over when the lease runs out
//!   and resumes at its cursor.
//! - Stopping ([`stop`]): a stop request is written on the job, so whichever instance works it
//!   ends it after its current batch, as "stopped"; the customers not reached stay whole.

pub mod confirmation;
pub mod inline;
pub mod run;
pub mod stop;
mod summary;
pub mod worker;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::customers::{has_open_ticket, selection_filter};
use crate::db::{coalesce, now, write_transaction, DbConn, Dialect};
use crate::deletion::{related_of, Actor};
use crate::domain::deletion_counts::DeletionCounts;
pub use crate::domain::ids::JobId;
use crate::domain::selection::Selection;
use crate::schema::{customers, deletion_job_confirmations, deletion_job_items, deletion_jobs};
use crate::state::AppState;

pub use confirmation::Confirmed;
pub use inline::{start_and_finish, Started};
pub use run::{claim, claim_job, run_batch, Step};
pub use stop::{request_stop, StopOutcome};
pub use worker::{Worker, WorkerSettings};

/// Where a job is: queued (frozen, waiting for a worker), running (under a lease), done (every
/// customer worked, record written) or stopped (ended early on request, record written). Stored
/// as its `as_str`; the only place these words are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Stopped,
}

impl JobStatus {
    /// A job in these holds its customers and may still delete some.
    pub const UNFINISHED: [Self; 2] = [Self::Queued, Self::Running];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Stopped => "stopped",
        }
    }

    pub fn is_finished(self) -> bool {
        !Self::UNFINISHED.contains(&self)
    }
}

impl TryFrom<String> for JobStatus {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        [Self::Queued, Self::Running, Self::Done, Self::Stopped]
            .into_iter()
            .find(|status| status.as_str() == value)
            .ok_or_else(|| format!("unknown job status {value:?}"))
    }
}

/// A job as the pages show it: its row, with what its confirmation kept and its stop request.
/// Read by [`load`], field by field in this order.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Job {
    #[diesel(deserialize_as = i64)]
    pub id: JobId,
    pub created_at: NaiveDateTime,
    pub actor_name: String,
    #[diesel(deserialize_as = String)]
    pub status: JobStatus,
    pub total: i64,
    pub processed: i64,
    pub customers: i64,
    pub tickets: i64,
    pub chats: i64,
    pub notes: i64,
    pub finished_at: Option<NaiveDateTime>,
    /// Customers of the selection kept because they had an open ticket when the job was frozen.
    pub kept_open_tickets: i64,
    pub stop_requested_at: Option<NaiveDateTime>,
    pub stop_requested_by: Option<String>,
}

impl Job {
    /// Every customer worked (not stopped).
    pub fn is_done(&self) -> bool {
        self.status == JobStatus::Done
    }

    pub fn is_stopped(&self) -> bool {
        self.status == JobStatus::Stopped
    }

    /// Done or stopped: it deletes nothing more.
    pub fn is_finished(&self) -> bool {
        self.status.is_finished()
    }

    /// Asked to stop, and not finished yet: it ends after its current batch.
    pub fn is_stopping(&self) -> bool {
        !self.is_finished() && self.stop_requested_at.is_some()
    }

    /// Whether "Stop deletion" is offered.
    pub fn can_stop(&self) -> bool {
        !self.is_finished() && self.stop_requested_at.is_none()
    }

    /// Customers of the job not reached (stay whole when it is stopped).
    pub fn not_reached(&self) -> i64 {
        self.total - self.processed
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

/// What arrived for a job's customers after the confirmation and went with them (customers
/// and tickets in the trash are not counted: always 0).
pub fn added_after_confirmation(conn: &mut DbConn, job: JobId) -> QueryResult<DeletionCounts> {
    let added: Option<(i64, i64, i64)> = deletion_job_confirmations::table
        .find(job.0)
        .select((
            deletion_job_confirmations::tickets_added,
            deletion_job_confirmations::chats_added,
            deletion_job_confirmations::notes_added,
        ))
        .first(conn)
        .optional()?;
    let (tickets, chats, notes) = added.unwrap_or_default();
    Ok(DeletionCounts {
        customers: 0,
        tickets,
        tickets_in_trash: 0,
        chats,
        notes,
    })
}

pub fn find(conn: &mut DbConn, id: JobId) -> QueryResult<Option<Job>> {
    Ok(load(conn, Some(id))?.into_iter().next())
}

/// Jobs not finished yet, oldest first.
pub fn active(conn: &mut DbConn) -> QueryResult<Vec<Job>> {
    load(conn, None)
}

/// One job, or (`None`) every unfinished job, oldest first.
fn load(conn: &mut DbConn, one: Option<JobId>) -> QueryResult<Vec<Job>> {
    use crate::schema::deletion_job_stops as stops;
    let query = deletion_jobs::table
        .left_join(deletion_job_confirmations::table)
        .left_join(stops::table)
        .select((
            deletion_jobs::id,
            deletion_jobs::created_at,
            deletion_jobs::actor_name,
            deletion_jobs::status,
            deletion_jobs::total,
            deletion_jobs::processed,
            deletion_jobs::customers,
            deletion_jobs::tickets,
            deletion_jobs::chats,
            deletion_jobs::notes,
            deletion_jobs::finished_at,
            // Jobs from before confirmations were kept have none: nothing was kept.
            coalesce(deletion_job_confirmations::kept_open_tickets.nullable(), 0),
            stops::requested_at.nullable(),
            stops::requested_by.nullable(),
        ))
        .order(deletion_jobs::id.asc())
        .into_boxed();
    match one {
        Some(job) => query.filter(deletion_jobs::id.eq(job.0)).load(conn),
        // `status = ? OR status = ?`, not diesel's `IN (?, ?)`: its statement is then kept
        // prepared (this runs on every list page).
        None => JobStatus::UNFINISHED
            .iter()
            .fold(query, |query, status| {
                query.or_filter(deletion_jobs::status.eq(status.as_str()))
            })
            .load(conn),
    }
}

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
fn freeze(
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
