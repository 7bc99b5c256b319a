//! Selection across pages and bulk deletion, driven over HTTP like a browser without JavaScript.

use customer_desk::accounts::Role;
use customer_desk::schema::sessions;
use diesel::prelude::*;

use crate::helpers::{
    bulk_confirmation_fields, spawn_app, Backend, Browser, ListForm, Page, Related, RowCounts,
    TestApp, ADMIN_NAME, PASSWORD,
};
use crate::on_both_backends;
use crate::small_deletion::confirm_and_finish;

on_both_backends!(
    selection_is_kept_across_pages_sorts_and_reloads,
    all_matching_a_search_with_exclusions_deletes_exactly_that,
    selecting_all_costs_the_same_session_space_for_10_and_100000,
    agents_and_forgeries_are_refused_on_every_selection_route,
);

const SMALL: Related = Related {
    tickets: 2,
    trashed_tickets: 1,
    messages_per_ticket: 2,
    chats: 1,
    messages_per_chat: 3,
    notes: 1,
};

/// `count` customers "Given{n:02} Family{n:02}" of `org`, each with SMALL's data.
pub(crate) async fn customers_of(app: &TestApp, org: &str, count: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for n in 0..count {
        let id = app
            .add_customer(
                &format!("Given{n:02}"),
                &format!("{org}{n:02}"),
                &format!("{}{n}@{}.example", org.to_lowercase(), org.to_lowercase()),
                org,
            )
            .await;
        app.give(id, SMALL).await;
        ids.push(id);
    }
    ids
}

pub(crate) fn job_id(page: &Page) -> i64 {
    page.assert_status(303);
    let location = page.location.as_deref().unwrap();
    location
        .strip_prefix("/people/customers/deletions/")
        .unwrap_or_else(|| panic!("not a job: {location}"))
        .parse()
        .unwrap()
}

/// Opens the confirmation page, ticks "I understand the consequences" and submits.
pub(crate) async fn confirm_and_submit(app: &TestApp) -> i64 {
    let confirmation = app.get("/people/customers/selection/delete").await;
    confirmation.assert_status(200);
    let mut fields = bulk_confirmation_fields(&confirmation);
    fields.push(("understood".into(), "yes".into()));
    job_id(
        &app.admin
            .post_fields("/people/customers/selection/delete", &fields)
            .await,
    )
}

