-- A trigram index over what the list searches (first and last name, email, organisation), so
-- that a search for any part of them finds its customers without reading every row. The query
-- must use exactly this expression (`PG_SEARCH_TEXT` in src/customers). The SQLite side gets the
-- same with an FTS5 trigram table (../../sqlite).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX customers_search_trgm_idx ON customers
    USING gin (lower(first_name || ' ' || last_name || ' ' || email || ' ' || organisation) gin_trgm_ops);
