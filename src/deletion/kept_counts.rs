//! The counts kept on each customer (tickets, those in the trash, chats, notes: what a bulk
//! confirmation reads) against the rows there are. The triggers keep them exact for every
//! writer that runs them; a writer that does not (PostgreSQL with `session_replication_role =
//! replica`, a restore with `--disable-triggers`, an SQLite connection that REPLACEs without
//! `recursive_triggers`) leaves them wrong, and `customer-desk recount` finds and fixes that.
//! Single deletions and every batch count the rows themselves (`counts_for`), so a wrong kept
//! count never changes what is deleted or recorded; it would only show in a bulk confirmation.

use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::{write_transaction, DbConn};
use crate::domain::related::{
    self, kept_columns, miscounted_sql, recount_sql, Counted, RelatedTable, Shown,
};

/// Per kept column of `customers`, how many customers have it wrong (or had, once fixed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptCounts {
    pub miscounted: Vec<(&'static str, i64)>,
}

impl KeptCounts {
    pub fn total(&self) -> i64 {
        self.miscounted.iter().map(|(_, n)| n).sum()
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many customers have each kept count wrong. Reads only.
pub fn check_kept_counts(conn: &mut DbConn) -> QueryResult<KeptCounts> {
    let miscounted = kept_columns()
        .into_iter()
        .map(|(column, count)| {
            let sql = format!(
                "SELECT COUNT(*) AS n FROM ({}) miscounted",
                miscounted_sql(column, &count)
            );
            Ok((column, diesel::sql_query(sql).get_result::<Count>(conn)?.n))
        })
        .collect::<QueryResult<_>>()?;
    Ok(KeptCounts { miscounted })
}

/// Sets every wrong kept count to the rows there are, in one transaction; returns how many
/// customers each column had wrong. On PostgreSQL the counted tables take no writes meanwhile
/// (reads go on), so that no row arrives between a count and its correction.
pub fn recount_kept_counts(conn: &mut DbConn) -> QueryResult<KeptCounts> {
    write_transaction(conn, |conn| {
        if let DbConn::Pg(_) = conn {
            diesel::sql_query(
                "LOCK TABLE tickets, chat_conversations, notes IN SHARE ROW EXCLUSIVE MODE",
            )
            .execute(conn)?;
        }
        let miscounted = kept_columns()
            .into_iter()
            .map(|(column, count)| {
                let fixed = diesel::sql_query(recount_sql(column, &count)).execute(conn)?;
                Ok((column, fixed as i64))
            })
            .collect::<QueryResult<_>>()?;
        Ok(KeptCounts { miscounted })
    })
}

/// What goes with one customer, in the order of [`RelatedSums`](super::RelatedSums): its
/// tickets, those in the trash, its chat conversations and its notes (from
/// [`RELATED`](crate::domain::related::RELATED), which declares each table once), each as the
/// SQL `count` writes for a table, its naming and whether only the trash is counted.
fn per_customer(count: impl Fn(&RelatedTable, &Shown, bool) -> String) -> [String; 4] {
    let of = |counted: Counted, in_trash: bool| {
        let (entry, shown) = related::shown(counted);
        count(entry, shown, in_trash)
    };
    [
        of(Counted::Tickets, false),
        of(Counted::Tickets, true),
        of(Counted::Chats, false),
        of(Counted::Notes, false),
    ]
}

/// As kept on the customer (by triggers).
fn kept_on_customer() -> [String; 4] {
    per_customer(|_, shown, in_trash| related::kept_count_sql(shown, in_trash))
}

/// Counted in the related tables (index-only subqueries).
pub(super) fn counted_in_tables() -> [String; 4] {
    per_customer(|entry, _, in_trash| related::count_per_customer_sql(entry, in_trash))
}

type CountColumn = SqlLiteral<BigInt>;

/// Per customer, as kept on it: tickets, tickets in the trash, chats and notes, as columns over
/// `customers` (what a bulk confirmation shows and a job freezes).
pub(crate) fn related_of() -> (CountColumn, CountColumn, CountColumn, CountColumn) {
    // The kept counts are BIGINT on both backends.
    let [tickets, trashed, chats, notes] = kept_on_customer().map(|count| sql(&count));
    (tickets, trashed, chats, notes)
}

pub(super) fn summed(
    per_customer: [String; 4],
) -> (CountColumn, CountColumn, CountColumn, CountColumn) {
    // SUM over BIGINT is NUMERIC on PostgreSQL: cast back so that both backends give a BIGINT.
    let [tickets, trashed, chats, notes] =
        per_customer.map(|count| sql(&format!("CAST(COALESCE(SUM({count}), 0) AS BIGINT)")));
    (tickets, trashed, chats, notes)
}
