-- Search words of one or two characters match the beginning of a word (of the first or last
-- name, the email split at `@` and `.`, or the organisation) through this GIN index of words
-- (prefix queries such as `an:*`): their cost is that of the matches, never a read of every
-- customer (pg_trgm needs 3 characters). The query must use exactly this expression
-- (`PG_WORDS_TEXT` in src/customers/search.rs). The SQLite side gets the same with an FTS5
-- table of words (../../sqlite).
CREATE INDEX customers_words_idx ON customers USING gin (
    to_tsvector('simple', translate(lower(first_name || ' ' || last_name || ' ' || email || ' ' || organisation), '@.', '  '))
);
