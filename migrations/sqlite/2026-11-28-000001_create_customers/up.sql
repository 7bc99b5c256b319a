-- Customer Desk schema (SQLite). Kept in step with ../../postgres: same tables, columns and
-- indexes. Every child row goes with its parent (ON DELETE CASCADE); foreign keys are enforced
-- because every pooled connection runs PRAGMA foreign_keys = ON.
CREATE TABLE customers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    first_name   TEXT NOT NULL,
    last_name    TEXT NOT NULL,
    email        TEXT NOT NULL,
    phone        TEXT NOT NULL DEFAULT '',
    organisation TEXT NOT NULL DEFAULT '',
    job_title    TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX customers_email_lower_key ON customers (lower(email));
CREATE INDEX customers_name_idx ON customers (last_name, first_name, id);
CREATE INDEX customers_created_idx ON customers (created_at, id);
CREATE INDEX customers_organisation_lower_idx ON customers (lower(organisation));

CREATE TABLE tickets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'waiting', 'on_hold', 'solved', 'closed')),
    trashed_at  TIMESTAMP,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX tickets_customer_id_idx ON tickets (customer_id);

CREATE TABLE ticket_messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    body       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX ticket_messages_ticket_id_idx ON ticket_messages (ticket_id);

CREATE TABLE chat_conversations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    started_at  TIMESTAMP NOT NULL
);
CREATE INDEX chat_conversations_customer_id_idx ON chat_conversations (customer_id);

CREATE TABLE chat_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id BIGINT NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE,
    body            TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX chat_messages_conversation_id_idx ON chat_messages (conversation_id);

CREATE TABLE notes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX notes_customer_id_idx ON notes (customer_id);

-- The audit trail of deletions: counts only, never the deleted people's personal data.
CREATE TABLE deletion_records (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at      TIMESTAMP NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('single', 'bulk')),
    customers       BIGINT NOT NULL,
    tickets         BIGINT NOT NULL,
    chats           BIGINT NOT NULL,
    notes           BIGINT NOT NULL,
    -- ids of the deleted customers, comma separated (ids are not personal data)
    customer_ids    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deletion_records_created_idx ON deletion_records (created_at, id);
