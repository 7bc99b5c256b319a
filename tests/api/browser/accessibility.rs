//! axe-core on every screen: no serious or critical violations.

use std::time::Duration;

use super::selected_text;
use crate::chrome::{chrome, sign_in};
use crate::helpers::{spawn_signed_in_with_settings, Backend, Related, ADMIN_EMAIL, PASSWORD};

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
