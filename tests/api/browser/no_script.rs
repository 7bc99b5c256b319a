//! The bulk deletion with JavaScript off: plain forms and full page loads.

use super::{gone, row_ids};
use crate::chrome::chrome;
use crate::helpers::{spawn_app, Backend, ADMIN_EMAIL, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_deletion_with_javascript_off() {
    let Some(chrome) = chrome(false).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.add_many_customers(70, "NoScript").await;
    chrome
        .client
        .goto(&format!("{}/login", app.address))
        .await
        .unwrap();
    chrome.click("#login-email").await;
    chrome.press(ADMIN_EMAIL).await;
    chrome.click("#login-password").await;
    chrome.press(PASSWORD).await;
    chrome
        .click("form[action='/login'] button[type=submit]")
        .await;
    chrome
        .wait_for(
            "the list",
            "return location.pathname === '/people/customers'",
        )
        .await;
    // Really without JavaScript: our script would have set this.
    assert_eq!(
        chrome
            .js("return document.getElementById('select-page').indeterminate")
            .await,
        serde_json::json!(false)
    );

    let page1 = row_ids(&chrome).await;
    for n in 1..=3 {
        chrome
            .click(&format!(
                "#customer-table tbody tr:nth-child({n}) input.row-check"
            ))
            .await;
    }
    // The page-2 control is a button of the same form: it saves the ticks first.
    chrome.click("button.page-link[value='?page=2']").await;
    chrome
        .wait_for("page 2", "return location.search.includes('page=2')")
        .await;
    chrome.wait_for_text("3 selected").await;
    let page2 = row_ids(&chrome).await;
    chrome
        .click("#customer-table tbody tr:nth-child(2) input.row-check")
        .await;
    chrome.click("button.trash").await;
    chrome
        .wait_for(
            "the confirmation page",
            "return location.pathname === '/people/customers/selection/delete'",
        )
        .await;
    chrome
        .wait_for_text("Permanently delete 4 customers?")
        .await;
    // Without the checkbox the server refuses.
    chrome.click("button[data-requires]").await;
    chrome
        .wait_for_text("Tick “I understand the consequences” to delete.")
        .await;
    assert_eq!(app.job_count().await, 0);
    chrome.click("#understood").await;
    chrome.click("button[data-requires]").await;
    // Four fit in one batch: deleted by the submit, back on the list with the flash (in the
    // page: no script makes it a toast), whose link leads to the deletion's summary.
    chrome
        .wait_for(
            "the list",
            "return location.pathname === '/people/customers'",
        )
        .await;
    chrome
        .wait_for_text("Deleted 4 customers with 0 tickets, 0 live chat conversations and 0 notes.")
        .await;
    chrome.click("main > .flash a").await;
    chrome.wait_for_text("Deletion finished").await;
    let mut chosen = page1[..3].to_vec();
    chosen.push(page2[1]);
    gone(&app, &chosen).await;
    assert_eq!(app.row_counts().await.customers, 66);
    chrome.close().await;
}
