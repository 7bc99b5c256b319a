//! Moments on every screen that shows them (list, profile, history, a deletion's progress and
//! summary, the retention rules) are `<time datetime>` elements: in UTC without JavaScript, and
//! in Chromium rewritten in the browser's time zone, relative where it helps ("3 days ago",
//! "now"), with the absolute date and time on hover.

use chrono::{NaiveDateTime, TimeDelta, Timelike};
use scraper::{Html, Selector};

use crate::chrome::{chrome_in_time_zone, sign_in};
use crate::helpers::retention::{activate, months_ago};
use crate::helpers::{spawn_app, spawn_app_with_worker, Backend, Related, TestApp, ADMIN_EMAIL};
use crate::on_both_backends;
use crate::small_deletion::confirm_and_finish;

on_both_backends!(every_moment_is_a_time_element_in_utc_without_javascript);

const SOME: Related = Related {
    tickets: 1,
    trashed_tickets: 0,
    messages_per_ticket: 1,
    chats: 1,
    messages_per_chat: 1,
    notes: 1,
};

/// Each `<time>` of the page: its `datetime`, whether it has a time of day (`data-time`) and
/// its text.
fn times_of(body: &str) -> Vec<(NaiveDateTime, bool, String)> {
    let document = Html::parse_document(body);
    let selector = Selector::parse("main time").unwrap();
    document
        .select(&selector)
        .map(|time| {
            let datetime = time.value().attr("datetime").expect("a datetime");
            let at = NaiveDateTime::parse_from_str(datetime, "%Y-%m-%dT%H:%M:%SZ")
                .unwrap_or_else(|e| panic!("{datetime}: {e}"));
            let with_time = time.value().attr("data-time").is_some();
            (at, with_time, time.text().collect())
        })
        .collect()
}

/// The page at `path` shows at least `expected` moments, each written in UTC as its datetime.
async fn moments(app: &TestApp, path: &str, expected: usize) -> Vec<NaiveDateTime> {
    let page = app.get(path).await;
    page.assert_status(200);
    let times = times_of(&page.body);
    assert!(
        times.len() >= expected,
        "{path}: {} <time> elements, expected {expected}:\n{}",
        times.len(),
        page.body
    );
    for (at, with_time, text) in &times {
        let utc = if *with_time {
            at.format("%-d %b %Y, %H:%M UTC").to_string()
        } else {
            at.format("%-d %b %Y").to_string()
        };
        assert_eq!(text, &utc, "{path}");
    }
    times.into_iter().map(|(at, _, _)| at).collect()
}

async fn every_moment_is_a_time_element_in_utc_without_javascript(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app.add_customer_with("Ada", "Lovelace", SOME).await;
    let created = customer_desk::db::now() - TimeDelta::days(3);
    app.set_created(ada, created).await;
    let alan = app.add_customer_with("Alan", "Turing", SOME).await;

    // The list: each row's creation day.
    assert_eq!(moments(&app, "/people/customers", 2).await.len(), 2);
    // The profile: created, updated, the ticket, the chat and the note.
    let profile = moments(&app, &format!("/people/customers/{ada}"), 5).await;
    let created = created.with_nanosecond(0).unwrap();
    assert!(profile.contains(&created), "{profile:?}");

    // A deletion: its summary (started, finished) and the history.
    let list = app.get("/people/customers").await;
    crate::helpers::ListForm::from_page(&list)
        .tick(alan, true)
        .submit(&app.admin, None)
        .await
        .assert_status(303);
    let job = confirm_and_finish(&app).await.job;
    moments(&app, &format!("/people/customers/deletions/{job}"), 2).await;
    moments(&app, "/people/customers/deletions", 1).await;

    // The retention rules: the last run.
    let dormant = app
        .add_customer("Dormant", "Person", "dormant@x.example", "X")
        .await;
    app.set_last_active(dormant, months_ago(24)).await;
    let rule = app.add_rule("Dormant", &[]).await;
    let (_, activated) = activate(&app.admin, rule.id, true).await;
    activated.assert_status(303);
    app.wait_for_job(app.rule("Dormant").await.unwrap().last_job.unwrap().0)
        .await;
    let rules = app.get("/people/customers/retention").await;
    rules.assert_contains("deleted 1 customer");
    moments(&app, "/people/customers/retention", 1).await;
}

