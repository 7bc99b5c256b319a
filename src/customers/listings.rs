//! What the list caches ask of the database ([`ListingSource`]): a listing's ids in order, one
//! snapshot to bring a listing up to date in, which changed customers the criteria (search and
//! filters) hold now, and what sorts before what, each compared by the database itself (row
//! values, the columns' collation), exactly as the list's `ORDER BY` does.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use super::list::{listed, listed_planned, ordered};
use super::search::{among_given, CustomerFilter, EACH_ROW_UP_TO};
use crate::cache::reconcile::ListingSource;
use crate::cache::ListingKey;
use crate::db::{in_customer_ids, text_query, DbConn, Dialect, Snapshot};
use crate::domain::filters::Criteria;
use crate::domain::list_query::SortOrder;
use crate::schema::customers;

/// The database, as the list caches see it.
pub struct Listings<'a> {
    pub conn: &'a mut DbConn,
}

#[derive(QueryableByName)]
struct Pair {
    #[diesel(sql_type = BigInt)]
    moved: i64,
    #[diesel(sql_type = BigInt)]
    other: i64,
}

impl ListingSource for Listings<'_> {
    type Error = diesel::result::Error;

    fn build(&mut self, key: &ListingKey) -> QueryResult<Vec<i64>> {
        let dialect = Dialect::of(self.conn);
        let criteria = Criteria::from_cache_key(&key.0);
        if dialect == Dialect::Sqlite {
            // SQLite hands the rows over one at a time.
            return ordered(listed(&criteria, None, dialect), key.1)
                .select(customers::id)
                .load(self.conn);
        }
        // PostgreSQL's client library holds a whole result before its first row is read: a
        // build of a million ids took the server's memory 42 MB above where it ended, in parts
        // 13 MB, as fast (searches of fewer matches than a part still take one query).
        self.built_in_parts(key, BUILD_PART)
    }

    fn snapshot<T>(
        &mut self,
        read: impl FnOnce(&mut Self, bool) -> QueryResult<T>,
    ) -> QueryResult<T> {
        let snapshot = Snapshot::begin(self.conn)?;
        let read = read(self, snapshot.began());
        snapshot.end(self.conn, read)
    }

    fn held(&mut self, criteria: &str, ids: &[i64]) -> QueryResult<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let dialect = Dialect::of(self.conn);
        // Many ids (a batch of a bulk deletion): first those that still exist, by primary key,
        // so that a batch of deleted customers asks the search nothing, and a few survivors
        // are checked in copies of their text rather than against every match of the search.
        let existing: Vec<i64>;
        let ids = if ids.len() > EACH_ROW_UP_TO {
            existing = customers::table
                .filter(in_customer_ids(ids, dialect))
                .select(customers::id)
                .load(self.conn)?;
            if existing.is_empty() {
                return Ok(Vec::new());
            }
            &existing
        } else {
            ids
        };
        let criteria = Criteria::from_cache_key(criteria);
        among_given(self.conn, ids, &criteria.search, |conn, plan| {
            listed_planned(&criteria, None, dialect, plan)
                .filter(in_customer_ids(ids, dialect))
                .select(customers::id)
                .load(conn)
        })
    }

    fn in_order(&mut self, sort: SortOrder, ids: &[i64]) -> QueryResult<Vec<i64>> {
        let dialect = Dialect::of(self.conn);
        // By primary key only, so that no plan walks a sort index for a few rows.
        ordered(
            customers::table
                .into_boxed()
                .filter(in_customer_ids(ids, dialect)),
            sort,
        )
        .select(customers::id)
        .load(self.conn)
    }

    fn before(&mut self, sort: SortOrder, pairs: &[(i64, i64)]) -> QueryResult<Vec<(i64, i64)>> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        // For every pair at once.
        let SortKey { before, .. } = SortKey::of(sort);
        let of = |table: &str| SortKey::of(sort).columns(table);
        // The pairs travel as one bound text, and the statement is of fixed text (one per sort
        // and dialect), kept prepared: written as a VALUES list of literals, and later as a
        // `sql_query` diesel prepares every time, parsing was half of this question's cost at
        // 1 M (profiles).
        let (list, pairs_before, pairs_after) = match Dialect::of(self.conn) {
            Dialect::Sqlite => (
                format!("[{}]", join_pairs(pairs, "[", "]")),
                "SELECT json_extract(value, '$[0]') AS moved, json_extract(value, '$[1]') AS other \
                 FROM json_each(",
                ")",
            ),
            Dialect::Postgres => (
                join_pairs(pairs, "", ""),
                "SELECT p[1] AS moved, p[2] AS other FROM (SELECT string_to_array(unnest(\
                 string_to_array(",
                ", ';')), ',')::bigint[] AS p) AS split",
            ),
        };
        let compared = format!(
            ") SELECT moved.id AS moved, other.id AS other FROM pairs \
             JOIN customers AS moved ON moved.id = pairs.moved \
             JOIN customers AS other ON other.id = pairs.other \
             WHERE ({}) {before} ({})",
            of("other"),
            of("moved"),
        );
        Ok(text_query(
            format!("WITH pairs (moved, other) AS ({pairs_before}"),
            list,
            format!("{pairs_after}{compared}"),
        )
        .load::<Pair>(self.conn)?
        .into_iter()
        .map(|pair| (pair.moved, pair.other))
        .collect())
    }
}

