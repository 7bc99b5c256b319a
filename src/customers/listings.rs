//! What the list caches ask of the database ([`ListingSource`]): a listing's ids in order,
//! which changed customers the criteria (search and filters) hold now, and what sorts before what, each compared by
//! the database itself (row values, the columns' collation), exactly as the list's
//! `ORDER BY` does.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use super::list::{listed, ordered};
use crate::cache::reconcile::ListingSource;
use crate::cache::ListingKey;
use crate::db::{DbConn, Dialect};
use crate::domain::filters::Criteria;
use crate::domain::list_query::SortOrder;
use crate::schema::customers;

/// The database, as the list caches see it.
pub struct Listings<'a> {
    pub conn: &'a mut DbConn,
}

impl ListingSource for Listings<'_> {
    type Error = diesel::result::Error;

    fn build(&mut self, key: &ListingKey) -> QueryResult<Vec<i64>> {
        let dialect = Dialect::of(self.conn);
        ordered(
            listed(&Criteria::from_cache_key(&key.0), None, dialect),
            key.1,
        )
        .select(customers::id)
        .load(self.conn)
    }

    fn matching(&mut self, key: &ListingKey, ids: &[i64]) -> QueryResult<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let dialect = Dialect::of(self.conn);
        listed(&Criteria::from_cache_key(&key.0), None, dialect)
            .filter(customers::id.eq_any(ids.to_vec()))
            .select(customers::id)
            .load(self.conn)
    }

    fn before(&mut self, sort: SortOrder, id: i64, others: &[i64]) -> QueryResult<Vec<i64>> {
        if others.is_empty() {
            return Ok(Vec::new());
        }
        // The list's ORDER BY (list::ordered) as a row comparison with the customer `id`.
        let (columns, before) = match sort {
            SortOrder::Name => ("last_name, first_name, id", "<"),
            SortOrder::NameDesc => ("last_name, first_name, id", ">"),
            SortOrder::Created => ("created_at, id", ">"),
            SortOrder::CreatedAsc => ("created_at, id", "<"),
        };
        let listed_columns = columns
            .split(", ")
            .map(|c| format!("customers.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let condition = sql::<Bool>(&format!(
            "({listed_columns}) {before} (SELECT {columns} FROM customers AS moved WHERE moved.id = "
        ))
        .bind::<BigInt, _>(id)
        .sql(")");
        customers::table
            .filter(customers::id.eq_any(others.to_vec()))
            .filter(condition)
            .select(customers::id)
            .load(self.conn)
    }
}
