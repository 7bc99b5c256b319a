//! SQLite's indexes of the search (`customer_search` and `customer_words`, FTS5) kept merged,
//! a little at a time, by the maintenance thread.
//!
//! Each write transaction adds a small segment to each index, and FTS5 merges segments only by
//! fours: the 1,000,000-customer benchmark database had 13 segments, and looking one customer
//! up in a search seeks in every one of them. That lookup is what bringing a kept listing up to
//! date asks for each changed customer (`Listings::matching`), the largest part of the server's
//! CPU under the mixed workload at 1 M. Merged into one segment, "smith" for four customers took
//! 0.15-0.36 ms against 1.1 ms, and the mix served 777 requests/s against 605
//! (docs/performance.md, issue 16, fifth round).
//!
//! A step asks FTS5 to merge at most [`PAGES_PER_STEP`] pages (`'merge'` with a negative count:
//! every segment, whatever its level), about 50 ms of the write lock at 1 M, and only for an index
//! whose structure changed since a step last found nothing to merge.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Binary;

use crate::db::DbConn;

/// The FTS5 tables of the search (migrations/sqlite).
const INDEXES: [&str; 2] = ["customer_search", "customer_words"];

/// At most this many pages (about 4 KB each) written by one step of one index.
pub const PAGES_PER_STEP: u32 = 500;

/// Each index's structure as last found fully merged.
#[derive(Debug, Default)]
pub struct SearchMerger {
    merged: [Option<Vec<u8>>; 2],
}

impl SearchMerger {
    /// One step for each index that may need it; `true` when both are found merged. Does
    /// nothing on PostgreSQL (its indexes need no such care).
    pub fn step(&mut self, conn: &mut DbConn) -> QueryResult<bool> {
        if !matches!(conn, DbConn::Sqlite(_)) {
            return Ok(true);
        }
        let mut all_merged = true;
        for (index, merged) in INDEXES.iter().zip(&mut self.merged) {
            let before = structure(conn, index)?;
            if merged.as_ref() == Some(&before) {
                continue;
            }
            conn.batch_execute(&format!(
                "INSERT INTO {index} ({index}, rank) VALUES ('merge', -{PAGES_PER_STEP})"
            ))?;
            let after = structure(conn, index)?;
            // Unchanged: there was nothing to merge (a write in between makes it differ, and
            // the next step looks again).
            *merged = (after == before).then_some(after);
            all_merged &= merged.is_some();
        }
        Ok(all_merged)
    }
}

/// The index's structure record (FTS5 keeps it at id 10 of its `_data` table): which segments
/// it has. Compared, never parsed.
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
