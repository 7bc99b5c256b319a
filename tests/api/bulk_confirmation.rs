//! The bulk confirmation dialog: opened by htmx ticks, and nothing deleted without the tick,
//! after drift, twice, or from an empty selection.

use crate::bulk_deletion::{customers_of, job_id};
use crate::helpers::{bulk_confirmation_fields, spawn_app, Backend, ListForm};
use crate::on_both_backends;
use crate::small_deletion::{confirm_and_finish, finished_in_request};

on_both_backends!(
    htmx_ticks_update_the_counter_and_open_the_dialog,
    nothing_is_deleted_without_the_checkbox,
    drift_between_confirmation_and_submit_deletes_nothing,
    a_replayed_confirmation_starts_no_second_job,
    empty_selection_has_nothing_to_confirm,
);

async fn nothing_is_deleted_without_the_checkbox(backend: Backend) {
    let app = spawn_app(backend).await;
    customers_of(&app, "Acme", 3).await;
    let page = app.get("/people/customers").await;
    ListForm::from_page(&page)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
    let before = app.row_counts().await;
    let confirmation = app.get("/people/customers/selection/delete").await;
    let fields = bulk_confirmation_fields(&confirmation);
    app.admin
        .post_fields("/people/customers/selection/delete", &fields)
        .await
        .assert_status(422)
        .assert_contains("Tick “I understand the consequences” to delete. Nothing was deleted.")
        .assert_contains("Permanently delete 3 customers?");
    // A wrong value is not a tick either.
    let mut wrong = fields.clone();
    wrong.push(("understood".into(), "no".into()));
    app.admin
        .post_fields("/people/customers/selection/delete", &wrong)
        .await
        .assert_status(422);
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.job_count().await, 0);
}

async fn drift_between_confirmation_and_submit_deletes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    customers_of(&app, "Acme", 4).await;
    let search = app.get("/people/customers?q=acme").await;
    ListForm::from_page(&search)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
    let confirmation = app.get("/people/customers/selection/delete").await;
    confirmation.assert_contains("Permanently delete 4 customers?");
    let mut fields = bulk_confirmation_fields(&confirmation);
    fields.push(("understood".into(), "yes".into()));

    // Meanwhile a matching customer is added.
    let late = app
        .add_customer("Late", "Arrival", "late@acme.example", "Acme")
        .await;
    let before = app.row_counts().await;
    app.admin
        .post_fields("/people/customers/selection/delete", &fields)
        .await
        .assert_status(409)
        .assert_contains("nothing was deleted")
        .assert_contains("Permanently delete 5 customers?");
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.job_count().await, 0);

    // An edit that makes another customer match is drift too.
    let edited = app
        .add_customer("Eddie", "Edit", "eddie@example.com", "Initech")
        .await;
    let confirmation = app.get("/people/customers/selection/delete").await;
    let mut fields = bulk_confirmation_fields(&confirmation);
    fields.push(("understood".into(), "yes".into()));
    app.post_form(
        &format!("/people/customers/{edited}/edit"),
        &[
            ("first_name", "Eddie"),
            ("last_name", "Edit"),
            ("email", "eddie@example.com"),
            ("organisation", "Acme"),
        ],
    )
    .await
    .assert_status(303);
    app.admin
        .post_fields("/people/customers/selection/delete", &fields)
        .await
        .assert_status(409)
        .assert_contains("Permanently delete 6 customers?");
    assert_eq!(app.job_count().await, 0);

    // Re-confirmed: those 6 go (in the request: they fit in one batch); a customer created
    // afterwards is not touched.
    let finished = confirm_and_finish(&app).await;
    assert!(
        finished.flash.starts_with("Deleted 6 customers"),
        "{}",
        finished.flash
    );
    let later = app
        .add_customer("After", "Confirm", "after@acme.example", "Acme")
        .await;
    assert_eq!(app.row_counts_of(late).await.customers, 0);
    assert_eq!(app.row_counts_of(edited).await.customers, 0);
    assert_eq!(app.row_counts_of(later).await.customers, 1);
    assert_eq!(app.deletion_records().await[0].1, 6);
}

async fn a_replayed_confirmation_starts_no_second_job(backend: Backend) {
    let app = spawn_app(backend).await;
    customers_of(&app, "Acme", 3).await;
    let page = app.get("/people/customers").await;
    ListForm::from_page(&page)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
    let confirmation = app.get("/people/customers/selection/delete").await;
    let mut fields = bulk_confirmation_fields(&confirmation);
    fields.push(("understood".into(), "yes".into()));
    let first = app
        .admin
        .post_fields("/people/customers/selection/delete", &fields)
        .await;
    let first = finished_in_request(&app, &first).await.job;
    // Submitted again (a double click, Back and submit): the deletion's page, nothing more.
    let second = job_id(
        &app.admin
            .post_fields("/people/customers/selection/delete", &fields)
            .await,
    );
    assert_eq!(first, second);
    let third = job_id(
        &app.admin
            .post_fields("/people/customers/selection/delete", &fields)
            .await,
    );
    assert_eq!(first, third);
    assert_eq!(app.job_count().await, 1);
    assert_eq!(app.deletion_records().await.len(), 1);
}

async fn empty_selection_has_nothing_to_confirm(backend: Backend) {
    let app = spawn_app(backend).await;
    customers_of(&app, "Acme", 1).await;
    app.get("/people/customers/selection/delete")
        .await
        .assert_contains("Nothing is selected");
    app.get("/people/customers/deletions/abc")
        .await
        .assert_status(400);
    app.get("/people/customers/deletions/999")
        .await
        .assert_status(404);
    // Fields that are not numbers are a bad request.
    app.post_form("/people/customers/selection", &[("page_ids", "1,abc")])
        .await
        .assert_status(400);
    assert_eq!(app.job_count().await, 0);
}

async fn htmx_ticks_update_the_counter_and_open_the_dialog(backend: Backend) {
    let app = spawn_app(backend).await;
    let ids = customers_of(&app, "Acme", 3).await;
    let page = app.get("/people/customers").await;
    let form = ListForm::from_page(&page);
    let mut fields: Vec<(&str, String)> = form
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    fields.push(("ids", ids[1].to_string()));
    fields.push(("action", "tick".to_owned()));
    fields.push(("tick", ids[1].to_string()));
    let body = serde_urlencoded::to_string(&fields).unwrap();
    let tick = app
        .admin
        .client
        .post(app.url("/people/customers/selection"))
        .header("HX-Request", "true")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(tick.status().as_u16(), 200);
    let fragment = tick.text().await.unwrap();
    assert!(
        fragment
            .trim_start()
            .starts_with(r#"<div id="selection-bar""#),
        "{fragment}"
    );
    assert!(fragment.contains("<strong>1 selected</strong>"));
    assert!(!fragment.contains("<html"));

    let trash = app
        .admin
        .client
        .post(app.url("/people/customers/selection"))
        .header("HX-Request", "true")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.replace("action=tick", "action=delete"))
        .send()
        .await
        .unwrap();
    let dialog = trash.text().await.unwrap();
    assert!(
        dialog.contains("<dialog class=\"confirm\" data-modal"),
        "{dialog}"
    );
    assert!(dialog.contains("Permanently delete 1 customer?"));
    assert!(dialog.contains("data-requires=\"understood\""));
}
