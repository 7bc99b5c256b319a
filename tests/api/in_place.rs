//! With JavaScript, paging, sorting and the selection controls swap the list in place: the page
//! is not reloaded (a value set on `window` survives), the URL changes, and the keyboard focus
//! stays in the table. Quick ticks all count. The Sort menu waits for a committed choice.

use crate::chrome::{chrome, sign_in, Chrome, ENTER, ESCAPE};
use crate::helpers::{spawn_app, Backend, ADMIN_EMAIL, PASSWORD};

const ARROW_DOWN: char = '\u{E015}';

async fn same_document(chrome: &Chrome) {
    assert_eq!(
        chrome.js("return window.stillHere === 42").await,
        serde_json::json!(true),
        "the page was reloaded"
    );
}

async fn focus_in_table(chrome: &Chrome) {
    chrome
        .wait_for(
            "the focus in the table",
            "return !!document.activeElement.closest('#customer-table')",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_sorting_and_selecting_update_in_place() {
    let Some(chrome) = chrome(true).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.add_many_customers(120, "InPlace").await;
    sign_in(&chrome, &app.address, ADMIN_EMAIL, PASSWORD).await;
    chrome.js("window.stillHere = 42").await;

    // Eight quick "j x": eight ticks, none lost, the counter says 8.
    for _ in 0..8 {
        chrome.press("jx").await;
    }
    chrome
        .wait_for(
            "8 selected",
            "return document.querySelector('.selection-count').innerText.includes('8 selected')",
        )
        .await;

    // ] swaps page 2 in place; the focus moves to its first row.
    let first_before = chrome
        .js("return document.querySelector('#customer-table tbody tr').dataset.id")
        .await;
    chrome.press("]").await;
    chrome
        .wait_for("page 2", "return location.search.includes('page=2')")
        .await;
    chrome
        .wait_for(
            "page 2's rows",
            &format!(
                "return document.querySelector('#customer-table tbody tr').dataset.id !== {}",
                first_before
            ),
        )
        .await;
    same_document(&chrome).await;
    focus_in_table(&chrome).await;
    chrome
        .wait_for(
            "the first row focused",
            "return document.activeElement === document.querySelector('#customer-table tbody tr')",
        )
        .await;
    chrome.wait_for_text("8 selected").await;

    // The header checkbox ticks page 2 in place and keeps its focus.
    chrome.click("#select-page").await;
    chrome.wait_for_text("58 selected").await;
    same_document(&chrome).await;
    chrome
        .wait_for(
            "the header checkbox focused",
            "return document.activeElement.id === 'select-page'",
        )
        .await;

    // The page is all ticked and there are more pages: the bar offers them all.
    chrome.wait_for_text("Select all 120 customers").await;

    // The Sort menu: ArrowDown moves the choice but does not apply it; Enter does.
    let url = chrome.js("return location.href").await;
    chrome
        .js("document.querySelector('select[name=sort]').focus()")
        .await;
    chrome.press(&ARROW_DOWN.to_string()).await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(chrome.js("return location.href").await, url);
    same_document(&chrome).await;
    assert_eq!(
        chrome
            .js("return document.activeElement.getAttribute('name')")
            .await,
        serde_json::json!("sort")
    );
    chrome.press(&ENTER.to_string()).await;
    chrome
        .wait_for("sorted", "return location.search.includes('sort=-name')")
        .await;
    same_document(&chrome).await;

    // The Created header sorts too, with aria-sort.
    chrome.click("thead th:last-child a.sort-link").await;
    chrome
        .wait_for(
            "sorted by created",
            "return location.search.includes('sort=created') && document.querySelector('thead th:last-child').getAttribute('aria-sort') === 'descending'",
        )
        .await;
    same_document(&chrome).await;

    // Back returns to the previous URL and its list.
    chrome.client.back().await.unwrap();
    chrome
        .wait_for(
            "back to sort=-name",
            "return location.search.includes('sort=-name') && document.querySelector('thead th:nth-child(2)').getAttribute('aria-sort') === 'descending'",
        )
        .await;
    chrome.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_selection_menu_is_a_menu_button() {
    let Some(chrome) = chrome(true).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    app.add_many_customers(60, "Menu").await;
    sign_in(&chrome, &app.address, ADMIN_EMAIL, PASSWORD).await;
    chrome.js("window.stillHere = 42").await;
    let state = "var b = document.getElementById('select-menu-button'); \
                 return [b.getAttribute('aria-haspopup'), b.getAttribute('aria-expanded'), \
                         document.getElementById('select-menu-items').hidden, document.activeElement.textContent.trim()]";
    chrome
        .js("document.getElementById('select-menu-button').focus()")
        .await;
    assert_eq!(
        chrome.js(state).await,
        serde_json::json!(["menu", "false", true, "Select ▾"])
    );
    // ArrowDown opens it on its first item; arrows move; Esc closes and returns the focus.
    chrome.press(&ARROW_DOWN.to_string()).await;
    assert_eq!(
        chrome.js(state).await,
        serde_json::json!(["menu", "true", false, "All on this page"])
    );
    chrome.press(&ARROW_DOWN.to_string()).await;
    assert_eq!(chrome.focused().await, "All (60)");
    chrome.press(&ESCAPE.to_string()).await;
    assert_eq!(
        chrome.js(state).await,
        serde_json::json!(["menu", "false", true, "Select ▾"])
    );
    // Space opens it too; a click outside closes it.
    chrome.press(" ").await;
    assert_eq!(chrome.focused().await, "select-page-all");
    chrome.click("h1").await;
    assert_eq!(
        chrome.js(state).await,
        serde_json::json!(["menu", "false", true, "Select ▾"])
    );
    // Enter opens it; ArrowDown and Enter choose All (60), in place.
    chrome.press(&ENTER.to_string()).await;
    chrome.press(&ARROW_DOWN.to_string()).await;
    chrome.press(&ENTER.to_string()).await;
    chrome.wait_for_text("60 selected").await;
    same_document(&chrome).await;
    chrome
        .wait_for(
            "the focus back on the menu button",
            "return document.activeElement.id === 'select-menu-button'",
        )
        .await;
    chrome.close().await;
}
