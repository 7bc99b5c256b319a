DROP INDEX customers_search_trgm_idx;
