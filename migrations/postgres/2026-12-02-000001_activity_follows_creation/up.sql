-- A customer's last activity is never before their creation, whoever writes either column
-- (until now only a changed creation time was checked). Lists of inactive customers sorted by
-- creation rely on it: a customer inactive since a day was created before that day, so the
-- page can be read from the creation index starting at that day (customers/list.rs). The
-- SQLite side is the same (../../sqlite).
DROP TRIGGER customers_last_active ON customers;

CREATE TRIGGER customers_last_active BEFORE INSERT OR UPDATE OF created_at, last_active_at ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_last_active_from_creation();

UPDATE customers SET last_active_at = created_at WHERE last_active_at < created_at;
