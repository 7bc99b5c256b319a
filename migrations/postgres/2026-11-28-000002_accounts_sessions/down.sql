DROP INDEX deletion_records_actor_idx;
ALTER TABLE deletion_records DROP COLUMN actor_name;
ALTER TABLE deletion_records DROP COLUMN actor_id;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE agents;
