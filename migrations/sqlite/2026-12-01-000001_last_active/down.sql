DROP INDEX tickets_customer_open_idx;
DROP TRIGGER chat_messages_last_active;
DROP TRIGGER chat_conversations_last_active;
DROP TRIGGER ticket_messages_last_active;
DROP TRIGGER tickets_last_active;
DROP TRIGGER customers_last_active_created;
DROP TRIGGER customers_last_active_insert;
DROP INDEX customers_last_active_idx;
ALTER TABLE customers DROP COLUMN last_active_at;
