ALTER TABLE deletion_records DROP COLUMN kept_open_tickets;
ALTER TABLE deletion_records DROP COLUMN stopped;
ALTER TABLE deletion_records DROP COLUMN confirmed_customers;
ALTER TABLE deletion_job_confirmations DROP COLUMN kept_open_tickets;
DROP TABLE deletion_job_stops;
-- A stopped job reads as done to the older schema (its record is written).
ALTER TABLE deletion_jobs ADD COLUMN old_status TEXT NOT NULL DEFAULT 'queued'
    CHECK (old_status IN ('queued', 'running', 'done'));
UPDATE deletion_jobs SET old_status = CASE status WHEN 'stopped' THEN 'done' ELSE status END;
DROP INDEX deletion_jobs_status_idx;
ALTER TABLE deletion_jobs DROP COLUMN status;
ALTER TABLE deletion_jobs RENAME COLUMN old_status TO status;
CREATE INDEX deletion_jobs_status_idx ON deletion_jobs (status, id);
