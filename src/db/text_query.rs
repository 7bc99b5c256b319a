//! A statement of our own text around one bound text, which diesel keeps prepared.
//!
//! Diesel never keeps a `sql_query` statement (its text could be anything), so a question asked
//! on every listing update was parsed and planned again each time: half of its cost at 1 M
//! (profile in docs/performance.md). The text here is one of a few fixed ones, and the
//! statement cache keys it by that text.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Text, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// `before`, the bound `value`, then `after`; its rows are read by name (`QueryableByName`).
/// Each distinct text stays prepared on every connection for the connection's life: the texts
/// must be a few fixed ones of ours, never anything a request brings.
#[derive(Debug, Clone)]
pub struct TextQuery {
    before: String,
    value: String,
    after: String,
}

pub fn text_query(before: String, value: String, after: String) -> TextQuery {
    TextQuery {
        before,
        value,
        after,
    }
}

/// Not static: the statement cache keys the query by its text.
impl QueryId for TextQuery {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for TextQuery {
    type SqlType = Untyped;
}

impl<DB> QueryFragment<DB> for TextQuery
where
    DB: Backend + HasSqlType<Text>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(&self.before);
        out.push_bind_param::<Text, _>(&self.value)?;
        out.push_sql(&self.after);
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for TextQuery {}
