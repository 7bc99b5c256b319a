//! In a real headless Chromium: the keyboard map, the dialogs, the no-JavaScript path, and
//! accessibility checked by axe-core. SQLite is enough here: what is tested is the browser side.

use std::time::Duration;

use crate::chrome::{chrome, sign_in, Chrome, ENTER, ESCAPE, TAB};
use crate::helpers::{
    spawn_app, spawn_signed_in_with_settings, Backend, Related, RowCounts, TestApp, ADMIN_EMAIL,
    PASSWORD,
};

/// The ids of the rows on the page, in order.
async fn row_ids(chrome: &Chrome) -> Vec<i64> {
    let ids = chrome
        .js("return Array.from(document.querySelectorAll('#customer-table tbody tr')).map(r => Number(r.dataset.id))")
        .await;
    ids.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

async fn selected_text(chrome: &Chrome, text: &str) {
    let script = format!(
        "var c = document.querySelector('.selection-count'); return !!c && c.innerText.includes({})",
        serde_json::to_string(text).unwrap()
    );
    chrome.wait_for(text, &script).await;
}

async fn gone(app: &TestApp, ids: &[i64]) {
    for id in ids {
        assert_eq!(
            app.row_counts_of(*id).await,
            RowCounts::default(),
            "customer {id}"
        );
    }
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_serious_accessibility_violations() {
    let Some(chrome) = chrome(true).await else {
        return;
    };
    // Batches of one customer with a rest between them: deleting two shows the progress page.
    let app = spawn_signed_in_with_settings(Backend::Sqlite, |settings| {
        settings.worker.batch_size = 1;
        settings.worker.pause = Duration::from_millis(1500);
    })
    .await;
    let data = Related {
        tickets: 3,
        trashed_tickets: 1,
        messages_per_ticket: 2,
        chats: 1,
        messages_per_chat: 2,
        notes: 1,
    };
    let ada = app.add_customer_with("Ada", "Lovelace", data).await;
    app.add_customer_with("Alan", "Turing", data).await;
    app.add_customer_with("Grace", "Hopper", data).await;
    let mut report = Vec::new();

    chrome
        .client
        .goto(&format!("{}/login", app.address))
        .await
        .unwrap();
    report.push(("sign-in", chrome.axe_violations().await));
    sign_in(&chrome, &app.address, ADMIN_EMAIL, PASSWORD).await;
    chrome
        .click("#customer-table tbody tr:first-child input.row-check")
        .await;
    selected_text(&chrome, "1 selected").await;
    report.push(("list", chrome.axe_violations().await));
    for (name, path) in [
        ("profile", format!("/people/customers/{ada}")),
        ("edit", format!("/people/customers/{ada}/edit")),
        (
            "single confirmation page",
            format!("/people/customers/{ada}/delete"),
        ),
        (
            "bulk confirmation page",
            "/people/customers/selection/delete".to_owned(),
        ),
        ("new customer", "/people/customers/new".to_owned()),
    ] {
        chrome
            .client
            .goto(&format!("{}{path}", app.address))
            .await
            .unwrap();
        report.push((name, chrome.axe_violations().await));
    }
    // Both confirmations as dialogs too.
    chrome
        .client
        .goto(&format!("{}/people/customers/{ada}/edit", app.address))
        .await
        .unwrap();
    chrome.click("#delete-customer").await;
    chrome
        .wait_for(
            "the dialog",
            "return !!document.querySelector('dialog[open][data-modal]')",
        )
        .await;
    report.push(("single confirmation dialog", chrome.axe_violations().await));
    chrome
        .client
        .goto(&format!("{}/people/customers", app.address))
        .await
        .unwrap();
    chrome.click("button.trash").await;
    chrome
        .wait_for(
            "the dialog",
            "return !!document.querySelector('dialog[open][data-modal]')",
        )
        .await;
    report.push(("bulk confirmation dialog", chrome.axe_violations().await));
    chrome.click("#understood").await;
    chrome.click("button[data-requires]").await;
    // One customer, one batch: back on the list with a toast.
    chrome
        .wait_for(
            "the toast",
            "return location.pathname === '/people/customers' && !!document.querySelector('#toasts .flash')",
        )
        .await;
    report.push((
        "list with a deletion's toast",
        chrome.axe_violations().await,
    ));
    // The other two, two batches: the progress page, then its summary.
    chrome.click("#select-page").await;
    selected_text(&chrome, "2 selected").await;
    chrome.click("button.trash").await;
    chrome
        .wait_for_text("Permanently delete 2 customers?")
        .await;
    chrome.click("#understood").await;
    chrome.click("button[data-requires]").await;
    chrome
        .wait_for(
            "the progress page",
            "return location.pathname.startsWith('/people/customers/deletions/')",
        )
        .await;
    report.push(("progress", chrome.axe_violations().await));
    chrome.wait_for_text("Deletion finished").await;
    report.push(("summary", chrome.axe_violations().await));
    chrome
        .client
        .goto(&format!("{}/people/customers/deletions", app.address))
        .await
        .unwrap();
    report.push(("deletion history", chrome.axe_violations().await));

    let failures: Vec<String> = report
        .iter()
        .flat_map(|(page, violations)| violations.iter().map(move |v| format!("{page}: {v}")))
        .collect();
    assert!(
        failures.is_empty(),
        "accessibility violations:\n{}",
        failures.join("\n")
    );
    chrome.close().await;
}

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
