DROP TRIGGER customers_words_delete;
DROP TRIGGER customers_words_update;
DROP TRIGGER customers_words_insert;
DROP TABLE customer_words;
