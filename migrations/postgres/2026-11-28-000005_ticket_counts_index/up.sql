-- The deletion confirmation counts a selection's tickets and those of them in the trash: with
-- trashed_at in the index beside customer_id, both counts come from the index alone, without
-- reading a single ticket row. It replaces the index on customer_id (its leading column is the
-- same, so the foreign key's cascades still use it).
CREATE INDEX tickets_customer_trash_idx ON tickets (customer_id, trashed_at);
DROP INDEX tickets_customer_id_idx;
