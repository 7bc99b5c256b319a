DROP TRIGGER customers_last_active_created;

CREATE TRIGGER customers_last_active_created AFTER UPDATE OF created_at ON customers
WHEN new.last_active_at < new.created_at BEGIN
    UPDATE customers SET last_active_at = new.created_at WHERE id = new.id;
END;
