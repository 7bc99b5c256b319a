-- Bulk deletions run as persisted jobs: the confirmed set is frozen in deletion_job_items when
-- the administrator confirms, and a worker deletes it in batches. A job is worked by one
-- instance at a time (lease_owner/lease_until); a job whose instance died is taken over when its
-- lease runs out. Kept in step with ../../sqlite.
CREATE TABLE deletion_jobs (
    id                 BIGSERIAL PRIMARY KEY,
    created_at         TIMESTAMP NOT NULL,
    -- The confirmation form's one-time token: a replayed or double-submitted confirmation finds
    -- its job instead of starting another.
    confirmation_token TEXT NOT NULL,
    actor_id           BIGINT REFERENCES agents (id) ON DELETE SET NULL,
    actor_name         TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done')),
    total              BIGINT NOT NULL,
    -- Items are worked in customer-id order; everything up to the cursor is done.
    cursor             BIGINT NOT NULL DEFAULT 0,
    processed          BIGINT NOT NULL DEFAULT 0,
    customers          BIGINT NOT NULL DEFAULT 0,
    tickets            BIGINT NOT NULL DEFAULT 0,
    chats              BIGINT NOT NULL DEFAULT 0,
    notes              BIGINT NOT NULL DEFAULT 0,
    lease_owner        TEXT,
    lease_until        TIMESTAMP,
    finished_at        TIMESTAMP
);
CREATE UNIQUE INDEX deletion_jobs_token_key ON deletion_jobs (confirmation_token);
CREATE INDEX deletion_jobs_status_idx ON deletion_jobs (status, id);
CREATE INDEX deletion_jobs_actor_idx ON deletion_jobs (actor_id);

-- No foreign key to customers: an item whose customer is already gone (deleted by someone else)
-- is simply counted as processed, not deleted.
CREATE TABLE deletion_job_items (
    job_id      BIGINT NOT NULL REFERENCES deletion_jobs (id) ON DELETE CASCADE,
    customer_id BIGINT NOT NULL,
    PRIMARY KEY (job_id, customer_id)
);

-- A bulk deletion's record points at its job, whose items keep the deleted ids.
ALTER TABLE deletion_records ADD COLUMN job_id BIGINT REFERENCES deletion_jobs (id) ON DELETE SET NULL;
CREATE INDEX deletion_records_job_idx ON deletion_records (job_id);
