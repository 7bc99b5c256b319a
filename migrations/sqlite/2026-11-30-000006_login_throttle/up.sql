-- Sign-in throttling by key: `email:<lowercased email>` for browsers without a device cookie,
-- `device:<nonce>` for a browser that has signed in to that account before. Each attempt is
-- counted atomically (one upsert) before the password is checked; a success deletes the row.
-- Rows exist only for emails that belong to an account. Replaces login_failures.
DROP TABLE login_failures;
CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY NOT NULL,
    window_start TIMESTAMP NOT NULL,
    attempts     BIGINT NOT NULL
);
CREATE INDEX login_throttle_window_idx ON login_throttle (window_start);
