//! The keyboard map across pages, the single deletion from the edit view, and the bulk
//! dialog's confirm button.

use super::{gone, row_ids, selected_text};
use crate::chrome::{chrome, sign_in, ENTER, ESCAPE, TAB};
use crate::helpers::{spawn_app, Backend, Related, ADMIN_EMAIL, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_bulk_deletion_across_pages() {
    let Some(chrome) = chrome(true).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.add_many_customers(70, "Keyboard").await;
    sign_in(&chrome, &app.address, ADMIN_EMAIL, PASSWORD).await;

    let page1 = row_ids(&chrome).await;
    assert_eq!(page1.len(), 50);
    // j moves the row focus; x selects: three rows.
    for _ in 0..3 {
        chrome.press("jx").await;
    }
    selected_text(&chrome, "3 selected").await;
    // Two rows further down, Shift+x selects the range from the last one selected.
    chrome.press("jj").await;
    chrome.shift('x').await;
    selected_text(&chrome, "5 selected").await;
    let header = chrome.js("var h = document.getElementById('select-page'); return [h.indeterminate, h.getAttribute('aria-checked')]").await;
    assert_eq!(header, serde_json::json!([true, "mixed"]));

    // ] goes to page 2 and keeps the selection.
    chrome.press("]").await;
    chrome
        .wait_for("page 2", "return location.search.includes('page=2')")
        .await;
    selected_text(&chrome, "5 selected").await;
    let page2 = row_ids(&chrome).await;
    // The new page came in place, with the focus on its first row.
    chrome.press("x").await;
    selected_text(&chrome, "6 selected").await;

    // # opens the confirmation with Cancel focused; Tab reaches the checkbox; Space; Enter.
    chrome.press("#").await;
    chrome
        .wait_for(
            "the dialog",
            "return !!document.querySelector('dialog[open][data-modal]')",
        )
        .await;
    chrome
        .wait_for_text("Permanently delete 6 customers?")
        .await;
    assert_eq!(chrome.focused().await, "Cancel");
    chrome.press(&TAB.to_string()).await;
    // "Skip customers with open tickets" first (left unticked), then "I understand".
    chrome
        .wait_for(
            "the box to keep the focus",
            "return document.activeElement.id === 'skip-open-tickets'",
        )
        .await;
    chrome.press(&TAB.to_string()).await;
    assert_eq!(chrome.focused().await, "understood");
    chrome.press(" ").await;
    chrome.press(&ENTER.to_string()).await;
    // Six fit in one batch: deleted by the submit, back on the list with a toast that says so
    // and links the deletion.
    chrome
        .wait_for(
            "the list",
            "return location.pathname === '/people/customers' && !!document.querySelector('#toasts .flash')",
        )
        .await;
    chrome
        .wait_for_text("Deleted 6 customers with 0 tickets")
        .await;
    let violations = chrome.axe_violations().await;
    assert!(violations.is_empty(), "{violations:?}");
    // By keyboard: the toast follows the header in the tab order (not every row of the list),
    // and Esc dismisses it, the focus going to the page's main content.
    let summary = chrome
        .js("return document.querySelector('#toasts .flash a').getAttribute('href')")
        .await;
    chrome
        .js("document.querySelector('header a').focus()")
        .await;
    let mut tabs = 0;
    while chrome.focused().await != "View details" {
        assert!(tabs < 10, "the toast's link is {tabs}+ Tabs away");
        chrome.press(&TAB.to_string()).await;
        tabs += 1;
    }
    chrome.press(&TAB.to_string()).await;
    chrome.press(&ESCAPE.to_string()).await;
    chrome
        .wait_for(
            "the toast dismissed",
            "return !document.querySelector('#toasts .flash') && document.activeElement.id === 'main'",
        )
        .await;
    chrome.js(&format!("location.href = {summary}")).await;
    chrome
        .wait_for(
            "the deletion's summary",
            "return location.pathname.startsWith('/people/customers/deletions/')",
        )
        .await;
    chrome.wait_for_text("Deletion finished").await;

    let mut chosen: Vec<i64> = page1[..5].to_vec();
    chosen.push(page2[0]);
    gone(&app, &chosen).await;
    assert_eq!(app.row_counts().await.customers, 64);
    for id in page1[5..].iter().chain(&page2[1..]) {
        assert_eq!(app.row_counts_of(*id).await.customers, 1);
    }
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_deletion_from_the_edit_view_with_the_keyboard() {
    let Some(chrome) = chrome(true).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let data = Related {
        tickets: 2,
        trashed_tickets: 1,
        messages_per_ticket: 1,
        chats: 1,
        messages_per_chat: 1,
        notes: 1,
    };
    let ada = app.add_customer_with("Ada", "Lovelace", data).await;
    sign_in(&chrome, &app.address, ADMIN_EMAIL, PASSWORD).await;
    chrome
        .client
        .goto(&format!("{}/people/customers/{ada}/edit", app.address))
        .await
        .unwrap();
    // Tab to Delete Customer.
    for _ in 0..40 {
        if chrome.focused().await == "delete-customer" {
            break;
        }
        chrome.press(&TAB.to_string()).await;
    }
    assert_eq!(chrome.focused().await, "delete-customer");
    chrome.press(&ENTER.to_string()).await;
    chrome
        .wait_for(
            "the dialog",
            "return !!document.querySelector('dialog[open][data-modal]')",
        )
        .await;
    chrome
        .wait_for_text("2 tickets (1 in the trash), 1 live chat conversation and 1 note")
        .await;
    assert_eq!(chrome.focused().await, "Cancel");

    // Esc closes it, focus returns to the link, nothing is deleted.
    chrome.press(&ESCAPE.to_string()).await;
    chrome
        .wait_for(
            "the dialog to close",
            "return !document.querySelector('dialog[open]')",
        )
        .await;
    assert_eq!(chrome.focused().await, "delete-customer");
    assert_eq!(app.row_counts_of(ada).await.customers, 1);

    // Again, and this time Tab to "Yes, permanently delete" and Enter.
    chrome.press(&ENTER.to_string()).await;
    chrome
        .wait_for(
            "the dialog",
            "return !!document.querySelector('dialog[open][data-modal]')",
        )
        .await;
    chrome.press(&TAB.to_string()).await;
    assert_eq!(chrome.focused().await, "Yes, permanently delete");
    chrome.press(&ENTER.to_string()).await;
    chrome
        .wait_for_text("Deleted Ada Lovelace with 2 tickets (1 in the trash)")
        .await;
    gone(&app, &[ada]).await;
    assert_eq!(app.inconsistent_rows().await, 0);
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_button_waits_for_the_checkbox_and_header_shows_mixed() {
    let Some(chrome) = chrome(true).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.db(|conn| customer_desk::seed::seed(conn, 8, 7, false).unwrap())
        .await;
    sign_in(&chrome, &app.address, ADMIN_EMAIL, PASSWORD).await;
    chrome
        .click("#customer-table tbody tr:first-child input.row-check")
        .await;
    selected_text(&chrome, "1 selected").await;
    let header = chrome
        .js("var h = document.getElementById('select-page'); return [h.indeterminate, h.getAttribute('aria-checked')]")
        .await;
    assert_eq!(header, serde_json::json!([true, "mixed"]));
    // The header checkbox then selects the whole page.
    chrome.click("#select-page").await;
    selected_text(&chrome, "8 selected").await;
    chrome
        .wait_for(
            "checked header",
            "return document.getElementById('select-page').getAttribute('aria-checked') === 'true'",
        )
        .await;

    chrome.click("button.trash").await;
    chrome
        .wait_for(
            "the dialog",
            "return !!document.querySelector('dialog[open][data-modal]')",
        )
        .await;
    let disabled = "return document.querySelector('dialog [data-requires]').disabled";
    assert_eq!(chrome.js(disabled).await, serde_json::json!(true));
    chrome.click("#understood").await;
    assert_eq!(chrome.js(disabled).await, serde_json::json!(false));
    chrome.click("#understood").await;
    assert_eq!(chrome.js(disabled).await, serde_json::json!(true));
    chrome.press(&ESCAPE.to_string()).await;
    chrome
        .wait_for(
            "the dialog to close",
            "return !document.querySelector('dialog[open]')",
        )
        .await;
    assert_eq!(app.row_counts().await.customers, 8);
    // ? shows the shortcuts.
    chrome.press("?").await;
    chrome
        .wait_for(
            "shortcuts",
            "return document.getElementById('shortcuts').open",
        )
        .await;
    chrome.press(&ESCAPE.to_string()).await;
    chrome.close().await;
}
