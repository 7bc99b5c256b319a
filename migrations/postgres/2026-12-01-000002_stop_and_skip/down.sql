ALTER TABLE deletion_records DROP COLUMN kept_open_tickets;
ALTER TABLE deletion_records DROP COLUMN stopped;
ALTER TABLE deletion_records DROP COLUMN confirmed_customers;
ALTER TABLE deletion_job_confirmations DROP COLUMN kept_open_tickets;
DROP TABLE deletion_job_stops;
UPDATE deletion_jobs SET status = 'done' WHERE status = 'stopped';
ALTER TABLE deletion_jobs DROP CONSTRAINT deletion_jobs_status_check;
ALTER TABLE deletion_jobs ADD CONSTRAINT deletion_jobs_status_check
    CHECK (status IN ('queued', 'running', 'done'));
