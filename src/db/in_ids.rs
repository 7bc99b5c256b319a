//! `column IN (ids)` for any number of ids in one statement text, which diesel keeps prepared.
//!
//! Diesel writes `eq_any` as `IN (?, ?, …)` on SQLite, a new text for each number of ids, and
//! never keeps those statements (nor any with a piece of literal SQL): preparing the rows of
//! each list page again and again was a quarter of page 1's CPU on SQLite. Here the ids travel
//! as one bound text (a JSON array read by SQLite's `json_each`; a comma list made an array by
//! PostgreSQL), so the text is the same for every call of a query and its statement is kept.

use diesel::backend::Backend;
use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, HasSqlType, Text};
use diesel::QueryResult;
use std::marker::PhantomData;

use super::Dialect;

/// A qualified id column of ours, as a type: a query holding `column IN (ids)` then has a
/// static type, by which diesel finds its kept statement without writing its SQL again (writing
/// the SQL of the list's rows was an eighth of page 1's instructions, callgrind).
pub trait IdColumn: 'static {
    const NAME: &'static str;
}

/// `customers.id`.
#[derive(Debug, Clone, Copy)]
pub struct CustomersId;

impl IdColumn for CustomersId {
    const NAME: &'static str = "customers.id";
}

/// `column IN (ids)`.
#[derive(Debug, Clone)]
pub struct InIds<C> {
    ids: String,
    dialect: Dialect,
    column: PhantomData<C>,
}

/// `customers.id IN (ids)`.
pub fn in_customer_ids(ids: &[i64], dialect: Dialect) -> InIds<CustomersId> {
    in_ids(ids, dialect)
}

pub fn in_ids<C: IdColumn>(ids: &[i64], dialect: Dialect) -> InIds<C> {
    let listed = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let ids = match dialect {
        Dialect::Sqlite => format!("[{listed}]"),
        Dialect::Postgres => listed,
    };
    InIds {
        ids,
        dialect,
        column: PhantomData,
    }
}

impl<C> Expression for InIds<C> {
    type SqlType = Bool;
}

impl<C, QS> AppearsOnTable<QS> for InIds<C> {}

impl<C, QS> SelectableExpression<QS> for InIds<C> {}

impl<C> ValidGrouping<()> for InIds<C> {
    type IsAggregate = is_aggregate::Never;
}

/// Static: its text is fixed by the column and the dialect, and a statement cache belongs to
/// one connection, of one dialect.
impl<C: IdColumn> QueryId for InIds<C> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<C: IdColumn, DB> QueryFragment<DB> for InIds<C>
where
    DB: Backend + HasSqlType<Text>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(C::NAME);
        match self.dialect {
            Dialect::Sqlite => {
                out.push_sql(" IN (SELECT value FROM json_each(");
                out.push_bind_param::<Text, _>(&self.ids)?;
                out.push_sql("))");
            }
            Dialect::Postgres => {
                out.push_sql(" = ANY(CAST(string_to_array(");
                out.push_bind_param::<Text, _>(&self.ids)?;
                out.push_sql(", ',') AS BIGINT[]))");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::query_builder::QueryFragment;
    use diesel::sqlite::Sqlite;

    use super::*;

    diesel::table! {
        numbers (id) {
            id -> BigInt,
        }
    }

    struct NumbersId;

    impl IdColumn for NumbersId {
        const NAME: &'static str = "numbers.id";
    }

    /// SQLite's form finds exactly the ids given, for any number of them, in a statement
    /// diesel may keep (PostgreSQL's form is used by every list page of the integration tests).
    #[test]
    fn ids_are_found_among_any_number_of_them_in_a_statement_kept_prepared() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        diesel::sql_query("CREATE TABLE numbers (id BIGINT PRIMARY KEY)")
            .execute(&mut conn)
            .unwrap();
        diesel::sql_query("INSERT INTO numbers VALUES (1), (7), (9), (-3), (12)")
            .execute(&mut conn)
            .unwrap();
        let among = |conn: &mut SqliteConnection, ids: &[i64]| -> Vec<i64> {
            numbers::table
                .filter(in_ids::<NumbersId>(ids, Dialect::Sqlite))
                .select(numbers::id)
                .order(numbers::id)
                .load(conn)
                .unwrap()
        };
        assert_eq!(among(&mut conn, &[9, 1, 8]), [1, 9]);
        assert_eq!(among(&mut conn, &[-3]), [-3]);
        assert_eq!(among(&mut conn, &[]), Vec::<i64>::new());
        let many: Vec<i64> = (-5..=20).collect();
        assert_eq!(among(&mut conn, &many), [-3, 1, 7, 9, 12]);
        let query = numbers::table
            .filter(in_ids::<NumbersId>(&[1, 2, 3], Dialect::Sqlite))
            .select(numbers::id);
        assert!(QueryFragment::<Sqlite>::is_safe_to_cache_prepared(&query, &Sqlite).unwrap());
        // Found in the statement cache by its type, without its SQL being written again.
        fn static_id<Q: QueryId>(_: &Q) -> bool {
            Q::HAS_STATIC_QUERY_ID
        }
        assert!(static_id(&query));
        let diesel_in = numbers::table
            .filter(numbers::id.eq_any([1_i64, 2, 3]))
            .select(numbers::id);
        // What this replaces is never kept: a statement per page.
        assert!(!QueryFragment::<Sqlite>::is_safe_to_cache_prepared(&diesel_in, &Sqlite).unwrap());
    }
}
