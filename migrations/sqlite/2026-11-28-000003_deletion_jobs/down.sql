DROP INDEX deletion_records_job_idx;
ALTER TABLE deletion_records DROP COLUMN job_id;
DROP TABLE deletion_job_items;
DROP TABLE deletion_jobs;
