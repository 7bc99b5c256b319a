//! Deleting by filters: "All (N)" with filters deletes exactly the matching set; activity, an
//! open ticket or a moved organisation between the confirmation and the submit gives the 409;
//! the command line deletes what the list shows.

use customer_desk::schema::{customers, tickets};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::filters::{
    arrange, count_where, inactive_since, listed_total, select_all, ticket, ticket_message, OPEN,
};
use crate::helpers::{bulk_confirmation_fields, spawn_app, Backend, RowCounts};
use crate::on_both_backends;
use crate::small_deletion::confirm_and_finish;

on_both_backends!(
    all_with_filters_deletes_exactly_the_matching_set,
    activity_or_an_open_ticket_after_the_confirmation_gives_409,
    the_command_line_deletes_what_the_list_shows,
);

async fn all_with_filters_deletes_exactly_the_matching_set(backend: Backend) {
    let app = spawn_app(backend).await;
    app.db(arrange).await;
    let query = "organisation=acme&tickets=no_open";
    let condition = format!("lower(organisation) = 'acme' AND NOT {OPEN}");
    let matching: Vec<i64> = app
        .db({
            let condition = condition.clone();
            move |conn| {
                #[derive(QueryableByName)]
                struct Id {
                    #[diesel(sql_type = BigInt)]
                    id: i64,
                }
                diesel::sql_query(format!("SELECT id FROM customers WHERE {condition}"))
                    .load::<Id>(conn)
                    .unwrap()
                    .into_iter()
                    .map(|row| row.id)
                    .collect()
            }
        })
        .await;
    assert_eq!(matching.len(), 4, "Alpha, Charlie, Delta, Lima");
    let mut expected_gone = RowCounts::default();
    for &id in &matching {
        let of = app.row_counts_of(id).await;
        expected_gone.customers += of.customers;
        expected_gone.tickets += of.tickets;
        expected_gone.ticket_messages += of.ticket_messages;
        expected_gone.chats += of.chats;
        expected_gone.chat_messages += of.chat_messages;
        expected_gone.notes += of.notes;
    }
    let before = app.row_counts().await;
    select_all(&app, query).await;
    let confirmation = app.get("/people/customers/selection/delete").await;
    confirmation.assert_contains("4 customers");
    // Cancel and Review selection go back to the filtered list, not to every customer.
    confirmation
        .assert_contains("href=\"/people/customers?organisation=acme&#38;tickets=no_open\"")
        .assert_contains(
            "href=\"/people/customers?organisation=acme&#38;tickets=no_open&#38;selected=1\"",
        );
    // Four fit in one batch: deleted in the request, back to the filtered list.
    let finished = confirm_and_finish(&app).await;
    assert_eq!(
        finished.list,
        "/people/customers?organisation=acme&tickets=no_open"
    );
    let after = app.row_counts().await;
    assert_eq!(
        (
            after.customers,
            after.tickets,
            after.ticket_messages,
            after.chats,
            after.chat_messages,
            after.notes
        ),
        (
            before.customers - expected_gone.customers,
            before.tickets - expected_gone.tickets,
            before.ticket_messages - expected_gone.ticket_messages,
            before.chats - expected_gone.chats,
            before.chat_messages - expected_gone.chat_messages,
            before.notes - expected_gone.notes
        )
    );
    assert!(expected_gone.tickets > 0 && expected_gone.chat_messages > 0);
    assert_eq!(app.db(move |conn| count_where(conn, &condition)).await, 0);
    for id in matching {
        assert_eq!(app.row_counts_of(id).await, RowCounts::default());
    }
    assert_eq!(app.inconsistent_rows().await, 0);
    let records = app.deletion_records().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].1, 4);
    app.get(&format!("/people/customers/deletions/{}", finished.job))
        .await
        .assert_contains("Deleted 4 customers");
}

