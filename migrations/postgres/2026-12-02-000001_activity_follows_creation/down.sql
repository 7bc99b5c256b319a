DROP TRIGGER customers_last_active ON customers;

CREATE TRIGGER customers_last_active BEFORE INSERT OR UPDATE OF created_at ON customers
    FOR EACH ROW EXECUTE FUNCTION customers_last_active_from_creation();
