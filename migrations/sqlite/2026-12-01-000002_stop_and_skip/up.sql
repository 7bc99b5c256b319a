-- Stop a running deletion, and skip customers with open tickets. Kept in step with the other
-- backend's migration of the same name. Which customers have an open ticket is answered from
-- tickets_customer_open_idx (migration 2026-12-01-000001_last_active).
--
-- A job can end "stopped": SQLite cannot change a CHECK constraint in place, so the status
-- column is replaced by one that allows it (copied, the old one dropped, the new one renamed;
-- the jobs' ids, and so every row that points at them, stay as they are).
ALTER TABLE deletion_jobs ADD COLUMN new_status TEXT NOT NULL DEFAULT 'queued'
    CHECK (new_status IN ('queued', 'running', 'done', 'stopped'));
UPDATE deletion_jobs SET new_status = status;
DROP INDEX deletion_jobs_status_idx;
ALTER TABLE deletion_jobs DROP COLUMN status;
ALTER TABLE deletion_jobs RENAME COLUMN new_status TO status;
CREATE INDEX deletion_jobs_status_idx ON deletion_jobs (status, id);

-- A stop is asked for by writing a row here (deletion_jobs is at Diesel's 16 columns); whichever
-- instance works the job sees it after its current batch.
CREATE TABLE deletion_job_stops (
    job_id       BIGINT PRIMARY KEY NOT NULL REFERENCES deletion_jobs (id) ON DELETE CASCADE,
    requested_at TIMESTAMP NOT NULL,
    requested_by TEXT NOT NULL
);
-- Customers of the confirmed selection left out because they had an open ticket at freeze time:
-- part of what the confirmation named.
ALTER TABLE deletion_job_confirmations ADD COLUMN kept_open_tickets BIGINT NOT NULL DEFAULT 0;

-- A bulk record says how its job ended: how many customers it was to delete, whether it was
-- stopped before the end, and how many customers with open tickets were kept.
ALTER TABLE deletion_records ADD COLUMN confirmed_customers BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deletion_records ADD COLUMN stopped BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE deletion_records ADD COLUMN kept_open_tickets BIGINT NOT NULL DEFAULT 0;
