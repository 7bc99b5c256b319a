//! Every screen at a phone's size (390×844) and a laptop's (1366×768), in headless Chromium: no
//! page scrolls sideways, each dialog fits the viewport with both of its buttons reachable, and
//! axe-core finds nothing serious or critical. The retention rules' screens too.

use crate::chrome::{chrome, sign_in, Chrome};
use crate::helpers::retention::months_ago;
use crate::helpers::{spawn_app, Backend, Related, TestApp, ADMIN_EMAIL, PASSWORD};

const SIZES: [(u32, u32); 2] = [(390, 844), (1366, 768)];

/// Checks the screen now shown: no sideways scroll, no serious accessibility violation.
async fn fits(chrome: &Chrome, size: (u32, u32), screen: &str, failures: &mut Vec<String>) {
    let overflow = chrome.overflow().await;
    if overflow > 0 {
        failures.push(format!(
            "{}×{} {screen}: the page scrolls {overflow} px sideways",
            size.0, size.1
        ));
    }
    for violation in chrome.axe_violations().await {
        failures.push(format!("{}×{} {screen}: {violation}", size.0, size.1));
    }
}

/// The open dialog lies inside the viewport and each of its action buttons, once scrolled to
/// inside the dialog, is on screen and is what a tap at its centre would hit.
async fn dialog_fits(chrome: &Chrome, size: (u32, u32), screen: &str, failures: &mut Vec<String>) {
    chrome
        .wait_for(
            "the dialog",
            "return !!document.querySelector('dialog[open][data-modal]')",
        )
        .await;
    let report = chrome
        .js(r#"
            var d = document.querySelector('dialog[open]');
            var r = d.getBoundingClientRect();
            var problems = [];
            if (r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight)
              problems.push('dialog at ' + [r.left, r.top, r.right, r.bottom].join(',') + ' outside ' + innerWidth + '×' + innerHeight);
            var buttons = d.querySelectorAll('.confirm-actions .button');
            if (buttons.length < 2) problems.push('fewer than two buttons');
            buttons.forEach(function (b) {
              b.scrollIntoView({ block: 'nearest', inline: 'nearest' });
              var br = b.getBoundingClientRect();
              var hit = document.elementFromPoint(br.left + br.width / 2, br.top + br.height / 2);
              if (br.left < 0 || br.right > innerWidth || br.top < 0 || br.bottom > innerHeight || !hit || !b.contains(hit))
                problems.push('“' + b.textContent.trim() + '” cannot be reached');
            });
            return problems;
        "#)
        .await;
    for problem in report.as_array().unwrap() {
        failures.push(format!(
            "{}×{} {screen}: {}",
            size.0,
            size.1,
            problem.as_str().unwrap()
        ));
    }
    fits(chrome, size, screen, failures).await;
}

async fn open(chrome: &Chrome, app: &TestApp, path: &str) {
    chrome
        .client
        .goto(&format!("{}{path}", app.address))
        .await
        .unwrap();
}

/// The retention rules' screens: the rules (none yet, the first time), the form, the form
/// refused, the edit form and the activation confirmation, with a rule of long names.
async fn retention_screens(
    chrome: &Chrome,
    app: &TestApp,
    size: (u32, u32),
    failures: &mut Vec<String>,
) {
    if app.rule_count().await == 0 {
        open(chrome, app, "/people/customers/retention").await;
        fits(chrome, size, "retention rules, none yet", failures).await;
        app.add_rule(
            "Customers of the extraordinarily long organisation, inactive for years",
            &[(
                "organisation",
                "The Extraordinarily Long Organisation Name Incorporated Worldwide",
            )],
        )
        .await;
    }
    let rule = app
        .rule("Customers of the extraordinarily long organisation, inactive for years")
        .await
        .expect("the rule");
    open(chrome, app, "/people/customers/retention").await;
    fits(chrome, size, "retention rules", failures).await;
    open(chrome, app, "/people/customers/retention/new").await;
    fits(chrome, size, "new retention rule", failures).await;
    // Saved without a name: refused, with the error summary.
    chrome.click("form.form button[type=submit]").await;
    chrome.wait_for_text("Please correct").await;
    fits(chrome, size, "retention rule refused", failures).await;
    for (screen, path) in [
        (
            "edit retention rule",
            format!("/people/customers/retention/{}/edit", rule.id),
        ),
        (
            "retention activation",
            format!("/people/customers/retention/{}/activate", rule.id),
        ),
    ] {
        open(chrome, app, &path).await;
        fits(chrome, size, screen, failures).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_fits_a_phone_and_a_laptop() {
    let Some(chrome) = chrome(true).await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let data = Related {
        tickets: 3,
        trashed_tickets: 1,
        messages_per_ticket: 1,
        chats: 1,
        messages_per_chat: 1,
        notes: 1,
    };
    // Long values too: they wrap instead of widening the page.
    let long = app
        .add_customer(
            "Maximiliana-Josephina",
            "Vandenberghe-Oppenheimer",
            "maximiliana.josephina.vandenberghe-oppenheimer@very-long-organisation-name.example",
            "The Extraordinarily Long Organisation Name Incorporated Worldwide",
        )
        .await;
    app.give(long, data).await;
    // Inactive for two years: the retention rule below matches it.
    app.set_last_active(long, months_ago(24)).await;
    app.add_many_customers(60, "Fits").await;
    let mut failures = Vec::new();

    for size in SIZES {
        chrome.viewport(size.0, size.1).await;
        // Signed out: the sign-in page.
        let _ = chrome.client.delete_all_cookies().await;
        open(&chrome, &app, "/login").await;
        fits(&chrome, size, "sign-in", &mut failures).await;
        sign_in(&chrome, &app.address, ADMIN_EMAIL, PASSWORD).await;
        chrome.viewport(size.0, size.1).await;
        open(&chrome, &app, "/people/customers?q=Vandenberghe").await;
        chrome
            .click("#customer-table tbody tr:first-child input.row-check")
            .await;
        chrome.wait_for_text("1 selected").await;
        open(&chrome, &app, "/people/customers").await;
        fits(&chrome, size, "list", &mut failures).await;
        open(&chrome, &app, "/people/customers?selected=1").await;
        fits(&chrome, size, "show selected", &mut failures).await;
        for (screen, path) in [
            ("profile", format!("/people/customers/{long}")),
            ("edit", format!("/people/customers/{long}/edit")),
            ("add", "/people/customers/new".to_owned()),
            (
                "single confirmation page",
                format!("/people/customers/{long}/delete"),
            ),
            (
                "bulk confirmation page",
                "/people/customers/selection/delete".to_owned(),
            ),
            ("history", "/people/customers/deletions".to_owned()),
            ("not found", "/people/customers/999999999".to_owned()),
        ] {
            open(&chrome, &app, &path).await;
            fits(&chrome, size, screen, &mut failures).await;
        }
        open(&chrome, &app, &format!("/people/customers/{long}/edit")).await;
        chrome.click("#delete-customer").await;
        dialog_fits(&chrome, size, "single confirmation dialog", &mut failures).await;
        open(&chrome, &app, "/people/customers").await;
        chrome.click("button.trash").await;
        dialog_fits(&chrome, size, "bulk confirmation dialog", &mut failures).await;
        retention_screens(&chrome, &app, size, &mut failures).await;
    }

    // Last, deletions at the phone's size. One customer (one batch) is deleted by the submit:
    // the list with its toast, and the summary the toast links.
    let phone = SIZES[0];
    chrome.viewport(phone.0, phone.1).await;
    open(&chrome, &app, "/people/customers/selection/delete").await;
    chrome.click("#understood").await;
    chrome.click("button[data-requires]").await;
    chrome
        .wait_for(
            "the list with its toast",
            "return location.pathname === '/people/customers' && !!document.querySelector('#toasts .flash a')",
        )
        .await;
    fits(&chrome, phone, "list with a toast", &mut failures).await;
    chrome.click("#toasts .flash a").await;
    chrome.wait_for_text("Deletion finished").await;
    fits(&chrome, phone, "summary", &mut failures).await;
    // The 60 others (more than a batch): the progress page.
    open(&chrome, &app, "/people/customers?q=Fits").await;
    chrome
        .js("document.querySelector('button[name=action][value=all]').click()")
        .await;
    chrome.wait_for_text("60 selected").await;
    open(&chrome, &app, "/people/customers/selection/delete").await;
    chrome.click("#understood").await;
    chrome.click("button[data-requires]").await;
    chrome
        .wait_for(
            "the progress page",
            "return location.pathname.startsWith('/people/customers/deletions/')",
        )
        .await;
    fits(&chrome, phone, "progress", &mut failures).await;
    chrome.wait_for_text("Deletion finished").await;
    open(&chrome, &app, "/people/customers/deletions").await;
    fits(&chrome, phone, "history with rows", &mut failures).await;

    assert!(failures.is_empty(), "{}", failures.join("\n"));
    chrome.close().await;
}
