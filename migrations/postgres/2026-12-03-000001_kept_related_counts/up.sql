-- What goes with each customer, kept on the customer: how many tickets (and of them in the
-- trash), live chat conversations and notes. A bulk confirmation of 100,000 customers then reads
-- 100,000 rows instead of counting 400,000 times in the child tables' indexes (1.1 s at
-- 1,000,000 customers). Kept by triggers, in the writer's own transaction, so that every
-- writer (the app, the seeders, other systems writing tickets, chats or notes) keeps the counts
-- exact; the app never writes them. The SQLite side is the same (../../sqlite); here inserts
-- and deletes are counted per statement, over the rows they touched, so that a bulk insert or
-- a cascade updates each customer once. The columns are in no index, so the updates stay
-- heap-only (HOT) where the page has room.
-- No writer changes the counted tables between the backfill and the triggers (reads go on;
-- about a minute at 1,000,000 customers).
LOCK TABLE tickets, chat_conversations, notes IN SHARE ROW EXCLUSIVE MODE;

ALTER TABLE customers ADD COLUMN ticket_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN trashed_ticket_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN chat_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN note_count BIGINT NOT NULL DEFAULT 0;

-- One pass (one new version of each row), each count read from its index.
UPDATE customers SET
    ticket_count = (SELECT count(*) FROM tickets t WHERE t.customer_id = customers.id),
    trashed_ticket_count = (SELECT count(*) FROM tickets t
                            WHERE t.customer_id = customers.id AND t.trashed_at IS NOT NULL),
    chat_count = (SELECT count(*) FROM chat_conversations c WHERE c.customer_id = customers.id),
    note_count = (SELECT count(*) FROM notes n WHERE n.customer_id = customers.id);

CREATE FUNCTION tickets_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE customers SET ticket_count = ticket_count + d.n,
            trashed_ticket_count = trashed_ticket_count + d.trashed
        FROM (SELECT customer_id, count(*) AS n, count(trashed_at) AS trashed
              FROM arrived GROUP BY customer_id) d
        WHERE customers.id = d.customer_id;
    ELSE
        UPDATE customers SET ticket_count = ticket_count - d.n,
            trashed_ticket_count = trashed_ticket_count - d.trashed
        FROM (SELECT customer_id, count(*) AS n, count(trashed_at) AS trashed
              FROM went GROUP BY customer_id) d
        WHERE customers.id = d.customer_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_counted_insert AFTER INSERT ON tickets
    REFERENCING NEW TABLE AS arrived FOR EACH STATEMENT EXECUTE FUNCTION tickets_counted();
CREATE TRIGGER tickets_counted_delete AFTER DELETE ON tickets
    REFERENCING OLD TABLE AS went FOR EACH STATEMENT EXECUTE FUNCTION tickets_counted();

-- Moved to another customer, or into or out of the trash.
CREATE FUNCTION tickets_counted_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customers SET ticket_count = ticket_count - 1,
        trashed_ticket_count = trashed_ticket_count - (OLD.trashed_at IS NOT NULL)::int
    WHERE id = OLD.customer_id;
    UPDATE customers SET ticket_count = ticket_count + 1,
        trashed_ticket_count = trashed_ticket_count + (NEW.trashed_at IS NOT NULL)::int
    WHERE id = NEW.customer_id;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_counted_update AFTER UPDATE OF customer_id, trashed_at ON tickets
    FOR EACH ROW
    WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id
          OR (OLD.trashed_at IS NULL) IS DISTINCT FROM (NEW.trashed_at IS NULL))
    EXECUTE FUNCTION tickets_counted_moved();

CREATE FUNCTION chat_conversations_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE customers SET chat_count = chat_count + d.n
        FROM (SELECT customer_id, count(*) AS n FROM arrived GROUP BY customer_id) d
        WHERE customers.id = d.customer_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE customers SET chat_count = chat_count - d.n
        FROM (SELECT customer_id, count(*) AS n FROM went GROUP BY customer_id) d
        WHERE customers.id = d.customer_id;
    ELSE
        UPDATE customers SET chat_count = chat_count - 1 WHERE id = OLD.customer_id;
        UPDATE customers SET chat_count = chat_count + 1 WHERE id = NEW.customer_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER chat_conversations_counted_insert AFTER INSERT ON chat_conversations
    REFERENCING NEW TABLE AS arrived FOR EACH STATEMENT EXECUTE FUNCTION chat_conversations_counted();
CREATE TRIGGER chat_conversations_counted_delete AFTER DELETE ON chat_conversations
    REFERENCING OLD TABLE AS went FOR EACH STATEMENT EXECUTE FUNCTION chat_conversations_counted();
CREATE TRIGGER chat_conversations_counted_update AFTER UPDATE OF customer_id ON chat_conversations
    FOR EACH ROW WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id)
    EXECUTE FUNCTION chat_conversations_counted();

CREATE FUNCTION notes_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE customers SET note_count = note_count + d.n
        FROM (SELECT customer_id, count(*) AS n FROM arrived GROUP BY customer_id) d
        WHERE customers.id = d.customer_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE customers SET note_count = note_count - d.n
        FROM (SELECT customer_id, count(*) AS n FROM went GROUP BY customer_id) d
        WHERE customers.id = d.customer_id;
    ELSE
        UPDATE customers SET note_count = note_count - 1 WHERE id = OLD.customer_id;
        UPDATE customers SET note_count = note_count + 1 WHERE id = NEW.customer_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER notes_counted_insert AFTER INSERT ON notes
    REFERENCING NEW TABLE AS arrived FOR EACH STATEMENT EXECUTE FUNCTION notes_counted();
CREATE TRIGGER notes_counted_delete AFTER DELETE ON notes
    REFERENCING OLD TABLE AS went FOR EACH STATEMENT EXECUTE FUNCTION notes_counted();
CREATE TRIGGER notes_counted_update AFTER UPDATE OF customer_id ON notes
    FOR EACH ROW WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id)
    EXECUTE FUNCTION notes_counted();

-- TRUNCATE fires no row or delete trigger: every count of the table goes to zero.
CREATE FUNCTION related_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'tickets' THEN
        UPDATE customers SET ticket_count = 0, trashed_ticket_count = 0
        WHERE ticket_count <> 0 OR trashed_ticket_count <> 0;
    ELSIF TG_TABLE_NAME = 'chat_conversations' THEN
        UPDATE customers SET chat_count = 0 WHERE chat_count <> 0;
    ELSE
        UPDATE customers SET note_count = 0 WHERE note_count <> 0;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_counted_truncate AFTER TRUNCATE ON tickets
    FOR EACH STATEMENT EXECUTE FUNCTION related_truncated();
CREATE TRIGGER chat_conversations_counted_truncate AFTER TRUNCATE ON chat_conversations
    FOR EACH STATEMENT EXECUTE FUNCTION related_truncated();
CREATE TRIGGER notes_counted_truncate AFTER TRUNCATE ON notes
    FOR EACH STATEMENT EXECUTE FUNCTION related_truncated();
