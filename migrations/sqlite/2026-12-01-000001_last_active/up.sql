-- A customer's last activity: the latest of their creation, their tickets' creation and
-- messages, and their chats' start and messages. Kept in a column (indexed) so that "last
-- active before" is a range read at any size, and kept by triggers so that every writer (the
-- app, the seeders, other systems writing tickets or chats) keeps it true in its own
-- transaction. It only moves forward: deleting a ticket or a message does not take back the
-- activity that happened. The PostgreSQL side is the same (../../postgres).
ALTER TABLE customers ADD COLUMN last_active_at TIMESTAMP NOT NULL DEFAULT '0001-01-01 00:00:00';

UPDATE customers SET last_active_at = max(
    created_at,
    coalesce((SELECT max(t.created_at) FROM tickets t WHERE t.customer_id = customers.id), created_at),
    coalesce((SELECT max(m.created_at) FROM tickets t JOIN ticket_messages m ON m.ticket_id = t.id
              WHERE t.customer_id = customers.id), created_at),
    coalesce((SELECT max(c.started_at) FROM chat_conversations c WHERE c.customer_id = customers.id), created_at),
    coalesce((SELECT max(m.created_at) FROM chat_conversations c JOIN chat_messages m ON m.conversation_id = c.id
              WHERE c.customer_id = customers.id), created_at)
);

CREATE INDEX customers_last_active_idx ON customers (last_active_at, id);

-- A new customer (or a changed creation time) is active from its creation on.
CREATE TRIGGER customers_last_active_insert AFTER INSERT ON customers
WHEN new.last_active_at < new.created_at BEGIN
    UPDATE customers SET last_active_at = new.created_at WHERE id = new.id;
END;

CREATE TRIGGER customers_last_active_created AFTER UPDATE OF created_at ON customers
WHEN new.last_active_at < new.created_at BEGIN
    UPDATE customers SET last_active_at = new.created_at WHERE id = new.id;
END;

CREATE TRIGGER tickets_last_active AFTER INSERT ON tickets BEGIN
    UPDATE customers SET last_active_at = new.created_at
    WHERE id = new.customer_id AND last_active_at < new.created_at;
END;

CREATE TRIGGER ticket_messages_last_active AFTER INSERT ON ticket_messages BEGIN
    UPDATE customers SET last_active_at = new.created_at
    WHERE id = (SELECT customer_id FROM tickets WHERE id = new.ticket_id)
      AND last_active_at < new.created_at;
END;

CREATE TRIGGER chat_conversations_last_active AFTER INSERT ON chat_conversations BEGIN
    UPDATE customers SET last_active_at = new.started_at
    WHERE id = new.customer_id AND last_active_at < new.started_at;
END;

CREATE TRIGGER chat_messages_last_active AFTER INSERT ON chat_messages BEGIN
    UPDATE customers SET last_active_at = new.created_at
    WHERE id = (SELECT customer_id FROM chat_conversations WHERE id = new.conversation_id)
      AND last_active_at < new.created_at;
END;

-- "Has open tickets" and "no open ticket" read a customer's tickets by status and trash.
CREATE INDEX tickets_customer_open_idx ON tickets (customer_id, status) WHERE trashed_at IS NULL;
