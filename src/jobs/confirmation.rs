//! What a bulk confirmation shows, and the check that what is frozen on submit is exactly that.
//!
//! The confirmation names a set of customers by a SHA-256 digest of their ids in ascending
//! order, and carries the counts of what goes with them. No other set has the same digest (a
//! collision would break SHA-256), so a set that gained, lost or swapped even one customer is
//! told apart; and a ticket, chat or note added meanwhile changes the counts.
//!
//! Customers that an unfinished deletion job already holds are not candidates: they are being
//! deleted, and a second job for them would only delete nothing.

use diesel::dsl::{count_star, not, sql};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use sha2::{Digest, Sha256};

use crate::customers::{
    names_where, selection_filter, selection_filter_planned, CustomerFilter, WALK_SORT_INDEX_ABOVE,
};
use crate::db::{DbConn, Dialect};
use crate::deletion::{related_counts, related_sums, RelatedSums};
use crate::domain::deletion_counts::DeletionCounts;
use crate::domain::selection::Selection;
use crate::schema::{customers, deletion_job_items, deletion_jobs};

/// Exactly what a confirmation showed: which customers (by digest) and what goes with them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Confirmed {
    /// SHA-256 of the customer ids in ascending order, as 64 lowercase hex digits.
    pub digest: String,
    pub counts: DeletionCounts,
}

impl Confirmed {
    pub fn customers(&self) -> i64 {
        self.counts.customers
    }

    /// A digest as a confirmation form sends it back: 64 hex digits, or nothing.
    pub fn parse_digest(raw: &str) -> Option<String> {
        (raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| raw.to_ascii_lowercase())
    }
}

/// The digest of a set of ids given in ascending order: each id as 8 big-endian bytes.
pub fn digest_of(ascending_ids: &[i64]) -> String {
    let mut hasher = Sha256::new();
    for id in ascending_ids {
        hasher.update(id.to_be_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// What the bulk confirmation shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkPreview {
    pub confirmed: Confirmed,
    /// The first few names, by name.
    pub names: Vec<String>,
}

/// Unfinished jobs: their customers are being deleted already.
pub(crate) fn unfinished_jobs(conn: &mut DbConn) -> QueryResult<Vec<i64>> {
    deletion_jobs::table
        .filter(deletion_jobs::status.ne("done"))
        .select(deletion_jobs::id)
        .load(conn)
}

/// The selection's customers, less those that the given jobs hold.
pub(crate) fn candidates(filter: CustomerFilter, busy_jobs: &[i64]) -> CustomerFilter {
    if busy_jobs.is_empty() {
        return filter;
    }
    let held = deletion_job_items::table
        .filter(deletion_job_items::job_id.eq_any(busy_jobs.to_vec()))
        .select(deletion_job_items::customer_id);
    Box::new(filter.and(not(customers::id.eq_any(held))))
}

/// The confirmation's numbers: what goes with the selection (one pass of index-only counts),
/// the digest of its ids, and the first names.
pub fn preview(conn: &mut DbConn, selection: &Selection) -> QueryResult<BulkPreview> {
    let dialect = Dialect::of(conn);
    let busy = unfinished_jobs(conn)?;
    // Two statements: a customer added or removed between them makes them disagree, and then
    // they are read again, so that the counts shown always belong to the digest sent.
    let mut tries = 0;
    let (count, related, ids) = loop {
        let (count, related) = customers::table
            .filter(candidates(selection_filter(selection, dialect), &busy))
            .select((count_star(), related_sums()))
            .get_result::<(i64, RelatedSums)>(conn)?;
        let ids: Vec<i64> = customers::table
            .filter(candidates(selection_filter(selection, dialect), &busy))
            .order(customers::id.asc())
            .select(customers::id)
            .load(conn)?;
        tries += 1;
        if ids.len() as i64 == count || tries == 3 {
            break (count, related, ids);
        }
    };
    let walk = count > WALK_SORT_INDEX_ABOVE;
    let names = names_where(
        conn,
        candidates(selection_filter_planned(selection, dialect, walk), &busy),
        3,
    )?;
    Ok(BulkPreview {
        confirmed: Confirmed {
            digest: digest_of(&ids),
            counts: related_counts(count, related),
        },
        names,
    })
}

/// What a job froze: its items' ids and the counts each customer had at that moment.
pub(crate) fn frozen(conn: &mut DbConn, job: i64) -> QueryResult<Confirmed> {
    let (count, related) = deletion_job_items::table
        .filter(deletion_job_items::job_id.eq(job))
        .select((count_star(), item_sums()))
        .get_result::<(i64, RelatedSums)>(conn)?;
    let ids: Vec<i64> = deletion_job_items::table
        .filter(deletion_job_items::job_id.eq(job))
        .order(deletion_job_items::customer_id.asc())
        .select(deletion_job_items::customer_id)
        .load(conn)?;
    Ok(Confirmed {
        digest: digest_of(&ids),
        counts: related_counts(count, related),
    })
}

type Sum = diesel::expression::SqlLiteral<BigInt>;

/// The frozen per-customer counts of items, summed (cast: SUM is NUMERIC on PostgreSQL).
pub(crate) fn item_sums() -> (Sum, Sum, Sum, Sum) {
    let [tickets, trashed, chats, notes] = ["tickets", "tickets_in_trash", "chats", "notes"]
        .map(|column| sql(&format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)")));
    (tickets, trashed, chats, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_tells_apart_sets_with_equal_sums() {
        // {3, 8} and {4, 7}: same count and sum, which the old fingerprint could not tell apart.
        assert_ne!(digest_of(&[3, 8]), digest_of(&[4, 7]));
        assert_eq!(digest_of(&[3, 8]), digest_of(&[3, 8]));
        assert_ne!(digest_of(&[]), digest_of(&[0]));
        assert_eq!(digest_of(&[1]).len(), 64);
    }

    #[test]
    fn digests_from_forms_are_hex_of_the_right_length() {
        let digest = digest_of(&[1, 2, 3]);
        assert_eq!(Confirmed::parse_digest(&digest), Some(digest.clone()));
        assert_eq!(
            Confirmed::parse_digest(&digest.to_ascii_uppercase()),
            Some(digest.clone())
        );
        assert_eq!(Confirmed::parse_digest(&digest[1..]), None);
        assert_eq!(Confirmed::parse_digest(&"g".repeat(64)), None);
        assert_eq!(Confirmed::parse_digest("\0"), None);
    }
}
