//! PostgreSQL answers the list search from its trigram index: the search expression in
//! src/customers (`PG_SEARCH_TEXT`) must stay exactly the indexed one of the migration
//! (`customers_search_trgm_idx`), or every search silently reads the whole table.

use customer_desk::customers::{
    among_given, criteria_filter_planned, search_filter, CustomerFilter, SearchPlan, EACH_ROW_UP_TO,
};
use customer_desk::db::{in_customer_ids, Dialect};
use customer_desk::domain::filters::Criteria;
use customer_desk::domain::list_query::Search;
use customer_desk::schema::customers;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Integer, Text};

use crate::helpers::{spawn_app, Backend, ListForm};
use crate::on_both_backends;

on_both_backends!(
    a_few_customers_are_checked_in_copies_with_the_same_answer,
    copies_follow_each_customers_latest_text,
    show_selected_with_a_search_lists_the_picked_customers_it_holds,
    many_given_customers_are_checked_against_the_matches,
    what_sorts_before_what_is_prepared_once,
);

/// The listings' question "which of these sorts before which" is asked on every listing update:
/// diesel keeps its statement prepared (it never keeps a `sql_query`), whatever the pairs.
async fn what_sorts_before_what_is_prepared_once(backend: Backend) {
    use customer_desk::cache::reconcile::ListingSource;
    use customer_desk::customers::Listings;
    use customer_desk::domain::list_query::SortOrder;
    use diesel::connection::InstrumentationEvent;
    use std::sync::{Arc, Mutex};

    let app = spawn_app(backend).await;
    let ada = app
        .add_customer("Ada", "Byron", "ada@example.com", "")
        .await;
    let bob = app
        .add_customer("Bob", "Adams", "bob@example.com", "")
        .await;
    let cy = app.add_customer("Cy", "Young", "cy@example.com", "").await;
    let (answers, prepared) = app
        .db(move |conn| {
            let prepared = Arc::new(Mutex::new(Vec::<String>::new()));
            let seen = prepared.clone();
            conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
                if let InstrumentationEvent::CacheQuery { sql, .. } = event {
                    seen.lock().unwrap().push(sql.to_owned());
                }
            });
            let mut listings = Listings { conn };
            let answers = [
                listings.before(SortOrder::Name, &[(bob, ada)]).unwrap(),
                listings
                    .before(SortOrder::Name, &[(ada, bob), (ada, cy), (cy, bob)])
                    .unwrap(),
                listings
                    .before(SortOrder::Name, &[(cy, ada), (bob, cy)])
                    .unwrap(),
            ];
            let prepared = prepared.lock().unwrap().clone();
            (answers, prepared)
        })
        .await;
    // `(moved, other)` comes back when other sorts before moved: Adams < Byron < Young.
    let sorted = |pairs: &[(i64, i64)]| {
        let mut pairs = pairs.to_vec();
        pairs.sort();
        pairs
    };
    assert_eq!(answers[0], Vec::<(i64, i64)>::new());
    assert_eq!(sorted(&answers[1]), sorted(&[(ada, bob), (cy, bob)]));
    assert_eq!(answers[2], vec![(cy, ada)]);
    let statements: Vec<_> = prepared
        .iter()
        .filter(|sql| sql.contains("pairs"))
        .collect();
    assert_eq!(statements.len(), 1, "prepared: {prepared:#?}");
}

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
/// a page's ids against "All matching") asks SQLite's copies of their search text
/// (`search_copies.rs`) rather than listing every match first (30-45 ms at 1,000,000 customers
/// for `a`) or seeking in the search's own indexes, and finds exactly the customers the list's
/// own plan finds, and under NOT exactly the others, accents and capitals as the search has
/// them. (On PostgreSQL both plans are the same SQL: there this checks the search itself.)
async fn a_few_customers_are_checked_in_copies_with_the_same_answer(backend: Backend) {
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
    let emile = app
        .add_customer("Émile", "Zoë", "emile@ecole.example", "Ünited Ltd")
        .await;
    // 999,999 is nobody: it is on neither side.
    let ids = vec![1, 2, 150, 299, ada, anne, zed, emile, 999_999];
    let mut found_some = Vec::new();
    for q in [
        "a", "an", "acme", "acme a", "lo", "globex", "person15", "nobody", "zed pa", "o'", "ÉMILE",
        "zoë", "é", "ünited", "united",
    ] {
        let given = ids.clone();
        let (from_index, each_row, plan) = app
            .db(move |conn| {
                let dialect = Dialect::of(conn);
                let criteria = Criteria {
                    search: Search::parse(q),
                    ..Default::default()
                };
                let filter = |plan, negated: bool| -> CustomerFilter {
                    let holds = criteria_filter_planned(&criteria, dialect, plan);
                    if negated {
                        Box::new(diesel::dsl::not(holds))
                    } else {
                        holds
                    }
                };
                let among = |conn: &mut _, given: &[i64], plan, negated| {
                    let mut found: Vec<i64> = customers::table
                        .into_boxed()
                        .filter(in_customer_ids(given, dialect))
                        .filter(filter(plan, negated))
                        .select(customers::id)
                        .load(conn)?;
                    found.sort_unstable();
                    Ok::<_, diesel::result::Error>(found)
                };
                let each_row_among = |conn: &mut _, given: &[i64]| {
                    among_given(conn, given, &criteria.search, |conn, plan| {
                        assert!(matches!(plan, SearchPlan::EachRow(_)));
                        Ok((
                            among(conn, given, plan, false)?,
                            among(conn, given, plan, true)?,
                        ))
                    })
                    .unwrap()
                };
                let each_row = each_row_among(conn, &given);
                // Copies of other customers made in between change no answer.
                let others = [ada, zed];
                let others_each_row = each_row_among(conn, &others);
                let plan = if dialect == Dialect::Sqlite {
                    among_given(conn, &given, &criteria.search, |conn, plan| {
                        let query = customers::table
                            .into_boxed()
                            .filter(in_customer_ids(&given, dialect))
                            .filter(filter(plan, false))
                            .select(customers::id);
                        let steps: Vec<(i32, i32, i32, String)> =
                            ExplainQueryPlan(query).load(conn)?;
                        let steps: Vec<String> = steps.into_iter().map(|(.., step)| step).collect();
                        Ok(steps.join("\n"))
                    })
                    .unwrap()
                } else {
                    String::new()
                };
                let from_index = |conn: &mut _, given: &[i64]| {
                    (
                        among(conn, given, SearchPlan::FromIndex, false).unwrap(),
                        among(conn, given, SearchPlan::FromIndex, true).unwrap(),
                    )
                };
                assert_eq!(others_each_row, from_index(conn, &others), "q={q}, others");
                let from_index = from_index(conn, &given);
                (from_index, each_row, plan)
            })
            .await;
        assert_eq!(each_row, from_index, "q={q}");
        assert_eq!(
            from_index.0.len() + from_index.1.len(),
            ids.len() - 1,
            "q={q}: every existing customer is on one side"
        );
        found_some.push((q, from_index.0.len()));
        if sqlite && !Search::parse(q).words().is_empty() {
            // Only the copies are searched, never the search's own indexes.
            let searched: Vec<&str> = plan
                .lines()
                .filter(|step| step.contains("customer_words") || step.contains("customer_search"))
                .collect();
            assert!(
                !searched.is_empty() && searched.iter().all(|step| step.contains("checked_")),
                "q={q}: SQLite searches its own indexes instead of the copies; plan:\n{plan}"
            );
        }
    }
    // The test's own check: the searches find some of these customers and not the others.
    assert_eq!(
        found_some,
        [
            ("a", 2), // Ada and Anne, not the Globex people nor Zed Pa
            ("an", 1),
            ("acme", 2),
            ("acme a", 2),
            ("lo", 1),
            ("globex", 4),
            ("person15", 1),
            ("nobody", 0),
            ("zed pa", 1),
            ("o'", 0),
            ("ÉMILE", 1),
            ("zoë", 1),
            ("é", 1),
            ("ünited", 1),
            ("united", 0), // the search keeps accents
        ]
    );
}

