//! What operators and careful clients rely on: HEAD wherever GET works, no caching of pages
//! with customer data, a request id on every answer, an honest 503 (with the usual headers and
//! a readable page) when the database cannot be written, a `/healthz` that knows it, and on
//! SQLite a WAL that does not keep growing.

use std::time::Duration;

use crate::helpers::{
    spawn_app, spawn_app_without_sign_in, spawn_signed_in_with_options, Backend, TestApp,
    TestOptions,
};
use crate::on_both_backends;
use customer_desk::db::SqliteOptions;
use customer_desk::maintenance::MaintenanceSettings;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

on_both_backends!(
    head_answers_like_get_without_a_body,
    pages_with_customer_data_are_not_stored,
    every_answer_has_a_request_id,
    healthz_reports_reads_and_the_last_probe_write,
);

async fn head(app: &TestApp, path: &str) -> reqwest::Response {
    app.admin.client.head(app.url(path)).send().await.unwrap()
}

async fn head_answers_like_get_without_a_body(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/healthz", "/static/app.css", "/people/customers", "/login"] {
        let response = head(&app, path).await;
        assert_eq!(response.status().as_u16(), 200, "HEAD {path}");
        let length = response.headers().get("content-length").cloned();
        assert!(response.bytes().await.unwrap().is_empty(), "HEAD {path}");
        // The length is that of the body a GET gets.
        let got = app.admin.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(got.status().as_u16(), 200);
        if let Some(length) = length {
            if path.starts_with("/static") || path == "/healthz" {
                let body = got.bytes().await.unwrap();
                assert_eq!(length.to_str().unwrap(), body.len().to_string(), "{path}");
            }
        }
    }
    // Anonymous HEAD of a page still has to sign in first.
    let anonymous = spawn_app_without_sign_in(Backend::Sqlite, false).await;
    let response = head(&anonymous, "/people/customers").await;
    assert_eq!(response.status().as_u16(), 303);
}

async fn pages_with_customer_data_are_not_stored(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer("Ada", "Lovelace", "ada@example.com", "")
        .await;
    let no_store = |page: &crate::helpers::Page, what: &str| {
        assert_eq!(
            page.headers
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{what}"
        );
    };
    for path in [
        "/people/customers".to_owned(),
        format!("/people/customers/{ada}"),
        format!("/people/customers/{ada}/edit"),
        format!("/people/customers/{ada}/delete"),
        "/people/customers/deletions".to_owned(),
    ] {
        let page = app.get(&path).await;
        page.assert_status(200);
        no_store(&page, &path);
    }
    let fragment = app
        .get_htmx(&format!("/people/customers/{ada}/delete"))
        .await;
    no_store(&fragment, "the confirmation fragment");
    let token = app.admin.csrf_token().await;
    let tick = app
        .admin
        .client
        .post(app.url("/people/customers/selection"))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("page_ids={ada}&ids={ada}&action=tick&tick={ada}"))
        .send()
        .await
        .unwrap();
    assert_eq!(tick.status().as_u16(), 200);
    assert_eq!(tick.headers()["cache-control"], "no-store");
    assert!(tick.text().await.unwrap().contains("1 selected"));
    let confirmation = app.get("/people/customers/selection/delete").await;
    no_store(&confirmation, "the bulk confirmation");
    // Static assets keep their own policy (revalidate with the ETag).
    let css = app.get("/static/app.css").await;
    assert_eq!(css.headers["cache-control"], "no-cache");
}

async fn every_answer_has_a_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut seen = std::collections::HashSet::new();
    for (path, status) in [
        ("/people/customers", 200),
        ("/people/customers/abc", 400),
        ("/people/customers/424242", 404),
        ("/people/customers?q=%00", 400),
        ("/healthz", 200),
        ("/static/app.css", 200),
    ] {
        let page = app.get(path).await;
        page.assert_status(status);
        let id = page
            .headers
            .get("x-request-id")
            .unwrap_or_else(|| panic!("{path} has no X-Request-Id"))
            .to_str()
            .unwrap()
            .to_owned();
        assert!(id.len() >= 16, "{id}");
        assert!(seen.insert(id), "request ids are unique");
    }
}

