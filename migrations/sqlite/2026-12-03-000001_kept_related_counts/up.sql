-- What goes with each customer, kept on the customer: how many tickets (and of them in the
-- trash), live chat conversations and notes. A bulk confirmation of 100,000 customers then reads
-- 100,000 rows instead of counting 400,000 times in the child tables' indexes (462 ms at
-- 1,000,000 customers). Kept by triggers, in the writer's own transaction, so that every
-- writer (the app, the seeders, other systems writing tickets, chats or notes) keeps the counts
-- exact; the app never writes them. A REPLACE that removes a row fires its delete trigger only
-- with `PRAGMA recursive_triggers = ON` (every connection of the app sets it; other writers
-- must too, or `customer-desk recount` finds and fixes what they miscounted). The PostgreSQL
-- side is the same (../../postgres).
ALTER TABLE customers ADD COLUMN ticket_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN trashed_ticket_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN chat_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN note_count BIGINT NOT NULL DEFAULT 0;

UPDATE customers SET
    ticket_count = (SELECT count(*) FROM tickets t WHERE t.customer_id = customers.id),
    trashed_ticket_count = (SELECT count(*) FROM tickets t
                            WHERE t.customer_id = customers.id AND t.trashed_at IS NOT NULL),
    chat_count = (SELECT count(*) FROM chat_conversations c WHERE c.customer_id = customers.id),
    note_count = (SELECT count(*) FROM notes n WHERE n.customer_id = customers.id);

CREATE TRIGGER tickets_counted_insert AFTER INSERT ON tickets BEGIN
    UPDATE customers SET ticket_count = ticket_count + 1,
        trashed_ticket_count = trashed_ticket_count + (new.trashed_at IS NOT NULL)
    WHERE id = new.customer_id;
END;

CREATE TRIGGER tickets_counted_delete AFTER DELETE ON tickets BEGIN
    UPDATE customers SET ticket_count = ticket_count - 1,
        trashed_ticket_count = trashed_ticket_count - (old.trashed_at IS NOT NULL)
    WHERE id = old.customer_id;
END;

-- Moved to another customer, or into or out of the trash.
CREATE TRIGGER tickets_counted_update AFTER UPDATE OF customer_id, trashed_at ON tickets
WHEN old.customer_id IS NOT new.customer_id
  OR (old.trashed_at IS NOT NULL) IS NOT (new.trashed_at IS NOT NULL) BEGIN
    UPDATE customers SET ticket_count = ticket_count - 1,
        trashed_ticket_count = trashed_ticket_count - (old.trashed_at IS NOT NULL)
    WHERE id = old.customer_id;
    UPDATE customers SET ticket_count = ticket_count + 1,
        trashed_ticket_count = trashed_ticket_count + (new.trashed_at IS NOT NULL)
    WHERE id = new.customer_id;
END;

CREATE TRIGGER chat_conversations_counted_insert AFTER INSERT ON chat_conversations BEGIN
    UPDATE customers SET chat_count = chat_count + 1 WHERE id = new.customer_id;
END;

CREATE TRIGGER chat_conversations_counted_delete AFTER DELETE ON chat_conversations BEGIN
    UPDATE customers SET chat_count = chat_count - 1 WHERE id = old.customer_id;
END;

CREATE TRIGGER chat_conversations_counted_update AFTER UPDATE OF customer_id ON chat_conversations
WHEN old.customer_id IS NOT new.customer_id BEGIN
    UPDATE customers SET chat_count = chat_count - 1 WHERE id = old.customer_id;
    UPDATE customers SET chat_count = chat_count + 1 WHERE id = new.customer_id;
END;

CREATE TRIGGER notes_counted_insert AFTER INSERT ON notes BEGIN
    UPDATE customers SET note_count = note_count + 1 WHERE id = new.customer_id;
END;

CREATE TRIGGER notes_counted_delete AFTER DELETE ON notes BEGIN
    UPDATE customers SET note_count = note_count - 1 WHERE id = old.customer_id;
END;

CREATE TRIGGER notes_counted_update AFTER UPDATE OF customer_id ON notes
WHEN old.customer_id IS NOT new.customer_id BEGIN
    UPDATE customers SET note_count = note_count - 1 WHERE id = old.customer_id;
    UPDATE customers SET note_count = note_count + 1 WHERE id = new.customer_id;
END;
