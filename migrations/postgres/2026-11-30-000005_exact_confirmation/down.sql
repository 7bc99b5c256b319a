ALTER TABLE deletion_job_items DROP COLUMN notes;
ALTER TABLE deletion_job_items DROP COLUMN chats;
ALTER TABLE deletion_job_items DROP COLUMN tickets_in_trash;
ALTER TABLE deletion_job_items DROP COLUMN tickets;
DROP TABLE deletion_job_confirmations;
