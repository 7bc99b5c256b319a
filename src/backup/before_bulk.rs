//! `serve --backup-before-bulk N`: on SQLite, before a bulk deletion of more than N customers
//! deletes its first customer, the worker writes a backup (see `mod.rs`) into a directory of
//! its own and records the file with the job, so that the job page and the deletion history
//! name it. No backup, no deletion: if it cannot be written the job waits and is retried.

use std::path::PathBuf;

use diesel::prelude::*;

use super::BackupError;
use crate::db::{now, DbConn};
use crate::domain::ids::JobId;
use crate::schema::{deletion_job_backups, deletion_jobs};

#[derive(Debug, Clone)]
pub struct BackupBeforeBulk {
    /// A job of more customers than this gets a backup first.
    pub above: i64,
    /// Where the backups go (created if missing).
    pub dir: PathBuf,
}

/// Writes the job's backup if it needs one and has none yet; returns its file.
pub fn ensure(
    conn: &mut DbConn,
    job: JobId,
    settings: &BackupBeforeBulk,
) -> Result<Option<String>, BackupError> {
    if matches!(conn, DbConn::Pg(_)) {
        return Ok(None);
    }
    let (total, processed): (i64, i64) = deletion_jobs::table
        .find(job.0)
        .select((deletion_jobs::total, deletion_jobs::processed))
        .first(conn)?;
    // A job resumed after a crash has deleted already: a backup now would not be "before".
    if total <= settings.above || processed > 0 || file_of(conn, job)?.is_some() {
        return Ok(None);
    }
    std::fs::create_dir_all(&settings.dir).map_err(|e| BackupError::Write {
        path: settings.dir.clone(),
        source: diesel::result::Error::QueryBuilderError(e.into()),
    })?;
    let name = format!(
        "customer-desk-before-deletion-{}-{}.sqlite3",
        job.0,
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    let path = settings.dir.join(name);
    let written = super::write(conn, &path);
    crate::telemetry::backup(written.is_ok());
    let backup = written?;
    let file = backup.path.to_string_lossy().into_owned();
    diesel::insert_into(deletion_job_backups::table)
        .values((
            deletion_job_backups::job_id.eq(job.0),
            deletion_job_backups::file.eq(&file),
            deletion_job_backups::bytes.eq(backup.bytes as i64),
            deletion_job_backups::written_at.eq(now()),
        ))
        .execute(conn)?;
    tracing::info!(
        job = job.0,
        file,
        bytes = backup.bytes,
        "backup written before the bulk deletion"
    );
    Ok(Some(file))
}

/// The backup written before this job, if any.
pub fn file_of(conn: &mut DbConn, job: JobId) -> QueryResult<Option<String>> {
    deletion_job_backups::table
        .find(job.0)
        .select(deletion_job_backups::file)
        .first(conn)
        .optional()
}