async fn healthz_reports_reads_and_the_last_probe_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.get("/healthz").await;
    page.assert_status(200);
    assert_eq!(page.body, "ok\n");
    // The probe wrote its row (before the first request: at start).
    let probes: i64 = app
        .db(|conn| {
            #[derive(QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            diesel::sql_query("SELECT COUNT(*) AS n FROM health_probe")
                .get_result::<N>(conn)
                .unwrap()
                .n
        })
        .await;
    assert_eq!(probes, 1);
    // /healthz itself writes nothing: anonymous requests cannot make the server write.
    let sessions_before = app.row_counts().await;
    let anonymous = crate::helpers::Browser::new(&app.address);
    for _ in 0..5 {
        anonymous.get("/healthz").await.assert_status(200);
    }
    assert_eq!(app.row_counts().await, sessions_before);
}

/// SQLite only: holding the write lock from another connection is how SQLite fails to write
/// (PostgreSQL has row locks; its failure mode, a lost server, is classified by unit tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_cannot_be_written_is_an_honest_503_and_healthz_knows() {
    let app = spawn_signed_in_with_options(
        Backend::Sqlite,
        TestOptions {
            sqlite: SqliteOptions {
                busy_timeout: Duration::from_millis(200),
                ..Default::default()
            },
            maintenance: MaintenanceSettings {
                every: Duration::from_millis(100),
                ..Default::default()
            },
        },
    )
    .await;
    let ada = app
        .add_customer("Ada", "Lovelace", "ada@example.com", "")
        .await;
    let token = app.admin.csrf_token().await;
    app.get("/healthz").await.assert_status(200);

    let path = app.sqlite_path().unwrap();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut conn = SqliteConnection::establish(&path.to_string_lossy()).unwrap();
        conn.batch_execute("BEGIN EXCLUSIVE").unwrap();
        locked_tx.send(()).unwrap();
        let _ = release_rx.recv();
        conn.batch_execute("COMMIT").unwrap();
    });
    locked_rx.recv().unwrap();

    // A selection tick must write the session: it cannot.
    let answer = app
        .admin
        .client
        .post(app.url("/people/customers/selection"))
        .header("X-CSRF-Token", &token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "page_ids={ada}&ids={ada}&action=save&return_to=%3F"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 503);
    let headers = answer.headers().clone();
    assert_eq!(headers["retry-after"], "5");
    assert!(headers.contains_key("content-security-policy"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-store");
    let id = headers["x-request-id"].to_str().unwrap().to_owned();
    let body = answer.text().await.unwrap();
    assert!(body.contains("<html"), "{body}");
    assert!(body.contains("Temporarily unavailable"), "{body}");
    assert!(
        body.contains(&format!("Reference: <code>{id}</code>")),
        "{body}"
    );

    // /healthz notices within a few probes, and names the failure.
    let mut health = app.get("/healthz").await;
    for _ in 0..50 {
        if health.status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        health = app.get("/healthz").await;
    }
    health.assert_status(503).assert_contains("writes failing");
    assert!(
        health.body.contains("database is locked"),
        "{}",
        health.body
    );

    release_tx.send(()).unwrap();
    holder.join().unwrap();
    let mut health = app.get("/healthz").await;
    for _ in 0..50 {
        if health.status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        health = app.get("/healthz").await;
    }
    health.assert_status(200);
}

/// SQLite only: PostgreSQL has no WAL file of ours to bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_wal_shrinks_back_below_its_bound() {
    const BOUND: u64 = 64 * 1024;
    let app = spawn_signed_in_with_options(
        Backend::Sqlite,
        TestOptions {
            maintenance: MaintenanceSettings {
                every: Duration::from_millis(500),
                wal_bound_bytes: BOUND,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await;
    let mut wal = app.sqlite_path().unwrap().into_os_string();
    wal.push("-wal");
    let wal_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let mut n = 0;
    while wal_size() <= BOUND {
        n += 1;
        assert!(n < 2_000, "the WAL never grew past {BOUND} bytes");
        app.add_customer("Wal", &format!("Writer{n}"), &format!("w{n}@wal.test"), "")
            .await;
    }
    let mut size = wal_size();
    for _ in 0..50 {
        if size < BOUND {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        size = wal_size();
    }
    assert!(size < BOUND, "the WAL is still {size} bytes");
}
