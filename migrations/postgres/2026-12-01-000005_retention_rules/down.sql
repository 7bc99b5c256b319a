DROP TABLE retention_runs;
DROP TABLE retention_rules;
