//! PostgreSQL answers the list search from its trigram index: the search expression in
//! src/customers (`PG_SEARCH_TEXT`) must stay exactly the indexed one of the migration
//! (`customers_search_trgm_idx`), or every search silently reads the whole table.

use customer_desk::customers::search_filter;
use customer_desk::db::Dialect;
use customer_desk::domain::list_query::Search;
use customer_desk::schema::customers;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Integer, Text};

use crate::helpers::{spawn_app, Backend};

/// `EXPLAIN` in front of a query, keeping its bind parameters.
struct Explain<Q>(Q);

impl<Q> QueryId for Explain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for Explain<Q> {
    type SqlType = Text;
}

impl<DB: diesel::backend::Backend, Q: QueryFragment<DB>> QueryFragment<DB> for Explain<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("EXPLAIN ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for Explain<Q> {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_search_uses_the_trigram_index() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let app = spawn_app(backend).await;
    app.add_many_customers(1_000, "Globex").await;
    app.add_customer("Ada", "Lovelace", "ada@engines.example", "Acme")
        .await;
    let plan = app
        .db(|conn| {
            diesel::sql_query("ANALYZE customers")
                .execute(conn)
                .unwrap();
            // Needed: on a table this small the planner prefers reading it whole. With
            // sequential scans priced out, an index that matches the expression is used; one
            // that does not match cannot be, and the plan stays a sequential scan.
            diesel::sql_query("SET enable_seqscan = off")
                .execute(conn)
                .unwrap();
            // The list's own filter, as `customers::list` builds it for PostgreSQL.
            let query = customers::table
                .into_boxed()
                .filter(search_filter(&Search::parse("acme"), Dialect::Postgres))
                .select(customers::id);
            let plan: Vec<String> = Explain(query).load(conn).unwrap();
            plan.join("\n")
        })
        .await;
    assert!(
        plan.contains("customers_search_trgm_idx"),
        "the search does not use the trigram index; plan:\n{plan}"
    );
}

/// `EXPLAIN QUERY PLAN` in front of a query (SQLite: one row per step, its text last).
struct ExplainQueryPlan<Q>(Q);

impl<Q> QueryId for ExplainQueryPlan<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for ExplainQueryPlan<Q> {
    type SqlType = (Integer, Integer, Integer, Text);
}

impl<DB: diesel::backend::Backend, Q: QueryFragment<DB>> QueryFragment<DB> for ExplainQueryPlan<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("EXPLAIN QUERY PLAN ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for ExplainQueryPlan<Q> {}

/// The plan of the list's filter for `q` on this backend (PostgreSQL with sequential scans
/// priced out, as above, so that the plan shows whether an index can answer at all).
async fn plan_of(backend: Backend, q: &'static str) -> String {
    let app = spawn_app(backend).await;
    app.add_many_customers(1_000, "Globex").await;
    app.add_customer("Ada", "Lovelace", "ada@engines.example", "Acme")
        .await;
    app.db(move |conn| {
        let dialect = Dialect::of(conn);
        let query = customers::table
            .into_boxed()
            .filter(search_filter(&Search::parse(q), dialect))
            .select(customers::id);
        match dialect {
            Dialect::Postgres => {
                diesel::sql_query("ANALYZE customers")
                    .execute(conn)
                    .unwrap();
                diesel::sql_query("SET enable_seqscan = off")
                    .execute(conn)
                    .unwrap();
                let plan: Vec<String> = Explain(query).load(conn).unwrap();
                plan.join("\n")
            }
            Dialect::Sqlite => {
                let plan: Vec<(i32, i32, i32, String)> =
                    ExplainQueryPlan(query).load(conn).unwrap();
                plan.into_iter()
                    .map(|(.., step)| step)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        }
    })
    .await
}

/// Short words are answered by the word index, one and two letters alike, alone or beside a
/// long word: never by reading every customer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_words_use_the_word_index_on_both_backends() {
    for q in ["a", "lo", "lo acme"] {
        let plan = plan_of(Backend::Sqlite, q).await;
        assert!(
            plan.contains("customer_words VIRTUAL TABLE"),
            "{q}: SQLite does not use the word index; plan:\n{plan}"
        );
        assert!(
            !plan.contains("SCAN customers"),
            "{q}: SQLite reads every customer; plan:\n{plan}"
        );
        if Backend::postgres().is_some() {
            let plan = plan_of(Backend::postgres().unwrap(), q).await;
            assert!(
                plan.contains("customers_words_idx"),
                "{q}: PostgreSQL does not use the word index; plan:\n{plan}"
            );
        }
    }
}
