//! On SQLite, a few given customers are checked against a search in copies of their search
//! text: two small temporary FTS5 tables of the connection, defined as the search's own
//! (`customer_search`, `customer_words`: the same tokenizer, prefixes and detail, read from the
//! schema, so that they match exactly as the search does), filled with those customers'
//! indexed text from the search's content tables, in the same transaction as the query that
//! asks them ([`among_given`]: the only way to a [`SearchPlan::EachRow`]). Temporary tables
//! are written without SQLite's write lock and are seen by this connection only.
//!
//! Why not ask the search's own indexes, one customer at a time: each look-up seeks in every
//! segment, and after a bulk deletion each seek also walks the deleted customers' entries
//! until FTS5 merges them away. With 40,000 Acme customers of 1,000,000 deleted, checking 200
//! changed customers against "acme" took 1.14 s there, and 4.5 ms copied (copying 2.7 ms of
//! it); on a database with nothing deleted, 6.5 ms there and 3.9 ms copied
//! (docs/performance.md, "Issue 16, eleventh round").

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::search::{SearchPlan, EACH_ROW_UP_TO};
use crate::db::{DbConn, Dialect};
use crate::domain::list_query::Search;

/// Made only by [`among_given`], so that a [`SearchPlan::EachRow`] comes from it, for the query
/// it runs; nothing checks that the query keeps to the given ids and to that call (a plan kept
/// and used later would ask whatever the copies hold by then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopiesMade(());

/// Runs `query` for the customers `ids` with the plan to check them against `search`: for a
/// few, on SQLite, in copies of their search text made in the same transaction (one snapshot
/// for both); for many, against the list of matches. If the copies cannot be made, the list
/// of matches answers (exactly, slower) and a warning is logged, once per process: the copy is
/// undone alone, and the transaction goes on (an error that makes SQLite end the whole
/// transaction, an I/O error, fails the query instead).
pub fn among_given<T>(
    conn: &mut DbConn,
    ids: &[i64],
    search: &Search,
    query: impl FnOnce(&mut DbConn, SearchPlan) -> QueryResult<T>,
) -> QueryResult<T> {
    if ids.len() > EACH_ROW_UP_TO {
        return query(conn, SearchPlan::FromIndex);
    }
    let each_row = SearchPlan::EachRow(CopiesMade(()));
    if ids.is_empty() || search.is_empty() || Dialect::of(conn) != Dialect::Sqlite {
        // Nothing to copy: no search to ask, or PostgreSQL (which plans for itself).
        return query(conn, each_row);
    }
    static WARNED: AtomicBool = AtomicBool::new(false);
    conn.transaction(
        |conn| match conn.transaction(|conn| copy_search_text(conn, ids)) {
            Ok(()) => query(conn, each_row),
            Err(error) => {
                if !WARNED.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%error, "could not copy customers' search text; asking the search's index (logged once)");
                }
                query(conn, SearchPlan::FromIndex)
            }
        },
    )
}

/// The search's FTS5 tables (migrations/sqlite), each copied as `temp.checked_<name>`.
const SEARCH_TABLES: [&str; 2] = ["customer_search", "customer_words"];

/// The name of the copy of a search table, in the `temp` schema, as [`SearchPlan::EachRow`]
/// asks it.
pub(super) fn copy_of(table: &str) -> String {
    format!("checked_{table}")
}

#[derive(QueryableByName)]
struct Definition {
    #[diesel(sql_type = Text)]
    sql: String,
}

/// The search tables' definitions, made those of their copies: named `temp.checked_<name>`,
/// and contentless (a copy is only asked which rowids match).
fn copies_defined(conn: &mut DbConn) -> QueryResult<&'static str> {
    static DEFINED: OnceLock<String> = OnceLock::new();
    if let Some(defined) = DEFINED.get() {
        return Ok(defined);
    }
    let mut statements = String::new();
    for table in SEARCH_TABLES {
        let found: Definition =
            diesel::sql_query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?")
                .bind::<Text, _>(table)
                .get_result(conn)?;
        statements.push_str(&copy_definition(table, &found.sql).ok_or_else(|| {
            diesel::result::Error::QueryBuilderError(
                format!("unexpected definition of {table}: {}", found.sql).into(),
            )
        })?);
        statements.push_str(";\n");
    }
    Ok(DEFINED.get_or_init(|| statements))
}

/// `CREATE VIRTUAL TABLE <table> USING fts5(<options>)` made the definition of its copy.
fn copy_definition(table: &str, sql: &str) -> Option<String> {
    let head = format!("CREATE VIRTUAL TABLE {table} USING fts5(");
    let options = sql.trim().strip_prefix(&head)?.strip_suffix(')')?;
    Some(format!(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.{} USING fts5({}, content = '')",
        copy_of(table),
        options.trim_end()
    ))
}

/// Replaces what the connection's copies hold with the search text of `ids` (those that
/// exist), as the current transaction's snapshot has it.
fn copy_search_text(conn: &mut DbConn, ids: &[i64]) -> QueryResult<()> {
    let defined = copies_defined(conn)?;
    conn.batch_execute(defined)?;
    let listed = format!(
        "[{}]",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    );
    for table in SEARCH_TABLES {
        let copy = copy_of(table);
        conn.batch_execute(&format!(
            "INSERT INTO temp.{copy} ({copy}) VALUES ('delete-all')"
        ))?;
        diesel::sql_query(format!(
            "INSERT INTO temp.{copy} (rowid, body) \
             SELECT id, c0 FROM {table}_content WHERE id IN (SELECT value FROM json_each(?))"
        ))
        .bind::<Text, _>(&listed)
        .execute(conn)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_defined_as_its_table_named_apart_and_contentless() {
        assert_eq!(
            copy_definition(
                "customer_words",
                "CREATE VIRTUAL TABLE customer_words USING fts5(\n    body, tokenize = 'unicode61 remove_diacritics 0', prefix = '1 2', detail = none\n)"
            )
            .unwrap(),
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.checked_customer_words USING fts5(\n    body, tokenize = 'unicode61 remove_diacritics 0', prefix = '1 2', detail = none, content = '')"
        );
        assert_eq!(
            copy_definition("customer_words", "CREATE TABLE customer_words (x)"),
            None
        );
    }
}
