//! Stopping a deletion job. The request is written in the database (`deletion_job_stops`, one
//! row per job), so that whichever instance works the job sees it: its next batch, instead of deleting, writes the record of what was
//! deleted so far and marks the job stopped ([`run_batch`](super::run_batch)). Customers not
//! reached stay whole: a batch deletes its customers with all their data or not at all.
//!
//! A job that no worker holds (queued and never claimed, or whose worker died and whose lease
//! ran out) is stopped at once, in the request's own transaction. Stopping is idempotent: a job
//! already stopped, finished, or asked to stop changes nothing more, and says which.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::run::finish;
use super::{JobId, JobStatus};
use crate::db::{now, write_transaction, DbConn};
use crate::schema::{deletion_job_stops, deletion_jobs};

/// What a stop request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopOutcome {
    /// A worker holds the job: it ends after its current batch.
    Requested,
    /// No worker held the job: it is stopped now (record written).
    StoppedNow,
    /// Asked to stop before, by someone: it ends after its current batch; nothing more changed.
    AlreadyRequested,
    /// Done or stopped already; nothing changed.
    AlreadyFinished(JobStatus),
}

impl StopOutcome {
    /// What to tell the person who asked.
    pub fn message(self) -> &'static str {
        match self {
            Self::Requested => {
                "Stopping: the deletion ends after its current batch. Customers already deleted \
                 stay deleted; the others stay as they are."
            }
            Self::StoppedNow => {
                "Deletion stopped. Customers already deleted stay deleted; the others stay as \
                 they are."
            }
            Self::AlreadyRequested => {
                "This deletion was already asked to stop; it ends after its current batch."
            }
            Self::AlreadyFinished(JobStatus::Stopped) => {
                "This deletion was already stopped; nothing more changed."
            }
            Self::AlreadyFinished(_) => {
                "This deletion had already finished, so there was nothing to stop."
            }
        }
    }
}

/// Asks job `job` to stop, on behalf of `by` (the name shown on the job: an administrator's,
/// or "command line (user)"). `None`: there is no such job.
#[tracing::instrument(skip(conn))]
pub fn request_stop(conn: &mut DbConn, job: JobId, by: &str) -> QueryResult<Option<StopOutcome>> {
    write_transaction(conn, |conn| {
        let Some((status, lease_until)) = lock_job(conn, job)? else {
            return Ok(None);
        };
        let status = JobStatus::try_from(status)
            .map_err(|error| diesel::result::Error::DeserializationError(error.into()))?;
        if status.is_finished() {
            return Ok(Some(StopOutcome::AlreadyFinished(status)));
        }
        let requested = requested(conn, job)?;
        if !requested {
            diesel::insert_into(deletion_job_stops::table)
                .values((
                    deletion_job_stops::job_id.eq(job.0),
                    deletion_job_stops::requested_at.eq(now()),
                    deletion_job_stops::requested_by.eq(by),
                ))
                .execute(conn)?;
        }
        // Nobody works it (never claimed, or its worker's lease ran out): nothing is in flight,
        // so it ends here. Otherwise the worker holding it ends it after its batch; a worker
        // whose lease expired finds the job no longer its own.
        let held = lease_until.is_some_and(|until| until >= now());
        if !held {
            finish(conn, job.0, JobStatus::Stopped)?;
            return Ok(Some(StopOutcome::StoppedNow));
        }
        Ok(Some(if !requested {
            StopOutcome::Requested
        } else {
            StopOutcome::AlreadyRequested
        }))
    })
}

/// Whether a stop was asked for this job.
pub(super) fn requested(conn: &mut DbConn, job: JobId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(deletion_job_stops::table.find(job.0))).get_result(conn)
}

type JobState = (String, Option<NaiveDateTime>);

/// The job's status and lease, its row locked until the transaction ends (on
/// PostgreSQL; SQLite's write transaction holds the whole database): a batch in flight finishes
/// first, and a worker cannot claim the job meanwhile.
fn lock_job(conn: &mut DbConn, job: JobId) -> QueryResult<Option<JobState>> {
    let query = deletion_jobs::table
        .find(job.0)
        .select((deletion_jobs::status, deletion_jobs::lease_until));
    match conn {
        DbConn::Pg(pg) => query.for_update().first(pg).optional(),
        DbConn::Sqlite(_) => query.first(conn).optional(),
    }
}
