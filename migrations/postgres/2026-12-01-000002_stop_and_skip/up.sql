-- Stop a running deletion, and skip customers with open tickets. Kept in step with the other
-- backend's migration of the same name. Which customers have an open ticket is answered from
-- tickets_customer_open_idx (migration 2026-12-01-000001_last_active).

-- A job can end "stopped".
ALTER TABLE deletion_jobs DROP CONSTRAINT deletion_jobs_status_check;
ALTER TABLE deletion_jobs ADD CONSTRAINT deletion_jobs_status_check
    CHECK (status IN ('queued', 'running', 'done', 'stopped'));

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
