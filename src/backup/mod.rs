//! Backups of an SQLite database while it serves: `VACUUM INTO`, which reads the database in
//! one read transaction (a consistent snapshot, whatever writers do meanwhile; never a copy of
//! the file, which would catch half a write) and writes a compact copy. PostgreSQL has
//! `pg_dump` for this, and we do not pretend otherwise. `check.rs` verifies a copy
//! (`restore-check`); `before_bulk.rs` writes one before a large bulk deletion.

pub mod before_bulk;
pub mod check;

use std::path::{Path, PathBuf};

use diesel::prelude::*;

use crate::db::DbConn;

/// Tables whose rows a backup and a check count, in the order they are printed.
pub const COUNTED_TABLES: &[&str] = &[
    "customers",
    "tickets",
    "ticket_messages",
    "chat_conversations",
    "chat_messages",
    "notes",
    "agents",
    "deletion_records",
    "deletion_jobs",
    "sessions",
];

/// What `backup` says to a PostgreSQL user.
pub const USE_PG_DUMP: &str = "backup works on SQLite only: for PostgreSQL use pg_dump, e.g. \
     `pg_dump --format=custom --file=customer-desk.dump \"$DATABASE_URL\"`, and check a dump \
     by restoring it into a scratch database with pg_restore";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{USE_PG_DUMP}")]
    Postgres,
    #[error("{0} already exists: choose a new file name (a backup never overwrites)")]
    Exists(PathBuf),
    #[error("{0} is not a plain file name (SQLite would read it as a URI): give a path")]
    NotAFile(PathBuf),
    #[error("cannot write the backup {path}: {source}")]
    Write {
        path: PathBuf,
        source: diesel::result::Error,
    },
    #[error("cannot open the backup {path}: {source}")]
    Open {
        path: PathBuf,
        source: diesel::ConnectionError,
    },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// A written backup: where, how big, and the row counts of its tables.
#[derive(Debug, Clone)]
pub struct Backup {
    pub path: PathBuf,
    pub bytes: u64,
    pub counts: Vec<(&'static str, i64)>,
}

impl std::fmt::Display for Backup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Backup written: {} ({})",
            self.path.display(),
            human_bytes(self.bytes)
        )?;
        write_counts(f, &self.counts)
    }
}

/// Writes a consistent copy of the SQLite database behind `conn` to `to`, which must not exist.
pub fn write(conn: &mut DbConn, to: &Path) -> Result<Backup, BackupError> {
    if matches!(conn, DbConn::Pg(_)) {
        return Err(BackupError::Postgres);
    }
    if to.exists() {
        return Err(BackupError::Exists(to.to_owned()));
    }
    // `file:…?mode=memory` would "succeed" and write nothing.
    if to
        .to_string_lossy()
        .get(..5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("file:"))
    {
        return Err(BackupError::NotAFile(to.to_owned()));
    }
    let target = to.to_string_lossy().replace('\'', "''");
    diesel::sql_query(format!("VACUUM INTO '{target}'"))
        .execute(conn)
        .map_err(|source| BackupError::Write {
            path: to.to_owned(),
            source,
        })?;
    let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    let mut copy =
        SqliteConnection::establish(&to.to_string_lossy()).map_err(|source| BackupError::Open {
            path: to.to_owned(),
            source,
        })?;
    let counts = count_rows(&mut copy)?;
    Ok(Backup {
        path: to.to_owned(),
        bytes,
        counts,
    })
}

/// Rows in each of [`COUNTED_TABLES`] (a table the database does not have counts as 0).
pub fn count_rows(conn: &mut SqliteConnection) -> QueryResult<Vec<(&'static str, i64)>> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let present: Vec<String> =
        diesel::sql_query("SELECT name FROM sqlite_master WHERE type = 'table'")
            .load::<Name>(conn)?
            .into_iter()
            .map(|n| n.name)
            .collect();
    let mut counts = Vec::new();
    for &table in COUNTED_TABLES {
        let n = if present.iter().any(|p| p == table) {
            diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
                .get_result::<Count>(conn)?
                .n
        } else {
            0
        };
        counts.push((table, n));
    }
    Ok(counts)
}

pub(crate) fn write_counts(
    f: &mut std::fmt::Formatter<'_>,
    counts: &[(&'static str, i64)],
) -> std::fmt::Result {
    for (table, n) in counts {
        writeln!(
            f,
            "  {table:<20} {:>12}",
            crate::domain::group_thousands(*n)
        )?;
    }
    Ok(())
}

pub fn human_bytes(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB, {bytes} bytes", bytes as f64 / MIB)
    } else {
        format!("{bytes} bytes")
    }
}
