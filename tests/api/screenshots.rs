//! The README's screenshots, taken in Chromium from seeded data when `UPDATE_SCREENSHOTS=1`
//! (`cargo test --test api screenshots`); without it the same walk runs and checks what each
//! picture shows: a filtered list with a selection, the bulk and single confirmations, a bulk
//! deletion in progress (1366×768), and on a phone (390×844) the list after a small deletion,
//! with its toast.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::chrome::{chrome, sign_in, Chrome};
use crate::helpers::{spawn_signed_in_with_settings, Backend, ADMIN_EMAIL, PASSWORD};

#[derive(QueryableByName)]
struct Organisation {
    #[diesel(sql_type = Text)]
    organisation: String,
}

/// The bulk confirmation has its counts (the real dialog replaced the placeholder).
async fn counted(chrome: &Chrome) {
    chrome
        .wait_for(
            "the counts",
            "return !!document.querySelector('dialog[open] #understood')",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_screenshots() {
    let Some(chrome) = chrome(true).await else {
        return;
    };
    // Batches of 2 with a rest: a deletion of more shows its progress for a while.
    let app = spawn_signed_in_with_settings(Backend::Sqlite, |settings| {
        settings.worker.batch_size = 2;
        settings.worker.pause = Duration::from_millis(1500);
    })
    .await;
    app.db(|conn| customer_desk::seed::seed(conn, 400, 7, false).unwrap())
        .await;
    let organisation = app
        .db(|conn| {
            diesel::sql_query(
                "SELECT organisation FROM customers GROUP BY organisation \
                 ORDER BY COUNT(*) DESC, organisation LIMIT 1",
            )
            .get_result::<Organisation>(conn)
            .unwrap()
            .organisation
        })
        .await;
    sign_in(&chrome, &app.address, ADMIN_EMAIL, PASSWORD).await;
    chrome.viewport(1366, 768).await;

    // The list filtered by organisation and open tickets, three rows ticked.
    let filtered = format!(
        "/people/customers?organisation={}&tickets=open",
        organisation.replace(' ', "+")
    );
    chrome
        .client
        .goto(&format!("{}{filtered}", app.address))
        .await
        .unwrap();
    chrome.wait_for_text("Organisation is “").await;
    for n in 1..=3 {
        chrome
            .click(&format!(
                "#customer-table tbody tr:nth-child({n}) input.row-check"
            ))
            .await;
    }
    chrome.wait_for_text("3 selected").await;
    assert!(chrome.overflow().await <= 0, "no sideways scroll");
    chrome.screenshot("list-with-selection").await;

    // The bulk confirmation, ready to delete.
    chrome.click("button.trash").await;
    chrome
        .wait_for_text("Permanently delete 3 customers?")
        .await;
    counted(&chrome).await;
    chrome.click("#understood").await;
    chrome.screenshot("bulk-confirmation").await;
    chrome.press(&crate::chrome::ESCAPE.to_string()).await;

    // The single confirmation, from a customer's edit view.
    let first = chrome
        .js("return Number(document.querySelector('#customer-table tbody tr').dataset.id)")
        .await
        .as_i64()
        .unwrap();
    chrome
        .client
        .goto(&format!("{}/people/customers/{first}/edit", app.address))
        .await
        .unwrap();
    chrome.click("#delete-customer").await;
    chrome.wait_for_text("will be permanently deleted").await;
    chrome.screenshot("single-confirmation").await;

    // All of the filtered list: more than a batch, so the progress page.
    chrome
        .client
        .goto(&format!("{}{filtered}", app.address))
        .await
        .unwrap();
    chrome
        .js("document.querySelector('button[name=action][value=all]').click()")
        .await;
    chrome
        .wait_for(
            "All (N) selected",
            "return /All \\d+ matching/.test(document.body.innerText)",
        )
        .await;
    chrome.click("button.trash").await;
    counted(&chrome).await;
    chrome.click("#understood").await;
    chrome.click("dialog[open] [data-requires]").await;
    chrome
        .wait_for(
            "a deletion under way",
            "return location.pathname.startsWith('/people/customers/deletions/') \
             && /Deleting \\d+ customers/.test(document.body.innerText) \
             && document.querySelector('progress').value > 0",
        )
        .await;
    chrome.screenshot("progress").await;
    chrome.wait_for_text("Deletion finished").await;

    // On a phone: two customers deleted in the request, the list with its toast.
    chrome.viewport(390, 844).await;
    chrome
        .client
        .goto(&format!("{}/people/customers", app.address))
        .await
        .unwrap();
    for n in 1..=2 {
        chrome
            .click(&format!(
                "#customer-table tbody tr:nth-child({n}) input.row-check"
            ))
            .await;
    }
    chrome.wait_for_text("2 selected").await;
    chrome.click("button.trash").await;
    chrome
        .wait_for_text("Permanently delete 2 customers?")
        .await;
    counted(&chrome).await;
    chrome.click("#understood").await;
    chrome.click("dialog[open] [data-requires]").await;
    chrome
        .wait_for(
            "the toast",
            "return location.pathname === '/people/customers' && !!document.querySelector('#toasts .flash a')",
        )
        .await;
    chrome.wait_for_text("Deleted 2 customers").await;
    assert!(chrome.overflow().await <= 0, "no sideways scroll");
    chrome.screenshot("phone-list").await;
    chrome.close().await;
}
