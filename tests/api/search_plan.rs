//! PostgreSQL answers the list search from its trigram index: the search expression in
//! src/customers (`PG_SEARCH_TEXT`) must stay exactly the indexed one of the migration
//! (`customers_search_trgm_idx`), or every search silently reads the whole table.

use customer_desk::customers::{criteria_filter_planned, search_filter, SearchPlan};
use customer_desk::db::Dialect;
use customer_desk::domain::filters::Criteria;
use customer_desk::domain::list_query::Search;
use customer_desk::schema::customers;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Integer, Text};

use crate::helpers::{spawn_app, Backend};
use crate::on_both_backends;

on_both_backends!(a_few_customers_are_looked_up_one_by_one_with_the_same_answer);

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

/// Checking a few given customers against a search (a changed customer for the kept listings,
/// a page's ids against "All matching") looks each one up in SQLite's word indexes by its rowid
/// rather than listing every match first (30-45 ms at 1,000,000 customers for `a`), and finds
/// exactly the customers the list's own plan finds, on both backends.
async fn a_few_customers_are_looked_up_one_by_one_with_the_same_answer(backend: Backend) {
    let sqlite = matches!(backend, Backend::Sqlite);
    let app = spawn_app(backend).await;
    app.add_many_customers(300, "Globex").await;
    let ada = app
        .add_customer("Ada", "Lovelace", "ada@engines.example", "Acme")
        .await;
    let anne = app
        .add_customer("Anne", "Bonny", "anne@sea.example", "Acme Shipping")
        .await;
    let zed = app
        .add_customer("Zed", "Pa", "zed@nowhere.example", "Initech")
        .await;
    let ids = vec![1, 2, 150, 299, ada, anne, zed, 999_999];
    for q in [
        "a", "an", "acme", "acme a", "lo", "globex", "person15", "nobody", "zed pa",
    ] {
        let ids = ids.clone();
        let (from_index, each_row, plan) = app
            .db(move |conn| {
                let dialect = Dialect::of(conn);
                let criteria = Criteria {
                    search: Search::parse(q),
                    ..Default::default()
                };
                let among = |conn: &mut _, plan| {
                    let mut found: Vec<i64> = customers::table
                        .into_boxed()
                        .filter(customers::id.eq_any(ids.clone()))
                        .filter(criteria_filter_planned(&criteria, dialect, plan))
                        .select(customers::id)
                        .load(conn)
                        .unwrap();
                    found.sort_unstable();
                    found
                };
                let plan = if dialect == Dialect::Sqlite {
                    let query = customers::table
                        .into_boxed()
                        .filter(customers::id.eq_any(ids.clone()))
                        .filter(criteria_filter_planned(
                            &criteria,
                            dialect,
                            SearchPlan::EachRow,
                        ))
                        .select(customers::id);
                    let steps: Vec<(i32, i32, i32, String)> =
                        ExplainQueryPlan(query).load(conn).unwrap();
                    steps
                        .into_iter()
                        .map(|(.., step)| step)
                        .collect::<Vec<_>>()
                        .join("\n")
                } else {
                    String::new()
                };
                (
                    among(conn, SearchPlan::FromIndex),
                    among(conn, SearchPlan::EachRow),
                    plan,
                )
            })
            .await;
        assert_eq!(each_row, from_index, "q={q}");
        if sqlite && q != "nobody" {
            assert!(
                plan.contains("CORRELATED") && !plan.contains("LIST SUBQUERY"),
                "q={q}: SQLite lists every match instead of looking each customer up; plan:\n{plan}"
            );
        }
    }
    // The test's own check: the searches do find some of these customers, and not all.
    let found = app
        .db(move |conn| {
            customers::table
                .filter(customers::id.eq_any(vec![ada, anne]))
                .filter(criteria_filter_planned(
                    &Criteria {
                        search: Search::parse("acme a"),
                        ..Default::default()
                    },
                    Dialect::of(conn),
                    SearchPlan::EachRow,
                ))
                .count()
                .get_result::<i64>(conn)
                .unwrap()
        })
        .await;
    assert_eq!(found, 2);
}
