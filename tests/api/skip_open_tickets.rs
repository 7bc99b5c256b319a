//! "Skip customers with open tickets" on the bulk confirmation, over HTTP like a browser without
//! JavaScript (and the htmx recount): the numbers shown, exactly the customers without an open
//! ticket deleted with all their rows, the others whole, the kept count in the summary and the
//! record, and a customer who gets an open ticket before the submit making the set differ.

use customer_desk::db::now;
use customer_desk::schema::{deletion_records, tickets};
use diesel::prelude::*;

use crate::helpers::{
    bulk_confirmation_fields, spawn_app, Backend, ListForm, Page, Related, RowCounts, TestApp,
};
use crate::on_both_backends;
use crate::small_deletion::finished_in_request;

on_both_backends!(
    skipping_customers_with_open_tickets_deletes_only_the_others,
    the_checkbox_recounts_and_never_deletes_what_was_not_shown,
);

const CONFIRMATION: &str = "/people/customers/selection/delete";

const NOTES_AND_CHATS: Related = Related {
    tickets: 0,
    trashed_tickets: 0,
    messages_per_ticket: 0,
    chats: 1,
    messages_per_chat: 2,
    notes: 2,
};

/// A ticket of `customer` with this status, in the trash or not, with one message.
async fn ticket(app: &TestApp, customer: i64, status: &'static str, trashed: bool) {
    app.db(move |conn| {
        let id: i64 = diesel::insert_into(tickets::table)
            .values((
                tickets::customer_id.eq(customer),
                tickets::subject.eq("Help"),
                tickets::status.eq(status),
                tickets::trashed_at.eq(trashed.then(now)),
                tickets::created_at.eq(now()),
            ))
            .returning(tickets::id)
            .get_result(conn)
            .unwrap();
        use customer_desk::schema::ticket_messages as messages;
        diesel::insert_into(messages::table)
            .values((
                messages::ticket_id.eq(id),
                messages::body.eq("Hello"),
                messages::created_at.eq(now()),
            ))
            .execute(conn)
            .unwrap();
    })
    .await;
}

/// Five customers of "Skipco": two with an open ticket (active; waiting beside a trashed one),
/// one whose tickets are all solved, closed or in the trash (not open), two without tickets.
/// And one customer of another organisation. Returns ([open1, open2, closed, bare1, bare2], other).
async fn arrange(app: &TestApp) -> ([i64; 5], i64) {
    let mut ids = [0; 5];
    for (n, id) in ids.iter_mut().enumerate() {
        *id = app
            .add_customer(
                &format!("Given{n}"),
                &format!("Skipco{n}"),
                &format!("skip{n}@skipco.example"),
                "Skipco",
            )
            .await;
        app.give(*id, NOTES_AND_CHATS).await;
    }
    ticket(app, ids[0], "active", false).await;
    ticket(app, ids[1], "waiting", false).await;
    ticket(app, ids[1], "solved", true).await;
    ticket(app, ids[2], "solved", false).await;
    ticket(app, ids[2], "closed", false).await;
    ticket(app, ids[2], "active", true).await;
    let other = app
        .add_customer("Other", "Person", "other@globex.example", "Globex")
        .await;
    ticket(app, other, "closed", false).await;
    (ids, other)
}

async fn select_all_of_skipco(app: &TestApp) {
    let search = app.get("/people/customers?q=skipco").await;
    search.assert_contains("All (5)");
    ListForm::from_page(&search)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    &fields.iter().find(|(n, _)| n == name).unwrap().1
}

fn with(mut fields: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    fields
}

/// The (customers, kept_open_tickets, confirmed_customers, stopped) of every record.
async fn records(app: &TestApp) -> Vec<(i64, i64, i64, bool)> {
    app.db(|conn| {
        deletion_records::table
            .order(deletion_records::id.asc())
            .select((
                deletion_records::customers,
                deletion_records::kept_open_tickets,
                deletion_records::confirmed_customers,
                deletion_records::stopped,
            ))
            .load(conn)
            .unwrap()
    })
    .await
}

