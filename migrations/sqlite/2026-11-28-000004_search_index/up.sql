-- A trigram index over what the list searches (first and last name, email, organisation), so
-- that a search for any part of them finds its customers without reading every row. Kept in
-- step with the customers by triggers, in the same transaction as every change.
-- The PostgreSQL side gets the same with pg_trgm (../../postgres).
CREATE VIRTUAL TABLE customer_search USING fts5(body, tokenize = 'trigram');

INSERT INTO customer_search (rowid, body)
SELECT id, first_name || ' ' || last_name || ' ' || email || ' ' || organisation FROM customers;

CREATE TRIGGER customers_search_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_search (rowid, body)
    VALUES (new.id, new.first_name || ' ' || new.last_name || ' ' || new.email || ' ' || new.organisation);
END;

CREATE TRIGGER customers_search_update AFTER UPDATE OF first_name, last_name, email, organisation ON customers BEGIN
    DELETE FROM customer_search WHERE rowid = old.id;
    INSERT INTO customer_search (rowid, body)
    VALUES (new.id, new.first_name || ' ' || new.last_name || ' ' || new.email || ' ' || new.organisation);
END;

CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN
    DELETE FROM customer_search WHERE rowid = old.id;
END;
