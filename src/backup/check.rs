//! `restore-check FILE`: is this SQLite file a database this binary can serve? SQLite's
//! `integrity_check`, `foreign_key_check` (no orphans), the migrations it has against the ones
//! embedded in this binary, and its row counts. The file is opened read-only.

use std::path::Path;

use diesel::prelude::*;

use super::{count_rows, human_bytes, write_counts};
use crate::db::embedded_sqlite_versions;

#[derive(Debug, Clone)]
pub struct RestoreCheck {
    pub bytes: u64,
    /// `ok`, or SQLite's list of problems.
    pub integrity: Vec<String>,
    /// Rows whose parent is missing, as `PRAGMA foreign_key_check` reports them.
    pub orphans: usize,
    /// Migrations of this binary that the file lacks (the server applies them at start).
    pub pending: Vec<String>,
    /// Migrations the file has that this binary does not know: it is from a newer version.
    pub unknown: Vec<String>,
    pub applied: usize,
    pub counts: Vec<(&'static str, i64)>,
}

impl RestoreCheck {
    /// Whether the copy can be served by this binary as it is (pending migrations are fine).
    pub fn passed(&self) -> bool {
        // No migration at all: an empty file or some other database, not a Customer Desk copy.
        self.integrity == ["ok"] && self.orphans == 0 && self.unknown.is_empty() && self.applied > 0
    }
}

impl std::fmt::Display for RestoreCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "size: {}", human_bytes(self.bytes))?;
        writeln!(f, "integrity_check: {}", self.integrity.join("; "))?;
        writeln!(f, "foreign_key_check: {} orphan row(s)", self.orphans)?;
        let level = match (self.pending.len(), self.unknown.len()) {
            _ if self.applied == 0 => "none: this is not a Customer Desk database".to_owned(),
            (0, 0) => "up to date".to_owned(),
            (pending, 0) => format!(
                "{pending} migration(s) behind ({}): the server applies them at start",
                self.pending.join(", ")
            ),
            (_, unknown) => format!(
                "{unknown} migration(s) this binary does not know ({}): made by a newer version",
                self.unknown.join(", ")
            ),
        };
        writeln!(f, "migrations: {} applied, {level}", self.applied)?;
        writeln!(f, "rows:")?;
        write_counts(f, &self.counts)?;
        write!(
            f,
            "{}",
            if self.passed() {
                "restore-check passed"
            } else {
                "restore-check FAILED"
            }
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{0} does not exist")]
    Missing(std::path::PathBuf),
    #[error("cannot open {path} as an SQLite database: {message}")]
    Open {
        path: std::path::PathBuf,
        message: String,
    },
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

pub fn restore_check(file: &Path) -> Result<RestoreCheck, CheckError> {
    if !file.is_file() {
        return Err(CheckError::Missing(file.to_owned()));
    }
    let open_error = |message: String| CheckError::Open {
        path: file.to_owned(),
        message,
    };
    // Read-only, through a URI (Diesel opens SQLite with URI names enabled).
    let uri = format!(
        "file:{}?mode=ro",
        percent_encoding::utf8_percent_encode(
            &file.to_string_lossy(),
            percent_encoding::NON_ALPHANUMERIC
        )
        .to_string()
        .replace("%2F", "/")
    );
    let mut conn = SqliteConnection::establish(&uri).map_err(|e| open_error(e.to_string()))?;
    let integrity: Vec<String> =
        diesel::sql_query("SELECT integrity_check AS value FROM pragma_integrity_check")
            .load::<Text>(&mut conn)
            .map_err(|e| open_error(e.to_string()))?
            .into_iter()
            .map(|t| t.value)
            .collect();
    let orphans = diesel::sql_query("SELECT \"table\" AS value FROM pragma_foreign_key_check")
        .load::<Text>(&mut conn)
        .map(|rows| rows.len())
        .map_err(|e| open_error(e.to_string()))?;
    let applied: Vec<String> =
        diesel::sql_query("SELECT version AS value FROM __diesel_schema_migrations")
            .load::<Text>(&mut conn)
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.value)
            .collect();
    let (pending, unknown) = compare_migrations(&embedded_sqlite_versions(), &applied);
    let counts = count_rows(&mut conn).map_err(|e| open_error(e.to_string()))?;
    Ok(RestoreCheck {
        bytes: std::fs::metadata(file).map(|m| m.len()).unwrap_or(0),
        integrity,
        orphans,
        pending,
        unknown,
        applied: applied.len(),
        counts,
    })
}

/// (embedded but not applied, applied but not embedded); versions compared without dashes,
/// as Diesel may store them either way.
fn compare_migrations(embedded: &[String], applied: &[String]) -> (Vec<String>, Vec<String>) {
    let plain = |v: &String| v.replace('-', "");
    let applied_plain: Vec<String> = applied.iter().map(plain).collect();
    let embedded_plain: Vec<String> = embedded.iter().map(plain).collect();
    let pending = embedded
        .iter()
        .filter(|v| !applied_plain.contains(&plain(v)))
        .cloned()
        .collect();
    let unknown = applied
        .iter()
        .filter(|v| !embedded_plain.contains(&plain(v)))
        .cloned()
        .collect();
    (pending, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_compared_by_version() {
        let embedded = vec![
            "2026-11-01-000001".to_owned(),
            "2026-12-01-000003".to_owned(),
        ];
        let (pending, unknown) = compare_migrations(&embedded, &["20261101000001".to_owned()]);
        assert_eq!(pending, vec!["2026-12-01-000003".to_owned()]);
        assert!(unknown.is_empty());
        let (pending, unknown) = compare_migrations(
            &embedded,
            &[
                "20261101000001".into(),
                "20261201000003".into(),
                "20270101000001".into(),
            ],
        );
        assert!(pending.is_empty());
        assert_eq!(unknown, vec!["20270101000001".to_owned()]);
    }
}
