//! Filters with "Select all", and "Skip customers with open tickets" then "Stop deletion".

use std::time::Duration;

use super::selected_text;
use crate::chrome::{chrome, sign_in};
use crate::helpers::{spawn_app, Backend, Related, ADMIN_EMAIL, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_by_organisation_select_all_and_delete() {
    let Some(chrome) = chrome(true).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.add_many_customers(30, "Acme").await;
    app.add_many_customers(20, "Other").await;
    sign_in(&chrome, &app.address, ADMIN_EMAIL, PASSWORD).await;

    // The filter controls: a labelled field in the search form.
    chrome.click("details.filters summary").await;
    chrome.click("input[name='organisation']").await;
    chrome.press("ACME").await;
    chrome.click(".filter-controls button[type=submit]").await;
    chrome
        .wait_for(
            "the filtered list",
            "return location.search.includes('organisation=ACME')",
        )
        .await;
    chrome.wait_for_text("1–30 of 30").await;
    chrome.wait_for_text("Organisation is “ACME”").await;

    // All (30) from the selection menu selects the filtered set only.
    chrome.click("#select-menu-button").await;
    chrome
        .click("#select-menu-items button[name='action'][value='all']")
        .await;
    selected_text(&chrome, "30 selected").await;
    chrome.click("button.trash").await;
    chrome
        .wait_for_text("Permanently delete 30 customers?")
        .await;
    chrome.click("#understood").await;
    chrome.click("button[data-requires]").await;
    chrome
        .wait_for(
            "the progress page",
            "return location.pathname.startsWith('/people/customers/deletions/')",
        )
        .await;
    chrome.wait_for_text("Deleted 30 customers").await;
    assert_eq!(app.row_counts().await.customers, 20);
    assert_eq!(app.inconsistent_rows().await, 0);
    chrome.close().await;
}

/// "Skip customers with open tickets" recounts the dialog in place, then "Stop deletion" on the
/// progress page, through its dialog, ends the deletion with the customers not reached whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_open_tickets_then_stop_halfway() {
    let Some(chrome) = chrome(true).await else {
        return;
    };
    let app = crate::helpers::spawn_app_with_settings(Backend::Sqlite, true, |settings| {
        settings.worker.batch_size = 4;
        settings.worker.pause = Duration::from_millis(1500);
    })
    .await;
    app.create_account(
        "Ada Admin",
        ADMIN_EMAIL,
        customer_desk::accounts::Role::Admin,
    )
    .await;
    app.add_many_customers(26, "Browco").await;
    let mut open = Vec::new();
    for n in 0..2 {
        let id = app
            .add_customer(
                "Open",
                &format!("Ticket{n}"),
                &format!("open{n}@browco.example"),
                "Browco",
            )
            .await;
        app.give(
            id,
            Related {
                tickets: 1,
                ..Default::default()
            },
        )
        .await;
        open.push(id);
    }
    sign_in(&chrome, &app.address, ADMIN_EMAIL, PASSWORD).await;
    chrome
        .client
        .goto(&format!("{}/people/customers?q=browco", app.address))
        .await
        .unwrap();
    chrome
        .js("document.querySelector('button[name=action][value=all]').click()")
        .await;
    selected_text(&chrome, "28 selected").await;
    chrome.click("button.trash").await;
    chrome
        .wait_for(
            "the dialog",
            "return !!document.querySelector('dialog[open]')",
        )
        .await;
    chrome
        .wait_for_text("Permanently delete 28 customers?")
        .await;
    chrome.click("#skip-open-tickets").await;
    chrome
        .wait_for_text("28 selected; 2 have open tickets and will be kept.")
        .await;
    chrome
        .wait_for_text("Permanently delete 26 customers?")
        .await;
    // Recounted in place: still the open dialog, the box keeps the focus.
    chrome
        .wait_for(
            "the box to keep the focus",
            "return document.activeElement.id === 'skip-open-tickets'",
        )
        .await;
    assert_eq!(
        chrome
            .js("return !!document.querySelector('dialog[open] #bulk-confirmation')")
            .await,
        serde_json::json!(true)
    );
    chrome.click("#understood").await;
    chrome.click("dialog [data-requires]").await;
    chrome
        .wait_for(
            "the progress page",
            "return location.pathname.startsWith('/people/customers/deletions/')",
        )
        .await;
    chrome.wait_for_text("Deleting 26 customers").await;
    chrome.click("#job-stop a").await;
    chrome
        .wait_for(
            "the stop dialog",
            "return !!document.querySelector('dialog[open]')",
        )
        .await;
    chrome
        .wait_for_text("Customers already deleted stay deleted.")
        .await;
    assert_eq!(chrome.focused().await, "Keep deleting");
    chrome.click("dialog[open] button.danger").await;
    chrome.wait_for_text("Stopped:").await;
    chrome
        .wait_for_text("2 customers with open tickets were kept.")
        .await;
    let left = app.row_counts().await.customers;
    assert!(left > 2 && left < 28, "{left} customers left");
    for id in open {
        assert_eq!(app.row_counts_of(id).await.tickets, 1);
    }
    assert_eq!(app.inconsistent_rows().await, 0);
    chrome.close().await;
}
