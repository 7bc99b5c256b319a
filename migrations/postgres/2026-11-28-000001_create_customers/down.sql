DROP TABLE deletion_records;
DROP TABLE notes;
DROP TABLE chat_messages;
DROP TABLE chat_conversations;
DROP TABLE ticket_messages;
DROP TABLE tickets;
DROP TABLE customers;