/// A deletion's progress page while it runs: started when, by whom.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_deletion_says_when_it_started() {
    let app = spawn_app_with_worker(Backend::Sqlite, false).await;
    for n in 0..8 {
        app.add_customer("Many", &format!("P{n}"), &format!("p{n}@x.example"), "X")
            .await;
    }
    let list = app.get("/people/customers?q=x.example").await;
    crate::helpers::ListForm::from_page(&list)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
    let job = crate::bulk_deletion::confirm_and_submit(&app).await;
    let page = app.get(&format!("/people/customers/deletions/{job}")).await;
    page.assert_contains("Deleting 8 customers")
        .assert_contains("Started <time");
    moments(&app, &format!("/people/customers/deletions/{job}"), 1).await;
}

/// With JavaScript, every moment is rewritten in the browser's time zone (Auckland here, 12
/// hours ahead of UTC in June): relative within a week, the date otherwise, never "UTC", the
/// absolute date and time as its title.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_shows_moments_in_its_own_time_zone() {
    let Some(chrome) = chrome_in_time_zone("Pacific/Auckland").await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await;
    let ada = app.add_customer_with("Ada", "Lovelace", SOME).await;
    app.set_created(ada, customer_desk::db::now() - TimeDelta::days(3))
        .await;
    let old = app.add_customer("Old", "Timer", "old@x.example", "X").await;
    // 30 June 23:30 UTC is 1 July 11:30 in Auckland.
    let june = chrono::NaiveDate::from_ymd_opt(2025, 6, 30)
        .unwrap()
        .and_hms_opt(23, 30, 0)
        .unwrap();
    app.set_created(old, june).await;
    sign_in(&chrome, &app.address, ADMIN_EMAIL, crate::helpers::PASSWORD).await;
    let read = "return Array.from(document.querySelectorAll('main time')).map(t => [t.textContent, t.title, t.dataset.localised || ''])";
    for path in [
        format!("/people/customers/{ada}"),
        format!("/people/customers/{old}"),
        "/people/customers".to_owned(),
    ] {
        chrome
            .client
            .goto(&format!("{}{path}", app.address))
            .await
            .unwrap();
        chrome
            .wait_for(
                "localised times",
                "return Array.from(document.querySelectorAll('main time')).every(t => t.dataset.localised)",
            )
            .await;
        let times = chrome.js(read).await;
        let times = times.as_array().unwrap();
        assert!(!times.is_empty(), "{path}");
        for time in times {
            let (text, title) = (time[0].as_str().unwrap(), time[1].as_str().unwrap());
            assert!(!text.contains("UTC"), "{path}: {text}");
            assert!(!title.is_empty(), "{path}: a title on hover for {text}");
        }
        let texts: Vec<&str> = times.iter().map(|t| t[0].as_str().unwrap()).collect();
        if path == "/people/customers" {
            assert!(texts.contains(&"3 days ago"), "{texts:?}");
            // Older than a week: the day, in Auckland.
            assert!(texts.contains(&"Jul 1, 2025"), "{texts:?}");
        } else if path.ends_with(&old.to_string()) {
            assert!(texts.contains(&"Jul 1, 2025, 11:30 AM"), "{texts:?}");
        } else {
            assert!(texts.contains(&"3 days ago"), "created: {texts:?}");
            assert!(
                texts.contains(&"now"),
                "the ticket, chat and note: {texts:?}"
            );
        }
    }
    chrome.close().await;
}
