//! The list's filters (organisation, created, last active, tickets): each alone and combined,
//! counted against SQL written here from the child tables (not from `last_active_at`, so the
//! triggers that keep it are checked too); invalid values; other systems' writes shown; filters kept by links
//! and the selection. The data and counting helpers here also serve `filters_deletion.rs`.

use chrono::NaiveDateTime;
use customer_desk::cache::CountCache;
use customer_desk::db::DbConn;
use customer_desk::schema::{
    chat_conversations, chat_messages, customers, ticket_messages, tickets,
};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::helpers::{spawn_app, Backend, ListForm, Page, TestApp};
use crate::on_both_backends;

on_both_backends!(
    every_filter_alone_and_combined_counts_what_sql_counts,
    invalid_filter_values_are_noted_and_the_list_still_shows,
    activity_filters_show_other_systems_writes_within_seconds,
    filters_survive_paging_sorting_and_the_selection,
    both_seeders_leave_the_last_activity_of_every_customer,
);

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// A customer inserted as another system would (only the columns it knows): the triggers set
/// `last_active_at`.
pub(crate) fn customer(conn: &mut DbConn, name: &str, organisation: &str, created: &str) -> i64 {
    diesel::insert_into(customers::table)
        .values((
            customers::first_name.eq("Given"),
            customers::last_name.eq(name),
            customers::email.eq(format!("{}@filters.example", name.to_lowercase())),
            customers::organisation.eq(organisation),
            customers::created_at.eq(at(created)),
            customers::updated_at.eq(at(created)),
        ))
        .returning(customers::id)
        .get_result(conn)
        .unwrap()
}

pub(crate) fn ticket(
    conn: &mut DbConn,
    customer: i64,
    status: &str,
    trashed: bool,
    created: &str,
) -> i64 {
    diesel::insert_into(tickets::table)
        .values((
            tickets::customer_id.eq(customer),
            tickets::subject.eq("Help"),
            tickets::status.eq(status),
            tickets::trashed_at.eq(trashed.then(|| at(created))),
            tickets::created_at.eq(at(created)),
        ))
        .returning(tickets::id)
        .get_result(conn)
        .unwrap()
}

pub(crate) fn ticket_message(conn: &mut DbConn, ticket: i64, created: &str) {
    diesel::insert_into(ticket_messages::table)
        .values((
            ticket_messages::ticket_id.eq(ticket),
            ticket_messages::body.eq("Hello"),
            ticket_messages::created_at.eq(at(created)),
        ))
        .execute(conn)
        .unwrap();
}

pub(crate) fn chat(conn: &mut DbConn, customer: i64, started: &str) -> i64 {
    diesel::insert_into(chat_conversations::table)
        .values((
            chat_conversations::customer_id.eq(customer),
            chat_conversations::started_at.eq(at(started)),
        ))
        .returning(chat_conversations::id)
        .get_result(conn)
        .unwrap()
}

pub(crate) fn chat_message(conn: &mut DbConn, chat: i64, created: &str) {
    diesel::insert_into(chat_messages::table)
        .values((
            chat_messages::conversation_id.eq(chat),
            chat_messages::body.eq("Hi"),
            chat_messages::created_at.eq(at(created)),
        ))
        .execute(conn)
        .unwrap();
}

/// Twelve customers of three organisations, created over three years, with activity of every
/// kind at different times and tickets of every status (some in the trash).
pub(crate) fn arrange(conn: &mut DbConn) {
    let a = customer(conn, "Alpha", "Acme", "2022-03-01 10:00:00");
    let t = ticket(conn, a, "solved", false, "2022-04-01 10:00:00");
    ticket_message(conn, t, "2024-02-10 09:00:00");
    let b = customer(conn, "Bravo", "ACME", "2022-05-01 10:00:00");
    ticket(conn, b, "active", false, "2022-06-01 10:00:00");
    let c = customer(conn, "Charlie", "acme", "2023-01-01 00:00:00");
    ticket(conn, c, "waiting", true, "2023-01-05 10:00:00");
    let d = customer(conn, "Delta", "Acme", "2023-07-01 10:00:00");
    let chat_d = chat(conn, d, "2023-08-01 10:00:00");
    chat_message(conn, chat_d, "2025-01-01 00:00:00");
    let e = customer(conn, "Echo", "Globex", "2023-12-31 23:59:59");
    ticket(conn, e, "closed", false, "2024-01-02 10:00:00");
    ticket(conn, e, "on_hold", false, "2024-01-03 10:00:00");
    let f = customer(conn, "Foxtrot", "Globex", "2024-01-01 00:00:00");
    chat(conn, f, "2024-12-31 23:59:59");
    let g = customer(conn, "Golf", "Globex", "2024-06-15 10:00:00");
    ticket(conn, g, "closed", false, "2024-06-16 10:00:00");
    customer(conn, "Hotel", "Initech", "2024-09-01 10:00:00");
    let i = customer(conn, "India", "Initech", "2025-02-01 10:00:00");
    let t = ticket(conn, i, "waiting", false, "2025-02-02 10:00:00");
    ticket_message(conn, t, "2025-03-03 10:00:00");
    customer(conn, "Juliett", "", "2025-05-01 10:00:00");
    let k = customer(conn, "Kilo", "Initech Europe", "2021-01-01 10:00:00");
    ticket(conn, k, "active", true, "2021-01-02 10:00:00");
    let l = customer(conn, "Lima", "Acme", "2021-06-01 10:00:00");
    ticket(conn, l, "solved", true, "2021-06-02 10:00:00");
}