async fn selection_is_kept_across_pages_sorts_and_reloads(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_many_customers(60, "Paged").await;

    // Page 1: tick two, then go to page 2 with the form's own page button.
    let page1 = app.get("/people/customers?per_page=25").await;
    let mut form = ListForm::from_page(&page1);
    assert_eq!(form.rows.len(), 25);
    let (a, b) = (form.ids()[0], form.ids()[1]);
    form.tick(a, true).tick(b, true);
    let moved = form
        .submit(&app.admin, Some(("goto", "?per_page=25&page=2")))
        .await;
    moved.assert_status(303);
    assert_eq!(
        moved.location.as_deref(),
        Some("/people/customers?per_page=25&page=2")
    );

    // Page 2: tick one, come back to page 1.
    let page2 = app.get("/people/customers?per_page=25&page=2").await;
    page2.assert_contains("2 selected");
    let mut form = ListForm::from_page(&page2);
    assert!(form.ticked().is_empty());
    let c = form.ids()[3];
    form.tick(c, true);
    form.submit(&app.admin, Some(("goto", "?per_page=25")))
        .await
        .assert_status(303);

    let back = app.get("/people/customers?per_page=25").await;
    back.assert_contains("<strong>3 selected</strong>")
        .assert_contains(r#"aria-checked="mixed""#);
    assert_eq!(ListForm::from_page(&back).ticked(), vec![a, b]);

    // Other sort orders and page sizes, and a reload, keep it.
    app.get("/people/customers?sort=-name&per_page=100")
        .await
        .assert_contains("<strong>3 selected</strong>");
    let shown = app.get("/people/customers?selected=1").await;
    shown.assert_contains("1–3 of 3");
    let mut listed = ListForm::from_page(&shown).ids();
    listed.sort();
    let mut expected = vec![a, b, c];
    expected.sort();
    assert_eq!(listed, expected);

    // Unticking on "Show selected" removes it; "All on this page" ticks every row of the page.
    let mut form = ListForm::from_page(&shown);
    form.tick(a, false);
    form.submit(&app.admin, None).await.assert_status(303);
    app.get("/people/customers")
        .await
        .assert_contains("<strong>2 selected</strong>");
    let page1 = app.get("/people/customers?per_page=25").await;
    ListForm::from_page(&page1)
        .submit(&app.admin, Some(("action", "page_all")))
        .await
        .assert_status(303);
    let all_on_page = app.get("/people/customers?per_page=25").await;
    all_on_page
        .assert_contains("<strong>26 selected</strong>")
        .assert_contains(r#"aria-checked="true""#);
    // "Clear selection" empties it.
    ListForm::from_page(&all_on_page)
        .submit(&app.admin, Some(("action", "clear")))
        .await
        .assert_status(303);
    app.get("/people/customers")
        .await
        .assert_contains("No customers selected");
}

async fn all_matching_a_search_with_exclusions_deletes_exactly_that(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = customers_of(&app, "Acme", 12).await;
    let other = customers_of(&app, "Globex", 5).await;

    let search = app.get("/people/customers?q=acme&per_page=25").await;
    search.assert_contains("All (12)");
    ListForm::from_page(&search)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
    let selected = app.get("/people/customers?q=acme&per_page=25").await;
    selected
        .assert_contains("<strong>12 selected</strong>")
        .assert_contains("All 12 matching “acme” selected");
    // Untick two: they are excluded.
    let mut form = ListForm::from_page(&selected);
    assert_eq!(form.ticked().len(), 12);
    let (kept_a, kept_b) = (acme[0], acme[1]);
    form.tick(kept_a, false).tick(kept_b, false);
    form.submit(&app.admin, None).await.assert_status(303);
    // The selection follows to a list without the search.
    app.get("/people/customers")
        .await
        .assert_contains("<strong>10 selected</strong>")
        .assert_contains("All 12 matching “acme” selected, 2 excluded");

    let confirmation = app.get("/people/customers/selection/delete").await;
    confirmation
        .assert_status(200)
        .assert_contains("Permanently delete 10 customers?")
        .assert_contains(
            "20 tickets (10 in the trash), 10 live chat conversations and 10 notes will be \
             permanently deleted",
        )
        .assert_contains("and 8 more")
        .assert_contains("I understand the consequences")
        .assert_contains("Yes, permanently delete")
        .assert_contains("data-close-dialog autofocus>Cancel</a>");

    let before = app.row_counts().await;
    let kept: Vec<i64> = [kept_a, kept_b]
        .into_iter()
        .chain(other.iter().copied())
        .collect();
    let mut kept_rows = Vec::new();
    for id in &kept {
        kept_rows.push(app.row_counts_of(*id).await);
    }
    let job = confirm_and_submit(&app).await;
    app.wait_for_job(job).await;

    let after = app.row_counts().await;
    assert_eq!(
        after,
        RowCounts {
            customers: before.customers - 10,
            tickets: before.tickets - 20,
            ticket_messages: before.ticket_messages - 40,
            chats: before.chats - 10,
            chat_messages: before.chat_messages - 30,
            notes: before.notes - 10,
        }
    );
    for id in &acme[2..] {
        assert_eq!(app.row_counts_of(*id).await, RowCounts::default());
    }
    for (id, rows) in kept.iter().zip(&kept_rows) {
        assert_eq!(
            &app.row_counts_of(*id).await,
            rows,
            "customer {id} must be intact"
        );
    }
    assert_eq!(app.inconsistent_rows().await, 0);
    let records = app.deletion_records().await;
    assert_eq!(records.len(), 1);
    let (kind, customers, tickets, chats, notes, _, actor) = &records[0];
    assert_eq!(
        (
            kind.as_str(),
            *customers,
            *tickets,
            *chats,
            *notes,
            actor.as_str()
        ),
        ("bulk", 10, 20, 10, 10, ADMIN_NAME)
    );

    let progress = app.get(&format!("/people/customers/deletions/{job}")).await;
    progress
        .assert_status(200)
        .assert_contains("Deletion finished")
        .assert_contains(
            "Deleted 10 customers with 20 tickets, 10 live chat conversations and 10 notes",
        );
    // The selection was used up.
    app.get("/people/customers")
        .await
        .assert_contains("No customers selected");
    app.get("/people/customers/deletions")
        .await
        .assert_contains("<td>Bulk</td>");
}

async fn session_state_length(app: &TestApp) -> usize {
    let states: Vec<String> = app
        .db(|conn| sessions::table.select(sessions::state).load(conn).unwrap())
        .await;
    states
        .iter()
        .filter(|s| s.contains("selection"))
        .map(String::len)
        .max()
        .expect("a session with a selection")
}

async fn selecting_all_costs_the_same_session_space_for_10_and_100000(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_many_customers(10, "Smallco").await;
    app.add_many_customers(100_000, "Bigcorp").await;

    let small = app.get("/people/customers?q=smallco").await;
    small.assert_contains("All (10)");
    ListForm::from_page(&small)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
    app.get("/people/customers?q=smallco")
        .await
        .assert_contains("<strong>10 selected</strong>");
    let small_size = session_state_length(&app).await;

    let big = app.get("/people/customers?q=bigcorp").await;
    big.assert_contains("All (100,000)");
    ListForm::from_page(&big)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
    let confirmation = app.get("/people/customers/selection/delete").await;
    confirmation.assert_contains("Permanently delete 100,000 customers?");
    assert!(
        confirmation.body.len() < 50_000,
        "confirmation is {} bytes",
        confirmation.body.len()
    );
    let big_size = session_state_length(&app).await;
    assert_eq!(
        small_size, big_size,
        "the selection's session state must not grow with N"
    );
    assert!(big_size < 1_000, "{big_size} bytes");
}

async fn agents_and_forgeries_are_refused_on_every_selection_route(backend: Backend) {
    let app = spawn_app(backend).await;
    let ids = customers_of(&app, "Acme", 2).await;
    // An administrator deletes one, so that there is a deletion's page to look at.
    let page = app.get("/people/customers").await;
    let mut form = ListForm::from_page(&page);
    form.tick(ids[0], true);
    form.submit(&app.admin, None).await.assert_status(303);
    let job = confirm_and_finish(&app).await.job;

    app.create_account("Alan Agent", "agent@desk.example", Role::Agent)
        .await;
    let agent = app.sign_in("agent@desk.example", PASSWORD).await;
    let before = app.row_counts().await;
    agent
        .get("/people/customers")
        .await
        .assert_lacks("selection-form")
        .assert_lacks("row-check")
        .assert_lacks("Delete selected");
    agent
        .post_form(
            "/people/customers/selection",
            &[
                ("page_ids", &ids[1].to_string()),
                ("ids", &ids[1].to_string()),
                ("action", "all"),
            ],
        )
        .await
        .assert_status(403);
    agent
        .get("/people/customers/selection/delete")
        .await
        .assert_status(403);
    agent
        .post_form(
            "/people/customers/selection/delete",
            &[
                ("token", "forged"),
                ("version", "1"),
                ("count", "1"),
                ("digest", &"0".repeat(64)),
                ("tickets", "0"),
                ("tickets_in_trash", "0"),
                ("chats", "0"),
                ("notes", "0"),
                ("understood", "yes"),
            ],
        )
        .await
        .assert_status(403);
    agent
        .get(&format!("/people/customers/deletions/{job}"))
        .await
        .assert_status(403);
    agent
        .get("/people/customers?selected=1")
        .await
        .assert_status(200)
        .assert_contains("1–1 of 1");

    // The administrator without the CSRF token.
    app.admin
        .post_form_as_is("/people/customers/selection", &[("action", "all")])
        .await
        .assert_status(403);
    app.admin
        .post_form_as_is(
            "/people/customers/selection/delete",
            &[("understood", "yes")],
        )
        .await
        .assert_status(403);
    // Anonymous.
    let anonymous = Browser::new(&app.address);
    anonymous
        .post_form("/people/customers/selection", &[])
        .await
        .assert_sign_in_redirect();
    anonymous
        .get(&format!("/people/customers/deletions/{job}"))
        .await
        .assert_sign_in_redirect();
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.job_count().await, 1);
}
