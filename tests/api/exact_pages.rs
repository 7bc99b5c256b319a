//! Big listings are kept in memory and brought up to date by every write instead of being
//! rebuilt: every page must stay exactly what the database says (the same query the listing is
//! built with), after edits, additions and deletions interleaved with reads, in every order and
//! for searches long and short.

use customer_desk::customers::search_filter;
use customer_desk::db::Dialect;
use customer_desk::domain::list_query::Search;
use customer_desk::schema::customers;
use diesel::prelude::*;

use crate::helpers::{spawn_app, Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(pages_stay_exact_through_interleaved_writes);
on_both_backends!(pages_stay_exact_while_edits_and_reads_overlap);

const SORTS: [&str; 4] = ["name", "-name", "created", "-created"];

/// The ids of a page, and its range text, as the list shows them.
async fn page(app: &TestApp, q: &str, sort: &str, page: i64, per_page: i64) -> (Vec<i64>, String) {
    let body = app
        .get(&format!(
            "/people/customers?q={q}&sort={sort}&page={page}&per_page={per_page}"
        ))
        .await
        .assert_status(200)
        .body
        .clone();
    let ids = body
        .split("<tr data-id=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap())
        .collect();
    let range = body
        .split("<p class=\"range\">")
        .nth(1)
        .map(|rest| rest[..rest.find('<').unwrap()].to_owned())
        .unwrap_or_default();
    (ids, range)
}

/// The same page straight from the database, and its range text.
async fn truth(app: &TestApp, q: &str, sort: &str, page: i64, per_page: i64) -> (Vec<i64>, String) {
    let (q, sort) = (q.to_owned(), sort.to_owned());
    let all: Vec<i64> = app
        .db(move |conn| {
            let query = customers::table
                .into_boxed()
                .filter(search_filter(&Search::parse(&q), Dialect::of(conn)));
            let query = match sort.as_str() {
                "name" => query.order((
                    customers::last_name.asc(),
                    customers::first_name.asc(),
                    customers::id.asc(),
                )),
                "-name" => query.order((
                    customers::last_name.desc(),
                    customers::first_name.desc(),
                    customers::id.desc(),
                )),
                "created" => query.order((customers::created_at.desc(), customers::id.desc())),
                _ => query.order((customers::created_at.asc(), customers::id.asc())),
            };
            query.select(customers::id).load(conn).unwrap()
        })
        .await;
    let start = ((page - 1) * per_page) as usize;
    let ids: Vec<i64> = all
        .iter()
        .skip(start)
        .take(per_page as usize)
        .copied()
        .collect();
    let range = if ids.is_empty() {
        String::new()
    } else {
        format!(
            "{}–{} of {}",
            group(start + 1),
            group(start + ids.len()),
            group(all.len())
        )
    };
    (ids, range)
}

fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Every sort of each search, a first, a middle and a last page, against the database.
async fn check_all(app: &TestApp, after: &str) {
    for q in ["", "person1", "p", "ma", "zed"] {
        for sort in SORTS {
            for (page_no, per_page) in [(1, 50), (2, 25), (15, 100), (31, 50)] {
                let shown = page(app, q, sort, page_no, per_page).await;
                let expected = truth(app, q, sort, page_no, per_page).await;
                if !expected.0.is_empty() {
                    assert_eq!(
                        shown, expected,
                        "q={q} sort={sort} page={page_no} per_page={per_page} after {after}"
                    );
                }
            }
        }
    }
}

async fn edit(app: &TestApp, id: i64, first: &str, last: &str, email: &str, org: &str) {
    app.post_form(
        &format!("/people/customers/{id}/edit"),
        &[
            ("first_name", first),
            ("last_name", last),
            ("email", email),
            ("organisation", org),
        ],
    )
    .await
    .assert_status(303);
}

async fn pages_stay_exact_through_interleaved_writes(backend: Backend) {
    let app = spawn_app(backend).await;
    // More than a page counts on every view (1,000), so the list is read from kept listings.
    app.add_many_customers(1_600, "Manyco").await;
    let first: i64 = app
        .db(|conn| {
            customers::table
                .select(customers::id)
                .order(customers::id)
                .first(conn)
                .unwrap()
        })
        .await;
    check_all(&app, "the start").await;

    // An edit that moves a customer from the start of the name order to its end, out of the
    // "person1" search and into "zed" and "p" (word beginnings of "Zed Pa").
    edit(&app, first, "Zed", "Zzz", "zed@pa.example", "Pa Ltd").await;
    check_all(&app, "an edit moving a customer").await;

    // An addition, at the start of the name order and in "ma" (Manyco? no: "Maria").
    let added = app
        .add_customer("Maria", "Aaron", "maria@x.example", "Person1 Partners")
        .await;
    check_all(&app, "an addition").await;
    // Through the form, as an administrator would.
    app.post_form(
        "/people/customers/new",
        &[
            ("first_name", "Ada"),
            ("last_name", "Person100"),
            ("email", "ada@zed.example"),
            ("organisation", "Manyco"),
        ],
    )
    .await
    .assert_status(303);
    check_all(&app, "an addition through the form").await;

    // Deletions: the added one, one from the middle, the moved one.
    app.delete_customer(added).await;
    app.delete_customer(first + 800).await;
    check_all(&app, "deletions").await;
    app.delete_customer(first).await;
    // An edit that changes nothing the list orders by or searches.
    edit(
        &app,
        first + 5,
        "Many",
        "Person6",
        "manyco6@many.example",
        "Manyco",
    )
    .await;
    check_all(&app, "a deletion and a no-op edit").await;

    // More ids changed between two reads than are checked in copies against a search (200):
    // first 120 edited and 100 deleted (the survivors checked in copies), then 230 edited and
    // 30 deleted (checked against the search's matches).
    for (edited, deleted, from) in [(120, 100, 100), (230, 30, 400)] {
        for n in 0..edited {
            let id = first + from + n;
            let name = format!("Moved{n}");
            edit(
                &app,
                id,
                "Zed",
                &name,
                &format!("moved{id}@pa.example"),
                "Pa Ltd",
            )
            .await;
        }
        for n in 0..deleted {
            app.delete_customer(first + from + edited + n).await;
        }
        check_all(
            &app,
            &format!("{edited} edits and {deleted} deletions at once"),
        )
        .await;
    }
}

/// Edits (moving customers in the name order, in and out of searches) while pages of the same
/// listings are read: the reads bring the listings up to date as the writes commit, and once
/// the writes are done every page is exact.
async fn pages_stay_exact_while_edits_and_reads_overlap(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_many_customers(1_600, "Manyco").await;
    let first: i64 = app
        .db(|conn| {
            customers::table
                .select(customers::id)
                .order(customers::id)
                .first(conn)
                .unwrap()
        })
        .await;
    check_all(&app, "the start").await;
    let edits = async {
        for n in 0..30i64 {
            let (last, email) = (format!("Moved{n:02}"), format!("moved{n}@zed.example"));
            let org = if n % 2 == 0 { "Zed Ltd" } else { "Manyco" };
            edit(&app, first + n * 37, "Ma", &last, &email, org).await;
        }
    };
    let reads = async {
        for n in 0..30i64 {
            for sort in SORTS {
                page(&app, ["", "ma", "zed"][n as usize % 3], sort, 1 + n % 3, 50).await;
            }
        }
    };
    tokio::join!(edits, reads);
    check_all(&app, "edits overlapping reads").await;
}