async fn skipping_customers_with_open_tickets_deletes_only_the_others(backend: Backend) {
    let app = spawn_app(backend).await;
    let ([open1, open2, closed, bare1, bare2], other) = arrange(&app).await;
    let mut whole = Vec::new();
    for id in [open1, open2, closed, bare1, bare2, other] {
        whole.push((id, app.row_counts_of(id).await));
    }
    select_all_of_skipco(&app).await;

    // Unticked by default: all five.
    let all = app.get(CONFIRMATION).await;
    all.assert_status(200)
        .assert_contains("Permanently delete 5 customers?")
        .assert_lacks("will be kept");
    let unticked = scraper_checkbox(&all);
    assert_eq!(
        unticked,
        Some(false),
        "the checkbox is there, off by default"
    );

    // Ticked: the reduced set, and what is kept.
    let skipping = app
        .get(&format!("{CONFIRMATION}?skip_open_tickets=yes"))
        .await;
    skipping
        .assert_status(200)
        .assert_contains("Permanently delete 3 customers?")
        .assert_contains("5 selected; 2 have open tickets and will be kept.");
    assert_eq!(scraper_checkbox(&skipping), Some(true));
    let fields = bulk_confirmation_fields(&skipping);
    assert_eq!(field(&fields, "count"), "3");
    assert_eq!(field(&fields, "kept"), "2");
    assert_eq!(field(&fields, "counted_skip_open_tickets"), "yes");
    // Their tickets only: the closed customer's three (one in the trash).
    assert_eq!(field(&fields, "tickets"), "3");
    assert_eq!(field(&fields, "tickets_in_trash"), "1");
    // The same in place with htmx (the dialog whose #bulk-confirmation the checkbox swaps in).
    app.get_htmx(&format!("{CONFIRMATION}?skip_open_tickets=yes"))
        .await
        .assert_status(200)
        .assert_contains(r#"id="bulk-confirmation""#)
        .assert_contains("5 selected; 2 have open tickets and will be kept.");

    // A bare customer gets an open ticket before the submit: the set differs, nothing goes.
    ticket(&app, bare1, "on_hold", false).await;
    let before = app.row_counts().await;
    let drifted = app
        .admin
        .post_fields(
            CONFIRMATION,
            &with(
                fields,
                &[("skip_open_tickets", "yes"), ("understood", "yes")],
            ),
        )
        .await;
    drifted
        .assert_status(409)
        .assert_contains("Permanently delete 2 customers?")
        .assert_contains("5 selected; 3 have open tickets and will be kept.");
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.job_count().await, 0);

    // Confirmed again with the new numbers: exactly the two without an open ticket go.
    let fields = bulk_confirmation_fields(&drifted);
    let submitted = app
        .admin
        .post_fields(
            CONFIRMATION,
            &with(
                fields,
                &[("skip_open_tickets", "yes"), ("understood", "yes")],
            ),
        )
        .await;
    let finished = finished_in_request(&app, &submitted).await;
    assert_eq!(
        finished.flash,
        "Deleted 2 customers with 3 tickets, 2 live chat conversations and 4 notes. 3 customers \
         with open tickets were kept. View details"
    );
    let job = finished.job;
    for (id, rows) in &whole {
        let now = app.row_counts_of(*id).await;
        if [closed, bare2].contains(id) {
            assert_eq!(now, RowCounts::default(), "customer {id} is deleted");
        } else if *id == bare1 {
            // Whole, with the ticket that kept it.
            assert_eq!(now.customers, 1);
            assert_eq!((now.tickets, now.notes, now.chats), (1, 2, 1));
        } else {
            assert_eq!(now, *rows, "customer {id} is whole");
        }
    }
    assert_eq!(app.inconsistent_rows().await, 0);
    assert_eq!(records(&app).await, vec![(2, 3, 2, false)]);
    let page = app.get(&format!("/people/customers/deletions/{job}")).await;
    page.assert_contains(
        "Deleted 2 customers with 3 tickets, 2 live chat conversations and 4 notes",
    )
    .assert_contains("3 customers with open tickets were kept.");
    app.get("/people/customers/deletions")
        .await
        .assert_contains("Bulk; 3 with open tickets kept");
}

/// Whether the "Skip customers with open tickets" box is ticked (None: not on the page).
fn scraper_checkbox(page: &Page) -> Option<bool> {
    let document = scraper::Html::parse_document(&page.body);
    let selector = scraper::Selector::parse(r#"input[name="skip_open_tickets"]"#).unwrap();
    document
        .select(&selector)
        .next()
        .map(|input| input.value().attr("checked").is_some())
}

async fn the_checkbox_recounts_and_never_deletes_what_was_not_shown(backend: Backend) {
    let app = spawn_app(backend).await;
    arrange(&app).await;
    select_all_of_skipco(&app).await;
    let before = app.row_counts().await;
    let unticked = bulk_confirmation_fields(&app.get(CONFIRMATION).await);

    // Without JavaScript: tick the box and press "Recount".
    let recounted = app
        .admin
        .post_fields(
            CONFIRMATION,
            &with(
                unticked.clone(),
                &[("skip_open_tickets", "yes"), ("recount", "yes")],
            ),
        )
        .await;
    recounted
        .assert_status(200)
        .assert_contains("5 selected; 2 have open tickets and will be kept.");
    assert_eq!(scraper_checkbox(&recounted), Some(true));

    // Tick the box and press "Yes, permanently delete" at once: the numbers shown were those of
    // all five, so nothing is deleted and the right numbers are shown.
    let ticked_late = app
        .admin
        .post_fields(
            CONFIRMATION,
            &with(
                unticked,
                &[("skip_open_tickets", "yes"), ("understood", "yes")],
            ),
        )
        .await;
    ticked_late
        .assert_status(200)
        .assert_contains("Permanently delete 3 customers?");
    // And the other way round: numbers of the reduced set, box unticked at the submit.
    let reduced = bulk_confirmation_fields(&recounted);
    app.admin
        .post_fields(CONFIRMATION, &with(reduced, &[("understood", "yes")]))
        .await
        .assert_status(200)
        .assert_contains("Permanently delete 5 customers?");
    // A forged form: the reduced numbers claimed without skipping them.
    let mut forged = bulk_confirmation_fields(&recounted);
    forged.retain(|(name, _)| name != "counted_skip_open_tickets");
    forged.push(("counted_skip_open_tickets".into(), "no".into()));
    app.admin
        .post_fields(CONFIRMATION, &with(forged, &[("understood", "yes")]))
        .await
        .assert_status(409);
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.job_count().await, 0);

    // Everyone selected has an open ticket: nothing to delete, and no delete button.
    let only_open = app.get("/people/customers?q=skipco0").await;
    let mut form = ListForm::from_page(&only_open);
    form.submit(&app.admin, Some(("action", "none")))
        .await
        .assert_status(303);
    let page = app.get("/people/customers?q=skipco0").await;
    form = ListForm::from_page(&page);
    form.submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
    let all_kept = app
        .get(&format!("{CONFIRMATION}?skip_open_tickets=yes"))
        .await;
    all_kept
        .assert_status(200)
        .assert_contains("1 selected; 1 has open tickets and will be kept.")
        .assert_contains("nothing would be deleted")
        .assert_lacks("Yes, permanently delete");
}
