//! A bulk deletion that fits in one batch (the test app's batch is 7 customers) finishes in the
//! submit and returns to the list with a flash that says what went and links the deletion;
//! a larger one, or one on an instance that runs no worker, shows the progress page. The
//! rules are the same either way: the frozen set, the record, the counts.

use crate::bulk_deletion::{customers_of, job_id};
use crate::helpers::{
    bulk_confirmation_fields, flash_of, spawn_app, spawn_app_with_worker, Backend, ListForm, Page,
    RowCounts, TestApp, ADMIN_NAME,
};
use crate::on_both_backends;

on_both_backends!(
    a_deletion_of_one_batch_finishes_in_the_request,
    a_deletion_larger_than_one_batch_shows_its_progress,
    without_a_worker_on_this_instance_the_deletion_is_left_queued,
);

/// A deletion finished by its submit: the list it went back to, the flash shown there and the
/// deletion (job) the flash links.
pub(crate) struct Finished {
    pub job: i64,
    pub list: String,
    pub flash: String,
}

/// Checks that `submitted` finished its deletion in the request: 303 to a customers list (not
/// a progress page), whose flash says what was deleted and links the deletion, which is done
/// already; the flash is shown once.
pub(crate) async fn finished_in_request(app: &TestApp, submitted: &Page) -> Finished {
    submitted.assert_status(303);
    let list = submitted.location.clone().expect("a redirect");
    assert!(
        list == "/people/customers" || list.starts_with("/people/customers?"),
        "back to the list, not to {list}"
    );
    let page = app.get(&list).await;
    let (flash, link) =
        flash_of(&page).unwrap_or_else(|| panic!("a flash on {list}:\n{}", page.body));
    assert!(flash.starts_with("Deleted "), "{flash}");
    assert!(flash.ends_with("View details"), "{flash}");
    let job: i64 = link
        .as_deref()
        .and_then(|link| link.strip_prefix("/people/customers/deletions/"))
        .unwrap_or_else(|| panic!("the flash links the deletion: {link:?}"))
        .parse()
        .unwrap();
    assert_eq!(app.job_status(job).await, "done");
    assert!(flash_of(&app.get(&list).await).is_none(), "shown once");
    Finished { job, list, flash }
}

/// Opens the confirmation, ticks "I understand the consequences", submits, and checks that
/// the deletion finished in the request.
pub(crate) async fn confirm_and_finish(app: &TestApp) -> Finished {
    let confirmation = app.get("/people/customers/selection/delete").await;
    confirmation.assert_status(200);
    let mut fields = bulk_confirmation_fields(&confirmation);
    fields.push(("understood".into(), "yes".into()));
    let submitted = app
        .admin
        .post_fields("/people/customers/selection/delete", &fields)
        .await;
    finished_in_request(app, &submitted).await
}

async fn select_all_matching(app: &TestApp, search: &str) {
    let list = app.get(&format!("/people/customers?q={search}")).await;
    ListForm::from_page(&list)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
}

async fn a_deletion_of_one_batch_finishes_in_the_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = customers_of(&app, "Acme", 3).await;
    let globex = customers_of(&app, "Globex", 2).await;
    let mut kept = Vec::new();
    for id in &globex {
        kept.push(app.row_counts_of(*id).await);
    }
    select_all_matching(&app, "acme").await;
    // The htmx path opens the same confirmation as a dialog, whose form posts as the page's.
    let dialog = app.get_htmx("/people/customers/selection/delete").await;
    dialog
        .assert_status(200)
        .assert_contains("<dialog")
        .assert_contains("Permanently delete 3 customers?");
    let before = app.row_counts().await;

    let finished = confirm_and_finish(&app).await;

    // Back to the list it came from (All matching "acme"), now without them.
    assert_eq!(finished.list, "/people/customers?q=acme");
    assert_eq!(
        finished.flash,
        "Deleted 3 customers with 6 tickets, 3 live chat conversations and 3 notes. View details"
    );
    assert_eq!(
        app.row_counts().await,
        RowCounts {
            customers: before.customers - 3,
            tickets: before.tickets - 6,
            ticket_messages: before.ticket_messages - 12,
            chats: before.chats - 3,
            chat_messages: before.chat_messages - 9,
            notes: before.notes - 3,
        }
    );
    for id in &acme {
        assert_eq!(app.row_counts_of(*id).await, RowCounts::default());
    }
    for (id, rows) in globex.iter().zip(&kept) {
        assert_eq!(&app.row_counts_of(*id).await, rows, "{id} intact");
    }
    assert_eq!(app.inconsistent_rows().await, 0);
    // The record, as a background deletion's.
    let records = app.deletion_records().await;
    assert_eq!(records.len(), 1);
    let (kind, customers, tickets, chats, notes, _, actor) = &records[0];
    assert_eq!(
        (kind.as_str(), *customers, *tickets, *chats, *notes),
        ("bulk", 3, 6, 3, 3)
    );
    assert_eq!(actor, ADMIN_NAME);
    // Its ids are the job's frozen items: exactly the three.
    let job = finished.job;
    let mut items: Vec<i64> = app
        .db(move |conn| {
            use customer_desk::schema::deletion_job_items as items;
            use diesel::prelude::*;
            items::table
                .filter(items::job_id.eq(job))
                .select(items::customer_id)
                .load(conn)
                .unwrap()
        })
        .await;
    items.sort();
    assert_eq!(items, acme);
    app.get("/people/customers/deletions")
        .await
        .assert_contains(&format!(r#"href="/people/customers/deletions/{job}""#));
    app.get(&format!("/people/customers/deletions/{job}"))
        .await
        .assert_status(200)
        .assert_contains("Deletion finished")
        .assert_contains(
            "Deleted 3 customers with 6 tickets, 3 live chat conversations and 3 notes in",
        );
    // The selection was used up.
    app.get("/people/customers")
        .await
        .assert_contains("No customers selected");
    assert_eq!(app.job_count().await, 1);
}

async fn a_deletion_larger_than_one_batch_shows_its_progress(backend: Backend) {
    let app = spawn_app(backend).await;
    customers_of(&app, "Acme", 8).await;
    select_all_matching(&app, "acme").await;
    let confirmation = app.get("/people/customers/selection/delete").await;
    let mut fields = bulk_confirmation_fields(&confirmation);
    fields.push(("understood".into(), "yes".into()));
    let submitted = app
        .admin
        .post_fields("/people/customers/selection/delete", &fields)
        .await;
    let job = job_id(&submitted);
    app.get(&format!("/people/customers/deletions/{job}"))
        .await
        .assert_status(200)
        .assert_contains("<progress");
    app.wait_for_job(job).await;
    assert_eq!(app.row_counts().await.customers, 0);
    app.get(&format!("/people/customers/deletions/{job}"))
        .await
        .assert_contains("Deleted 8 customers with 16 tickets");
}

async fn without_a_worker_on_this_instance_the_deletion_is_left_queued(backend: Backend) {
    let app = spawn_app_with_worker(backend, false).await;
    customers_of(&app, "Acme", 2).await;
    select_all_matching(&app, "acme").await;
    let confirmation = app.get("/people/customers/selection/delete").await;
    let mut fields = bulk_confirmation_fields(&confirmation);
    fields.push(("understood".into(), "yes".into()));
    let job = job_id(
        &app.admin
            .post_fields("/people/customers/selection/delete", &fields)
            .await,
    );
    assert_eq!(app.job_status(job).await, "queued");
    assert_eq!(app.row_counts().await.customers, 2);
}
