DROP TABLE deletion_job_backups;
