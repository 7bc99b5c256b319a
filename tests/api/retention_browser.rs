//! In a real headless Chromium: an administrator creates a retention rule, activates it
//! through its confirmation, and the server runs it again a minute later (a one-minute
//! interval); the pages pass axe-core's serious and critical checks.

use std::time::{Duration, Instant};

use customer_desk::retention::RetentionSettings;

use crate::chrome::{chrome, sign_in};
use crate::helpers::retention::months_ago;
use crate::helpers::{spawn_signed_in_with_settings, Backend, Related, ADMIN_EMAIL, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_activate_and_run_a_rule_every_minute() {
    let Some(chrome) = chrome(true).await else {
        return;
    };
    let app = spawn_signed_in_with_settings(Backend::Sqlite, |settings| {
        settings.retention = RetentionSettings {
            poll: Duration::from_secs(1),
            ..RetentionSettings::every(Duration::from_secs(60))
        };
    })
    .await;
    let mut quiet = Vec::new();
    for name in ["Ada", "Alan"] {
        let id = app
            .add_customer_with(
                name,
                "Quiet",
                Related {
                    notes: 1,
                    ..Default::default()
                },
            )
            .await;
        app.set_last_active(id, months_ago(30)).await;
        quiet.push(id);
    }
    let fresh = app
        .add_customer("Grace", "Fresh", "grace@example.com", "Acme")
        .await;
    sign_in(&chrome, &app.address, ADMIN_EMAIL, PASSWORD).await;
    let mut report = Vec::new();

    chrome.click("a[href='/people/customers/retention']").await;
    chrome
        .wait_for_text("There are no retention rules yet")
        .await;
    report.push(("rules", chrome.axe_violations().await));
    chrome
        .click("a.button.primary[href='/people/customers/retention/new']")
        .await;
    chrome.wait_for_text("Add retention rule").await;
    report.push(("rule form", chrome.axe_violations().await));
    chrome.click("#field-name").await;
    chrome.press("Two years quiet").await;
    chrome
        .js("document.getElementById('field-inactive_months').value = ''")
        .await;
    chrome.click("#field-inactive_months").await;
    chrome.press("24").await;
    // A small desk: one customer of two is 50 %, past the default limit's 10 %.
    chrome
        .js("document.getElementById('field-max_percent').value = ''")
        .await;
    chrome.click("#field-max_percent").await;
    chrome.press("100").await;
    chrome.click("form.form button[type=submit]").await;
    chrome
        .wait_for_text("It is inactive: activate it to start deleting.")
        .await;
    chrome.wait_for_text("2 customers").await;

    chrome.click("a.button.danger[href$='/activate']").await;
    chrome
        .wait_for_text("It would permanently delete 2 customers now")
        .await;
    chrome
        .wait_for_text("From now on, customers who match will be deleted every minute")
        .await;
    report.push(("activation confirmation", chrome.axe_violations().await));
    chrome.click("#understood").await;
    chrome.click("button[data-requires='understood']").await;
    chrome.wait_for_text(": deleting 2 customers now.").await;
    chrome.wait_for_text("Active").await;
    chrome.close().await;

    for id in &quiet {
        for _ in 0..100 {
            if app.row_counts_of(*id).await.customers == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(app.row_counts_of(*id).await.customers, 0);
    }
    // Another customer falls quiet; the next run, a minute after the first, takes them.
    let later = app
        .add_customer("Edsger", "Later", "edsger@example.com", "Acme")
        .await;
    app.set_last_active(later, months_ago(25)).await;
    let started = Instant::now();
    while app.row_counts_of(later).await.customers == 1 {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the rule ran again within its minute"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(app.row_counts_of(fresh).await.customers, 1);
    let records = app.deletion_records().await;
    assert_eq!(records.len(), 2);
    assert!(records
        .iter()
        .all(|r| r.6 == "Retention rule: Two years quiet"));
    app.get("/people/customers/deletions")
        .await
        .assert_contains("Retention rule: Two years quiet");

    let failures: Vec<String> = report
        .into_iter()
        .filter(|(_, violations)| !violations.is_empty())
        .map(|(page, violations)| format!("{page}: {violations:?}"))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}