/// Many given customers (a selection holds up to 10,000 picked ids) are checked against the
/// list of matches instead: copying each one's text would cost more than a narrow search's list.
async fn many_given_customers_are_checked_against_the_matches(backend: Backend) {
    let app = spawn_app(backend).await;
    let plans = app
        .db(|conn| {
            let search = Search::parse("acme");
            [1, EACH_ROW_UP_TO, EACH_ROW_UP_TO + 1, 10_000].map(|count| {
                let ids: Vec<i64> = (1..=count as i64).collect();
                among_given(conn, &ids, &search, |_, plan| {
                    Ok(matches!(plan, SearchPlan::EachRow(_)))
                })
                .unwrap()
            })
        })
        .await;
    assert_eq!(plans, [true, true, false, false], "checked in copies");
}

/// The copies hold each customer's text as it is at the check: a customer checked, then changed,
/// is checked again as changed (a copy kept from the first check would still match).
async fn copies_follow_each_customers_latest_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let anne = app
        .add_customer("Anne", "Bonny", "anne@sea.example", "Acme Shipping")
        .await;
    let answers = app
        .db(move |conn| {
            let dialect = Dialect::of(conn);
            let criteria = Criteria {
                search: Search::parse("acme"),
                ..Default::default()
            };
            let check = |conn: &mut _| {
                among_given(conn, &[anne], &criteria.search, |conn, plan| {
                    customers::table
                        .into_boxed()
                        .filter(in_customer_ids(&[anne], dialect))
                        .filter(criteria_filter_planned(&criteria, dialect, plan))
                        .select(customers::id)
                        .load::<i64>(conn)
                })
                .unwrap()
            };
            let before = check(conn);
            diesel::update(customers::table.find(anne))
                .set(customers::organisation.eq("Initech"))
                .execute(conn)
                .unwrap();
            (before, check(conn))
        })
        .await;
    assert_eq!(answers, (vec![anne], vec![]));
}