/// Each backend's answer to `SELECT count(*) FROM customers WHERE <condition>`.
pub(crate) fn count_where(conn: &mut DbConn, condition: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query(format!(
        "SELECT count(*) AS n FROM customers WHERE {condition}"
    ))
    .get_result::<Count>(conn)
    .unwrap()
    .n
}

/// Last activity before `day`, from the child tables.
pub(crate) fn inactive_since(day: &str) -> String {
    let bound = format!("'{day} 00:00:00'");
    format!(
        "customers.created_at < {bound} \
         AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = customers.id AND t.created_at >= {bound}) \
         AND NOT EXISTS (SELECT 1 FROM tickets t JOIN ticket_messages m ON m.ticket_id = t.id \
                         WHERE t.customer_id = customers.id AND m.created_at >= {bound}) \
         AND NOT EXISTS (SELECT 1 FROM chat_conversations c WHERE c.customer_id = customers.id AND c.started_at >= {bound}) \
         AND NOT EXISTS (SELECT 1 FROM chat_conversations c JOIN chat_messages m ON m.conversation_id = c.id \
                         WHERE c.customer_id = customers.id AND m.created_at >= {bound})"
    )
}

pub(crate) const OPEN: &str = "EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = customers.id \
                    AND t.trashed_at IS NULL AND t.status IN ('active', 'waiting', 'on_hold'))";

