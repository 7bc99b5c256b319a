-- A customer's last activity: the latest of their creation, their tickets' creation and
-- messages, and their chats' start and messages. Kept in a column (indexed) so that "last
-- active before" is a range read at any size, and kept by triggers so that every writer (the
-- app, the seeders, other systems writing tickets or chats) keeps it true in its own
-- transaction. It only moves forward: deleting a ticket or a message does not take back the
-- activity that happened. The SQLite side is the same (../../sqlite); here the child tables'
-- triggers are per statement, over the inserted rows, so that a bulk INSERT … SELECT updates
-- each customer once.
ALTER TABLE customers ADD COLUMN last_active_at TIMESTAMP;

UPDATE customers SET last_active_at = greatest(
    created_at,
    (SELECT max(t.created_at) FROM tickets t WHERE t.customer_id = customers.id),
    (SELECT max(m.created_at) FROM tickets t JOIN ticket_messages m ON m.ticket_id = t.id
     WHERE t.customer_id = customers.id),
    (SELECT max(c.started_at) FROM chat_conversations c WHERE c.customer_id = customers.id),
    (SELECT max(m.created_at) FROM chat_conversations c JOIN chat_messages m ON m.conversation_id = c.id
     WHERE c.customer_id = customers.id)
);

CREATE FUNCTION customers_last_active_from_creation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.last_active_at IS NULL OR NEW.last_active_at < NEW.created_at THEN
        NEW.last_active_at := NEW.created_at;
    END IF;
    RETURN NEW;
END $$;

-- Before the NOT NULL check, so that writers need not know the column.
CREATE TRIGGER customers_last_active BEFORE INSERT OR UPDATE OF created_at ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_last_active_from_creation();

ALTER TABLE customers ALTER COLUMN last_active_at SET NOT NULL;
CREATE INDEX customers_last_active_idx ON customers (last_active_at, id);

CREATE FUNCTION tickets_last_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customers SET last_active_at = a.at
    FROM (SELECT customer_id, max(created_at) AS at FROM inserted GROUP BY customer_id) a
    WHERE customers.id = a.customer_id AND customers.last_active_at < a.at;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_last_active AFTER INSERT ON tickets
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION tickets_last_active();

CREATE FUNCTION ticket_messages_last_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customers SET last_active_at = a.at
    FROM (SELECT t.customer_id, max(i.created_at) AS at
          FROM inserted i JOIN tickets t ON t.id = i.ticket_id GROUP BY t.customer_id) a
    WHERE customers.id = a.customer_id AND customers.last_active_at < a.at;
    RETURN NULL;
END $$;
CREATE TRIGGER ticket_messages_last_active AFTER INSERT ON ticket_messages
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ticket_messages_last_active();

CREATE FUNCTION chat_conversations_last_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customers SET last_active_at = a.at
    FROM (SELECT customer_id, max(started_at) AS at FROM inserted GROUP BY customer_id) a
    WHERE customers.id = a.customer_id AND customers.last_active_at < a.at;
    RETURN NULL;
END $$;
CREATE TRIGGER chat_conversations_last_active AFTER INSERT ON chat_conversations
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION chat_conversations_last_active();

CREATE FUNCTION chat_messages_last_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE customers SET last_active_at = a.at
    FROM (SELECT c.customer_id, max(i.created_at) AS at
          FROM inserted i JOIN chat_conversations c ON c.id = i.conversation_id GROUP BY c.customer_id) a
    WHERE customers.id = a.customer_id AND customers.last_active_at < a.at;
    RETURN NULL;
END $$;
CREATE TRIGGER chat_messages_last_active AFTER INSERT ON chat_messages
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION chat_messages_last_active();

-- "Has open tickets" and "no open ticket" read a customer's tickets by status and trash.
CREATE INDEX tickets_customer_open_idx ON tickets (customer_id, status) WHERE trashed_at IS NULL;
