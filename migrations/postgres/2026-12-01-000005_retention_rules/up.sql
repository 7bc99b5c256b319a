-- Retention rules: who to delete on a schedule ("inactive for N months", organisation is / is
-- not, created before, keep customers with open tickets). Each active rule runs once per
-- interval on one instance (lease_owner/lease_until, like deletion_jobs), as an ordinary
-- deletion job. Kept in step with ../../sqlite.
CREATE TABLE retention_rules (
    id                  BIGSERIAL PRIMARY KEY,
    -- Unique case-insensitively (retention_rules_name_key).
    name                TEXT NOT NULL,
    inactive_months     INTEGER NOT NULL CHECK (inactive_months BETWEEN 1 AND 1200),
    organisation        TEXT,
    organisation_not    TEXT,
    created_before      TIMESTAMP,
    keep_open_tickets   BOOLEAN NOT NULL DEFAULT TRUE,
    -- Safety limit: a run that would delete more than max_customers, or more than
    -- max_percent of all customers, pauses the rule instead of deleting.
    max_customers       BIGINT NOT NULL DEFAULT 10000 CHECK (max_customers >= 1),
    max_percent         INTEGER NOT NULL DEFAULT 10 CHECK (max_percent BETWEEN 1 AND 100),
    state               TEXT NOT NULL DEFAULT 'inactive' CHECK (state IN ('inactive', 'active', 'paused')),
    -- Why a paused rule paused (shown until an administrator confirms that run).
    paused_reason       TEXT,
    -- Bumped by every edit: a confirmation of an older version of the rule is refused.
    version             BIGINT NOT NULL DEFAULT 1,
    -- The administrator who last activated it (or confirmed a paused run): the runs' actor id.
    activated_by        BIGINT REFERENCES agents (id) ON DELETE SET NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX retention_rules_name_key ON retention_rules (lower(name));
CREATE INDEX retention_rules_state_idx ON retention_rules (state);
CREATE INDEX retention_rules_activated_by_idx ON retention_rules (activated_by);

-- A rule's runs, one row per rule: the last run and the lease of the instance starting the
-- next one.
CREATE TABLE retention_runs (
    rule_id             BIGINT PRIMARY KEY REFERENCES retention_rules (id) ON DELETE CASCADE,
    last_run_at         TIMESTAMP,
    -- The deletion job of the last run (none when it found nobody to delete).
    last_job_id         BIGINT REFERENCES deletion_jobs (id) ON DELETE SET NULL,
    lease_owner         TEXT,
    lease_until         TIMESTAMP
);
CREATE INDEX retention_runs_last_job_idx ON retention_runs (last_job_id);
