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

use super::Dialect;

/// `column IN (ids)`; `column` is a qualified column of ours (`"customers.id"`).
#[derive(Debug, Clone)]
pub struct InIds {
    column: &'static str,
    ids: String,
    dialect: Dialect,
}

pub fn in_ids(column: &'static str, ids: &[i64], dialect: Dialect) -> InIds {
    let listed = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let ids = match dialect {
        Dialect::Sqlite => format!("[{listed}]"),
        Dialect::Postgres => listed,
    };
    InIds {
        column,
        ids,
        dialect,
    }
}

impl Expression for InIds {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for InIds {}

impl<QS> SelectableExpression<QS> for InIds {}

impl ValidGrouping<()> for InIds {
    type IsAggregate = is_aggregate::Never;
}

/// Not static: the statement cache keys the query by its text, which holds the column.
impl QueryId for InIds {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB> QueryFragment<DB> for InIds
where
    DB: Backend + HasSqlType<Text>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(self.column);
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
                .filter(in_ids("numbers.id", ids, Dialect::Sqlite))
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
            .filter(in_ids("numbers.id", &[1, 2, 3], Dialect::Sqlite))
            .select(numbers::id);
        assert!(QueryFragment::<Sqlite>::is_safe_to_cache_prepared(&query, &Sqlite).unwrap());
        let diesel_in = numbers::table
            .filter(numbers::id.eq_any([1_i64, 2, 3]))
            .select(numbers::id);
        // What this replaces is never kept: a statement per page.
        assert!(!QueryFragment::<Sqlite>::is_safe_to_cache_prepared(&diesel_in, &Sqlite).unwrap());
    }
}
