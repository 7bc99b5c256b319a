-- What you confirm is what is deleted. A bulk deletion job keeps what its confirmation named
-- (a SHA-256 digest of the ordered customer ids; a second tab of the same confirmation finds the
-- job by it), and each frozen item keeps its customer's counts at that moment, so that data
-- arriving later for a customer already frozen (deleted with it, never half) is counted apart
-- and reported. Kept in step with the other backend's migration of the same name.
CREATE TABLE deletion_job_confirmations (
    job_id        BIGINT PRIMARY KEY NOT NULL REFERENCES deletion_jobs (id) ON DELETE CASCADE,
    digest        TEXT NOT NULL,
    tickets_added BIGINT NOT NULL DEFAULT 0,
    chats_added   BIGINT NOT NULL DEFAULT 0,
    notes_added   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX deletion_job_confirmations_digest_idx ON deletion_job_confirmations (digest);

ALTER TABLE deletion_job_items ADD COLUMN tickets BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deletion_job_items ADD COLUMN tickets_in_trash BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deletion_job_items ADD COLUMN chats BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deletion_job_items ADD COLUMN notes BIGINT NOT NULL DEFAULT 0;