async fn activity_or_an_open_ticket_after_the_confirmation_gives_409(backend: Backend) {
    let app = spawn_app(backend).await;
    app.db(arrange).await;
    // Inactive since 2025 and without open tickets.
    select_all(&app, "active_before=2025-01-01&tickets=no_open").await;
    let shown = app.get("/people/customers/selection/delete").await;
    shown.assert_status(200);
    let mut fields = bulk_confirmation_fields(&shown);
    fields.push(("understood".into(), "yes".into()));
    let expected = app
        .db(|conn| {
            count_where(
                conn,
                &format!("{} AND NOT {OPEN}", inactive_since("2025-01-01")),
            )
        })
        .await;
    assert!(expected >= 3);
    let count_field = fields.iter().find(|(k, _)| k == "count").unwrap().1.clone();
    assert_eq!(count_field, expected.to_string());

    // Golf writes again (a message on a closed ticket): no longer inactive.
    app.db(|conn| {
        let golf: i64 = customers::table
            .filter(customers::last_name.eq("Golf"))
            .select(customers::id)
            .first(conn)
            .unwrap();
        let t: i64 = tickets::table
            .filter(tickets::customer_id.eq(golf))
            .select(tickets::id)
            .first(conn)
            .unwrap();
        ticket_message(conn, t, "2026-11-30 12:00:00");
    })
    .await;
    let before = app.row_counts().await;
    app.admin
        .post_fields("/people/customers/selection/delete", &fields)
        .await
        .assert_status(409)
        .assert_contains("nothing was deleted")
        .assert_contains(&format!("{} customers", expected - 1));
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.job_count().await, 0);

    // Confirmed again; then an old customer gets an open ticket (dated in the past, so that
    // only the tickets filter moves): the set differs again.
    let again = app.get("/people/customers/selection/delete").await;
    let mut fields = bulk_confirmation_fields(&again);
    fields.push(("understood".into(), "yes".into()));
    app.db(|conn| {
        let lima: i64 = customers::table
            .filter(customers::last_name.eq("Lima"))
            .select(customers::id)
            .first(conn)
            .unwrap();
        ticket(conn, lima, "waiting", false, "2021-06-03 10:00:00");
    })
    .await;
    app.admin
        .post_fields("/people/customers/selection/delete", &fields)
        .await
        .assert_status(409)
        .assert_contains("nothing was deleted");
    assert_eq!(app.job_count().await, 0);
    // Moving organisation: the same with organisation filter.
    select_all(&app, "organisation=globex").await;
    let shown = app.get("/people/customers/selection/delete").await;
    let mut fields = bulk_confirmation_fields(&shown);
    fields.push(("understood".into(), "yes".into()));
    app.db(|conn| {
        diesel::update(customers::table.filter(customers::last_name.eq("Echo")))
            .set(customers::organisation.eq("Initech"))
            .execute(conn)
            .unwrap();
    })
    .await;
    app.admin
        .post_fields("/people/customers/selection/delete", &fields)
        .await
        .assert_status(409)
        .assert_contains("2 customers");
    assert_eq!(app.job_count().await, 0);
}

/// `customer-desk delete --yes` against the database an instance serves: the instance's list
/// and deletion history show what it did, recorded as the command line's.
async fn the_command_line_deletes_what_the_list_shows(backend: Backend) {
    let app = spawn_app(backend).await;
    app.db(arrange).await;
    let query = "organisation=acme&tickets=no_open";
    let page = app.get(&format!("/people/customers?{query}")).await;
    assert_eq!(listed_total(&page), 4);
    let url = app.database_url.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_customer-desk"))
            .env("DATABASE_URL", url)
            .env("LOG_LEVEL", "warn")
            .env("USER", "ops")
            .args([
                "delete",
                "--organisation",
                "ACME",
                "--tickets",
                "no_open",
                "--yes",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("Deleted 4 customers"));
    assert_eq!(
        listed_total(&app.get(&format!("/people/customers?{query}")).await),
        0
    );
    assert_eq!(listed_total(&app.get("/people/customers").await), 8);
    app.get("/people/customers/deletions")
        .await
        .assert_status(200)
        .assert_contains("command line (OS user ops)");
    assert_eq!(app.inconsistent_rows().await, 0);
}
