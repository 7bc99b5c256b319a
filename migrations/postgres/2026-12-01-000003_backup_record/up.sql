-- The backup written before a bulk deletion started (serve --backup-before-bulk, SQLite only):
-- its file name is shown with the job and in the deletion history.
CREATE TABLE deletion_job_backups (
    job_id BIGINT PRIMARY KEY NOT NULL REFERENCES deletion_jobs (id) ON DELETE CASCADE,
    file TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    written_at TIMESTAMP NOT NULL
);
