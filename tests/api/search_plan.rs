//! PostgreSQL answers the list search from its trigram index: the search expression in
//! src/customers (`PG_SEARCH_TEXT`) must stay exactly the indexed one of the migration
//! (`customers_search_trgm_idx`), or every search silently reads the whole table.

use customer_desk::customers::search_filter;
use customer_desk::db::Dialect;
use customer_desk::domain::list_query::Search;
use customer_desk::schema::customers;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::Text;

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