/// "Show selected" of a few picked customers with a search lists those of them the search
/// holds, in the page's order, with their total; and follows an edit.
async fn show_selected_with_a_search_lists_the_picked_customers_it_holds(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer("Ada", "Lovelace", "ada@engines.example", "Acme")
        .await;
    let anne = app
        .add_customer("Anne", "Bonny", "anne@sea.example", "Acme Shipping")
        .await;
    let zed = app
        .add_customer("Zed", "Pa", "zed@nowhere.example", "Initech")
        .await;
    // Matches the search, but is not picked.
    app.add_customer("Otto", "Acme", "otto@acme.example", "Acme")
        .await;
    let page = app.get("/people/customers?per_page=100").await;
    let mut form = ListForm::from_page(&page);
    for id in [ada, anne, zed] {
        form.tick(id, true);
    }
    form.submit(&app.admin, None).await.assert_status(303);

    let shown = app
        .get("/people/customers?q=acme&selected=1&sort=-name")
        .await;
    shown.assert_contains("1–2 of 2");
    assert_eq!(ListForm::from_page(&shown).ids(), vec![ada, anne]);
    let shown = app
        .get("/people/customers?q=acme&selected=1&sort=name")
        .await;
    assert_eq!(ListForm::from_page(&shown).ids(), vec![anne, ada]);

    app.db(move |conn| {
        diesel::update(customers::table.find(anne))
            .set(customers::organisation.eq("Initech"))
            .execute(conn)
            .unwrap();
    })
    .await;
    let shown = app.get("/people/customers?q=acme&selected=1").await;
    shown.assert_contains("1–1 of 1");
    assert_eq!(ListForm::from_page(&shown).ids(), vec![ada]);
}
