-- Search words of one or two characters match the beginning of a word (of the first or last
-- name, the email split at its punctuation, or the organisation) through this index of words,
-- with prefix indexes of 1 and 2 characters: their cost is that of the matches, never a read of
-- every customer (the trigram table of 2026-11-28-000004 needs 3 characters). Kept in step with
-- the customers by triggers, in the same transaction as every change. No diacritics removed, so
-- that it finds what PostgreSQL's word index finds (../../postgres).
CREATE VIRTUAL TABLE customer_words USING fts5(
    body, tokenize = 'unicode61 remove_diacritics 0', prefix = '1 2', detail = none
);

INSERT INTO customer_words (rowid, body)
SELECT id, first_name || ' ' || last_name || ' ' || email || ' ' || organisation FROM customers;

CREATE TRIGGER customers_words_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_words (rowid, body)
    VALUES (new.id, new.first_name || ' ' || new.last_name || ' ' || new.email || ' ' || new.organisation);
END;

CREATE TRIGGER customers_words_update AFTER UPDATE OF first_name, last_name, email, organisation ON customers BEGIN
    DELETE FROM customer_words WHERE rowid = old.id;
    INSERT INTO customer_words (rowid, body)
    VALUES (new.id, new.first_name || ' ' || new.last_name || ' ' || new.email || ' ' || new.organisation);
END;

CREATE TRIGGER customers_words_delete AFTER DELETE ON customers BEGIN
    DELETE FROM customer_words WHERE rowid = old.id;
END;