impl Listings<'_> {
    /// A listing read in parts of at most `part` ids, each from the last id of the one before
    /// on (a row comparison the sort's index answers), all in one snapshot: the ids `build`
    /// reads in one query.
    pub fn built_in_parts(&mut self, key: &ListingKey, part: i64) -> QueryResult<Vec<i64>> {
        let dialect = Dialect::of(self.conn);
        let criteria = Criteria::from_cache_key(&key.0);
        let snapshot = Snapshot::begin(self.conn)?;
        let mut ids: Vec<i64> = Vec::new();
        let built = loop {
            let mut rows = listed(&criteria, None, dialect);
            if let Some(last) = ids.last() {
                rows = rows.filter(sorting_after(key.1, *last));
            }
            match ordered(rows, key.1)
                .select(customers::id)
                .limit(part)
                .load::<i64>(self.conn)
            {
                Ok(read) => {
                    let whole = read.len() as i64 == part;
                    ids.extend(read);
                    if !whole {
                        break Ok(ids);
                    }
                }
                Err(error) => break Err(error),
            }
        };
        snapshot.end(self.conn, built)
    }
}

/// Ids a part of a PostgreSQL build reads at most.
const BUILD_PART: i64 = 250_000;

/// The list's ORDER BY (`list::ordered`) as a row comparison: its columns, and the operator by
/// which a row comes before another.
struct SortKey {
    columns: &'static [&'static str],
    before: &'static str,
    after: &'static str,
}

impl SortKey {
    fn of(sort: SortOrder) -> Self {
        let name = ["last_name", "first_name", "id"].as_slice();
        let created = ["created_at", "id"].as_slice();
        let (columns, before, after) = match sort {
            SortOrder::Name => (name, "<", ">"),
            SortOrder::NameDesc => (name, ">", "<"),
            SortOrder::Created => (created, ">", "<"),
            SortOrder::CreatedAsc => (created, "<", ">"),
        };
        Self {
            columns,
            before,
            after,
        }
    }

    /// `table.column, ...`
    fn columns(&self, table: &str) -> String {
        self.columns
            .iter()
            .map(|c| format!("{table}.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Customers that sort after the customer `last` (who exists in the snapshot) in `sort`: a row
/// comparison the sort's index answers.
fn sorting_after(sort: SortOrder, last: i64) -> CustomerFilter {
    let key = SortKey::of(sort);
    Box::new(
        diesel::dsl::sql::<Bool>(&format!(
            "({}) {} (SELECT {} FROM customers AS last WHERE last.id = ",
            key.columns("customers"),
            key.after,
            key.columns("last"),
        ))
        .bind::<BigInt, _>(last)
        .sql(")"),
    )
}

/// `[1,2],[3,4]` (SQLite's JSON) or `1,2;3,4` (PostgreSQL's arrays): ids are numbers of ours.
fn join_pairs(pairs: &[(i64, i64)], open: &str, close: &str) -> String {
    let separator = if open.is_empty() { ";" } else { "," };
    pairs
        .iter()
        .map(|(moved, other)| format!("{open}{moved},{other}{close}"))
        .collect::<Vec<_>>()
        .join(separator)
}
