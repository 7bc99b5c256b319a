DROP INDEX customers_words_idx;
