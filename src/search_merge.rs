//! SQLite's indexes of the search (`customer_search` and `customer_words`, FTS5) kept in few
//! segments, a step at a time, by the maintenance thread; merged whole at the end of `seed`.
//!
//! Each write transaction adds a small segment to each index, and FTS5 merges segments only by
//! fours: the 1,000,000-customer benchmark database had 13 segments, and looking one customer
//! up in a search seeks in every one of them. That lookup is what bringing a kept listing up to
//! date asks for each changed customer (`Listings::held`), the largest part of the server's
//! CPU under the mixed workload at 1 M. Merged into one segment, "smith" for four customers took
//! 0.15-0.36 ms against 1.1 ms (docs/performance.md, "Issue 16, fifth round").
//!
//! A step is FTS5's `'merge'` with a positive page count: it merges a level that holds at least
//! `usermerge` segments (2 for these tables, migration `2026-12-04-000001_search_usermerge`),
//! writing roughly [`PAGES_PER_STEP`] pages (FTS5 stops at the first term boundary past it), and
//! changes nothing when no level has two. It runs only for an index whose structure record
//! changed since a step last found nothing to merge. Never a negative count in a loop: on
//! SQLite 3.40 each such merge moves every segment to a new level and no level is ever removed,
//! so a step after each write made FTS5 report the table corrupt after about 2,000 levels, and
//! each write restarted a rewrite of the whole index (found in review, reproduced with sqlite3).

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Binary;

use crate::db::DbConn;

/// The FTS5 tables of the search (migrations/sqlite).
const INDEXES: [&str; 2] = ["customer_search", "customer_words"];

/// About this many pages (4 KB each) written by one step of one index.
pub const PAGES_PER_STEP: u32 = 500;

/// Each index's structure as last found with nothing to merge.
#[derive(Debug, Default)]
pub struct SearchMerger {
    settled: [Option<Vec<u8>>; 2],
}

impl SearchMerger {
    /// One step for each index that may need it; `true` when neither had anything to merge.
    /// Does nothing on PostgreSQL (its indexes need no such care). An error on one index does
    /// not keep the other from its step; the first error is returned.
    pub fn step(&mut self, conn: &mut DbConn) -> QueryResult<bool> {
        if !matches!(conn, DbConn::Sqlite(_)) {
            return Ok(true);
        }
        let mut all_settled = true;
        let mut first_error = None;
        for (index, settled) in INDEXES.iter().zip(&mut self.settled) {
            match step_one(conn, index, settled) {
                Ok(done) => all_settled &= done,
                Err(error) => {
                    all_settled = false;
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(all_settled), Err)
    }
}

fn step_one(conn: &mut DbConn, index: &str, settled: &mut Option<Vec<u8>>) -> QueryResult<bool> {
    let before = structure(conn, index)?;
    if settled.as_ref() == Some(&before) {
        return Ok(true);
    }
    conn.batch_execute(&format!(
        "INSERT INTO {index} ({index}, rank) VALUES ('merge', {PAGES_PER_STEP})"
    ))?;
    let after = structure(conn, index)?;
    // Unchanged: nothing to merge (a write in between makes it differ: the next step looks
    // again).
    *settled = (after == before).then_some(after);
    Ok(settled.is_some())
}

/// Both indexes merged into one segment each, at once (FTS5's `'optimize'`: it rewrites the
/// index, 4-6 s at 1,000,000 customers, holding the write lock): for `seed`, after a bulk
/// load. Does nothing on PostgreSQL.
pub fn optimize(conn: &mut DbConn) -> QueryResult<()> {
    if !matches!(conn, DbConn::Sqlite(_)) {
        return Ok(());
    }
    for index in INDEXES {
        conn.batch_execute(&format!(
            "INSERT INTO {index} ({index}) VALUES ('optimize')"
        ))?;
    }
    Ok(())
}

/// The index's structure record (FTS5 keeps it at id 10 of its `_data` table): which segments
/// it has, on which levels. Compared, never parsed.
fn structure(conn: &mut DbConn, index: &str) -> QueryResult<Vec<u8>> {
    #[derive(QueryableByName)]
    struct Block {
        #[diesel(sql_type = Binary)]
        block: Vec<u8>,
    }
    Ok(
        diesel::sql_query(format!("SELECT block FROM {index}_data WHERE id = 10"))
            .get_result::<Block>(conn)
            .optional()?
            .map(|b| b.block)
            .unwrap_or_default(),
    )
}
