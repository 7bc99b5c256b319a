//! How a bulk confirmation names what it showed, and the check that what is frozen on submit is
//! exactly that (the confirmation itself is `deletion::preview_bulk`).
//!
//! The confirmation names a set of customers by a SHA-256 digest of their ids in ascending
//! order, and carries the counts of what goes with them. No other set has the same digest (a
//! collision would break SHA-256), so a set that gained, lost or swapped even one customer is
//! told apart; and a ticket, chat or note added meanwhile changes the counts.
//!
//! Customers that an unfinished deletion job already holds are not candidates: they are being
//! deleted, and a second job for them would only delete nothing.
//!
//! With "Skip customers with open tickets", the set is the candidates without an open ticket:
//! the digest and the counts are those of that reduced set, and the confirmation also carries
//! how many were kept, so that a customer who gets (or loses) an open ticket before the submit
//! makes the set differ.

use diesel::connection::DefaultLoadingMode;
use diesel::dsl::not;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::JobStatus;
use crate::customers::{has_open_ticket, CustomerFilter};
use crate::db::{DbConn, Dialect};
use crate::deletion::RelatedSums;
use crate::domain::deletion_counts::DeletionCounts;
use crate::schema::{customers, deletion_job_items, deletion_jobs};

/// Exactly what a confirmation showed: which customers (by digest) and what goes with them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Confirmed {
    /// SHA-256 of the customer ids in ascending order, as 64 lowercase hex digits.
    pub digest: String,
    pub counts: DeletionCounts,
    /// Customers of the selection left out because they have an open ticket (0 unless the
    /// confirmation skips them).
    pub kept: i64,
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
    hex(&hasher.finalize())
}

/// Unfinished jobs: their customers are being deleted already.
pub(crate) fn unfinished_jobs(conn: &mut DbConn) -> QueryResult<Vec<i64>> {
    deletion_jobs::table
        .filter(deletion_jobs::status.eq_any(JobStatus::UNFINISHED.map(JobStatus::as_str)))
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

/// The candidates that would be deleted: all of them, or with `skip_open_tickets` only those
/// without an open ticket.
pub(crate) fn to_delete(
    filter: CustomerFilter,
    busy_jobs: &[i64],
    skip_open_tickets: bool,
    dialect: Dialect,
) -> CustomerFilter {
    let candidates = candidates(filter, busy_jobs);
    if skip_open_tickets {
        Box::new(candidates.and(not(has_open_ticket(dialect))))
    } else {
        candidates
    }
}

/// What a job froze: its items' ids and the counts each customer had at that moment.
pub(crate) fn frozen(conn: &mut DbConn, job: i64) -> QueryResult<Confirmed> {
    summed(
        deletion_job_items::table
            .filter(deletion_job_items::job_id.eq(job))
            .order(deletion_job_items::customer_id.asc())
            .select((
                deletion_job_items::customer_id,
                (
                    deletion_job_items::tickets,
                    deletion_job_items::tickets_in_trash,
                    deletion_job_items::chats,
                    deletion_job_items::notes,
                ),
            ))
            .load_iter::<(i64, RelatedSums), DefaultLoadingMode>(conn)?
            .map(|row| row.map(|(id, related)| (id, related, false))),
    )
}

/// Customers in ascending id order, each with its counts and whether it is kept (skipped for an
/// open ticket): the digest and the totals of those not kept, and how many were kept.
pub(crate) fn summed(
    rows: impl Iterator<Item = QueryResult<(i64, RelatedSums, bool)>>,
) -> QueryResult<Confirmed> {
    let mut hasher = Sha256::new();
    let mut counts = DeletionCounts::default();
    let mut kept = 0;
    for row in rows {
        let (id, (tickets, tickets_in_trash, chats, notes), is_kept) = row?;
        if is_kept {
            kept += 1;
            continue;
        }
        hasher.update(id.to_be_bytes());
        counts.customers += 1;
        counts.tickets += tickets;
        counts.tickets_in_trash += tickets_in_trash;
        counts.chats += chats;
        counts.notes += notes;
    }
    Ok(Confirmed {
        digest: hex(&hasher.finalize()),
        counts,
        kept,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
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
    fn kept_customers_are_left_out_of_the_digest_and_the_counts() {
        let rows = [
            (3, (2, 1, 1, 0), false),
            (5, (4, 0, 0, 1), true),
            (8, (1, 0, 2, 3), false),
        ];
        let confirmed = summed(rows.into_iter().map(Ok)).unwrap();
        assert_eq!(confirmed.digest, digest_of(&[3, 8]));
        assert_eq!(confirmed.kept, 1);
        assert_eq!(
            confirmed.counts,
            DeletionCounts {
                customers: 2,
                tickets: 3,
                tickets_in_trash: 1,
                chats: 3,
                notes: 3,
            }
        );
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
