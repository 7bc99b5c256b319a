-- A customer's last activity is never before their creation, whoever writes either column
-- (until now only a changed creation time was checked). Lists of inactive customers sorted by
-- creation rely on it: a customer inactive since a day was created before that day, so the
-- page can be read from the creation index starting at that day (customers/list.rs). The
-- PostgreSQL side is the same (../../postgres).
DROP TRIGGER customers_last_active_created;

CREATE TRIGGER customers_last_active_created AFTER UPDATE OF created_at, last_active_at ON customers
WHEN new.last_active_at < new.created_at BEGIN
    UPDATE customers SET last_active_at = new.created_at WHERE id = new.id;
END;

UPDATE customers SET last_active_at = created_at WHERE last_active_at < created_at;
