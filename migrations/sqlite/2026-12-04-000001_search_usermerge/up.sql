-- The search's FTS5 indexes merge any level that holds two segments (FTS5's default is four),
-- so that the maintenance thread's positive 'merge' steps (src/search_merge.rs) keep a few
-- segments at most: every lookup of one customer in a search seeks in each segment. A setting
-- kept in each table's _config; PostgreSQL has no counterpart (its indexes need no such care).
INSERT INTO customer_search (customer_search, rank) VALUES ('usermerge', 2);
INSERT INTO customer_words (customer_words, rank) VALUES ('usermerge', 2);
