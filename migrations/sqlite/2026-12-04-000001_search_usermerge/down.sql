INSERT INTO customer_search (customer_search, rank) VALUES ('usermerge', 4);
INSERT INTO customer_words (customer_words, rank) VALUES ('usermerge', 4);
