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
mod start;
pub mod stop;
mod summary;
pub mod worker;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::{coalesce, on_own_connection, DbConn};
use crate::domain::deletion_counts::DeletionCounts;
pub use crate::domain::ids::JobId;
use crate::schema::{deletion_job_confirmations, deletion_jobs};

pub use confirmation::Confirmed;
pub use inline::{start_and_finish, Started};
pub use run::{claim, claim_job, run_batch, Step};
use start::freeze;
pub use start::{job_for_digest, job_for_token, start, StartError};
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
        .order(deletion_jobs::id.asc());
    match one {
        Some(job) => query.filter(deletion_jobs::id.eq(job.0)).load(conn),
        None => {
            let [first, second] = JobStatus::UNFINISHED.map(JobStatus::as_str);
            // Every list page asks this: not boxed, so that its statement is kept by its type,
            // and on the backend's own connection, which does not write its SQL again to find
            // it; `status = ? OR status = ?`, since diesel never keeps `IN (?, ?)`.
            let unfinished = deletion_jobs::status
                .eq(first)
                .or(deletion_jobs::status.eq(second));
            on_own_connection!(conn, |own| query.filter(unfinished).load(own))
        }
    }
}