/// "1–7 of 7" → 7; "No customers" → 0.
pub(crate) fn listed_total(page: &Page) -> i64 {
    page.assert_status(200);
    let start = page.body.find(r#"<p class="range">"#).expect("a range") + 17;
    let text = &page.body[start..start + page.body[start..].find("</p>").unwrap()];
    match text.rsplit_once(" of ") {
        Some((_, total)) => total.replace(',', "").trim().parse().unwrap(),
        None => {
            assert_eq!(text, "No customers");
            0
        }
    }
}

/// "All (N)" of the selection menu.
pub(crate) fn all_count(page: &Page) -> i64 {
    let start = page.body.find(r#"value="all">All ("#).expect("All (N)") + 17;
    let end = start + page.body[start..].find(')').unwrap();
    page.body[start..end].replace(',', "").parse().unwrap()
}

async fn every_filter_alone_and_combined_counts_what_sql_counts(backend: Backend) {
    let app = spawn_app(backend).await;
    app.db(arrange).await;
    let cases: Vec<(&str, String)> = vec![
        ("", "1 = 1".into()),
        ("organisation=acme", "lower(organisation) = 'acme'".into()),
        ("organisation=ACME", "lower(organisation) = 'acme'".into()),
        ("organisation=Initech", "lower(organisation) = 'initech'".into()),
        ("organisation_not=Acme", "lower(organisation) <> 'acme'".into()),
        ("created_after=2023-12-31", "created_at >= '2024-01-01 00:00:00'".into()),
        ("created_before=2024-01-01", "created_at < '2024-01-01 00:00:00'".into()),
        ("created_before=2023-01-01", "created_at < '2023-01-01 00:00:00'".into()),
        ("active_before=2024-01-01", inactive_since("2024-01-01")),
        ("active_before=2025-01-01", inactive_since("2025-01-01")),
        ("active_before=2025-01-02", inactive_since("2025-01-02")),
        (
            "tickets=none",
            "NOT EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = customers.id)".into(),
        ),
        ("tickets=open", OPEN.into()),
        ("tickets=no_open", format!("NOT {OPEN}")),
        (
            "organisation=acme&tickets=no_open&active_before=2024-06-01",
            format!(
                "lower(organisation) = 'acme' AND NOT {OPEN} AND {}",
                inactive_since("2024-06-01")
            ),
        ),
        (
            "q=initech&organisation_not=initech&created_after=2020-12-31",
            "lower(organisation) LIKE '%initech%' AND lower(organisation) <> 'initech' \
             AND created_at >= '2021-01-01 00:00:00'"
                .into(),
        ),
        (
            "created_after=2022-12-31&created_before=2024-07-01&tickets=open",
            format!(
                "created_at >= '2023-01-01 00:00:00' AND created_at < '2024-07-01 00:00:00' AND {OPEN}"
            ),
        ),
    ];
    for (query, condition) in cases {
        let expected = app.db(move |conn| count_where(conn, &condition)).await;
        let page = app.get(&format!("/people/customers?{query}")).await;
        assert_eq!(listed_total(&page), expected, "list of ?{query}");
        assert_eq!(all_count(&page), expected, "All (N) of ?{query}");
        // The same criteria on a second page size and sort, through "Show selected" after All.
        let sorted = app
            .get(&format!(
                "/people/customers?{query}&sort=-created&per_page=25"
            ))
            .await;
        assert_eq!(listed_total(&sorted), expected, "sorted ?{query}");
    }
    // Sanity of the arrangement: the filters are not trivially everything or nothing.
    let inactive = app
        .db(|conn| count_where(conn, &inactive_since("2025-01-01")))
        .await;
    assert!((3..12).contains(&inactive), "{inactive}");
}

async fn invalid_filter_values_are_noted_and_the_list_still_shows(backend: Backend) {
    let app = spawn_app(backend).await;
    app.db(arrange).await;
    let long = "9".repeat(10_000);
    let page = app
        .get(&format!(
            "/people/customers?created_after=yesterday&tickets=%27%3B+DROP&active_before={long}\
             &created_before=2024-02-30&organisation=%20"
        ))
        .await;
    page.assert_status(200)
        .assert_contains("“yesterday” is not a date for “Created after”")
        .assert_contains("is not a tickets filter")
        .assert_contains("“2024-02-30” is not a date");
    assert_eq!(listed_total(&page), 12, "every filter ignored");
    assert!(
        !page.body.contains(&long),
        "a long value is not repeated whole"
    );
    // A valid filter beside invalid ones still applies.
    let page = app
        .get("/people/customers?tickets=nope&organisation=Globex")
        .await;
    assert_eq!(listed_total(&page), 3);
    page.assert_contains(r#"class="chip""#);
}

async fn activity_filters_show_other_systems_writes_within_seconds(backend: Backend) {
    let app = spawn_app(backend).await;
    // Over the count cache's exact limit and the order cache's listing size.
    app.add_many_customers(2_100, "Many").await;
    let list = "/people/customers?tickets=none&organisation=many";
    assert_eq!(listed_total(&app.get(list).await), 2_100);
    let deep = format!("{list}&page=42");
    let last_page = app.get(&deep).await;
    assert_eq!(ListForm::from_page(&last_page).rows.len(), 50);
    // A ticket written by another system (straight into the table, not through the app).
    app.db(|conn| {
        let first: i64 = customers::table
            .select(customers::id)
            .order(customers::id)
            .first(conn)
            .unwrap();
        ticket(conn, first, "active", false, "2026-01-01 00:00:00");
    })
    .await;
    // Who is listed follows at once: the last page has one customer fewer; a small total
    // (counted on every page) too.
    let last_page = app.get(&deep).await;
    assert_eq!(ListForm::from_page(&last_page).rows.len(), 49);
    let open = app.get("/people/customers?tickets=open").await;
    assert_eq!(listed_total(&open), 1);
    assert_eq!(all_count(&open), 1);
    // A large total is kept a few seconds (counting half a million customers on every page
    // would cost every page that much), then counted again.
    tokio::time::sleep(CountCache::TTL + std::time::Duration::from_millis(300)).await;
    assert_eq!(listed_total(&app.get(list).await), 2_099);
    assert_eq!(listed_total(&app.get(&deep).await), 2_099);
}

async fn filters_survive_paging_sorting_and_the_selection(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_many_customers(60, "Paged").await;
    app.add_many_customers(5, "Other").await;
    let page = app
        .get("/people/customers?organisation=paged&per_page=25&sort=-name")
        .await;
    assert_eq!(listed_total(&page), 60);
    // Page links, the form's return_to and the chip's removal keep (or drop) the filter.
    page.assert_contains("?organisation=paged&#38;sort=-name&#38;per_page=25&#38;page=2")
        .assert_contains(r#"href="?sort=-name&#38;per_page=25""#)
        .assert_contains("Organisation is “paged”");
    let form = ListForm::from_page(&page);
    assert!(form
        .fields
        .contains(&("organisation".to_owned(), "paged".to_owned())));
    let moved = form
        .submit(
            &app.admin,
            Some(("goto", "?organisation=paged&per_page=25&page=2")),
        )
        .await;
    assert_eq!(
        moved.location.as_deref(),
        Some("/people/customers?organisation=paged&per_page=25&page=2")
    );
    // All with the filter selects the 60, not the 65; Show selected keeps the filter.
    select_all(&app, "organisation=paged").await;
    let after = app.get("/people/customers?organisation=paged").await;
    after
        .assert_contains("<strong>60 selected</strong>")
        .assert_contains("/people/customers?organisation=paged&#38;selected=1");
    let shown = app.get("/people/customers?selected=1").await;
    assert_eq!(listed_total(&shown), 60);
}

pub(crate) async fn select_all(app: &TestApp, query: &str) -> Page {
    let page = app.get(&format!("/people/customers?{query}")).await;
    ListForm::from_page(&page)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
    page
}

/// Customers whose `last_active_at` is not the latest of their creation and child rows: it must
/// be at least each of them and equal to one of them.
const WRONG_LAST_ACTIVITY: &str = "NOT (
    c.last_active_at >= c.created_at
    AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = c.id AND t.created_at > c.last_active_at)
    AND NOT EXISTS (SELECT 1 FROM tickets t JOIN ticket_messages m ON m.ticket_id = t.id
                    WHERE t.customer_id = c.id AND m.created_at > c.last_active_at)
    AND NOT EXISTS (SELECT 1 FROM chat_conversations h WHERE h.customer_id = c.id AND h.started_at > c.last_active_at)
    AND NOT EXISTS (SELECT 1 FROM chat_conversations h JOIN chat_messages m ON m.conversation_id = h.id
                    WHERE h.customer_id = c.id AND m.created_at > c.last_active_at)
    AND (c.last_active_at = c.created_at
         OR EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = c.id AND t.created_at = c.last_active_at)
         OR EXISTS (SELECT 1 FROM tickets t JOIN ticket_messages m ON m.ticket_id = t.id
                    WHERE t.customer_id = c.id AND m.created_at = c.last_active_at)
         OR EXISTS (SELECT 1 FROM chat_conversations h WHERE h.customer_id = c.id AND h.started_at = c.last_active_at)
         OR EXISTS (SELECT 1 FROM chat_conversations h JOIN chat_messages m ON m.conversation_id = h.id
                    WHERE h.customer_id = c.id AND m.created_at = c.last_active_at)))";

async fn both_seeders_leave_the_last_activity_of_every_customer(backend: Backend) {
    use customer_desk::seed::{seed_shaped, Shape};
    let app = spawn_app(backend).await;
    let wrong = app
        .db(|conn| {
            seed_shaped(conn, 60, 3, Shape::Realistic, false).unwrap();
            seed_shaped(conn, 30, 0, Shape::Bench, false).unwrap();
            arrange(conn);
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = BigInt)]
                n: i64,
            }
            diesel::sql_query(format!(
                "SELECT count(*) AS n FROM customers c WHERE {WRONG_LAST_ACTIVITY}"
            ))
            .get_result::<Count>(conn)
            .unwrap()
            .n
        })
        .await;
    assert_eq!(wrong, 0);
    // The check itself can fail: one customer's activity set back by hand is found.
    let found = app
        .db(|conn| {
            diesel::sql_query(
                "UPDATE customers SET last_active_at = created_at \
                 WHERE id = (SELECT min(customer_id) FROM tickets)",
            )
            .execute(conn)
            .unwrap();
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = BigInt)]
                n: i64,
            }
            diesel::sql_query(format!(
                "SELECT count(*) AS n FROM customers c WHERE {WRONG_LAST_ACTIVITY}"
            ))
            .get_result::<Count>(conn)
            .unwrap()
            .n
        })
        .await;
    assert_eq!(found, 1);
}
