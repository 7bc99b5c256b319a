//! Metrics and machine logs of the real binary: the metrics address exists only when
//! configured, its route labels are patterns (never ids or query strings), its counters move
//! when a deletion runs; `--log-format json` writes one JSON object per line, with the request
//! id, and no line holds a customer's name or email, even after searching for it.

use std::time::Duration;

use customer_desk::db;

use crate::helpers::{fresh_database, Backend, Browser, TestCounts};
use crate::instances::{
    delete_everyone, free_port, prepare, url_string, wait_until_done, Instance, ADMIN,
};
use crate::on_both_backends;

on_both_backends!(metrics_are_served_apart_only_when_configured_and_count_deletions);

const CUSTOMERS: i64 = 40;

async fn scrape(port: u16) -> String {
    let response = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.unwrap()
}

/// The value of one sample line, `name{labels} value`, if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_are_served_apart_only_when_configured_and_count_deletions(backend: Backend) {
    let (url, _database) = fresh_database(&backend);
    let url_text = url_string(&url);
    prepare(&url_text, CUSTOMERS as u64);
    let pool = db::connect_pool(&url, 1).unwrap();
    let before = TestCounts { pool: pool.clone() }.row_counts();

    // Not configured: nothing listens on a metrics port, and the app itself has no /metrics.
    let metrics_port = free_port();
    {
        let plain = Instance::start(&url_text, &[], &[]).await;
        let browser = plain.sign_in().await;
        browser.get("/metrics").await.assert_status(404);
        assert!(
            reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics"))
                .await
                .is_err(),
            "no metrics address unless configured"
        );
        assert!(!plain.stdout_text().contains("Metrics on"));
    }

    let bind = format!("127.0.0.1:{metrics_port}");
    // A probe (and WAL sample) every second; batches of 10, so that the deletion below is the
    // worker's (one batch would finish in the request).
    let app = Instance::start(
        &url_text,
        &[("HEALTH_PROBE_SECONDS", "1"), ("DELETION_BATCH_SIZE", "10")],
        &["--metrics-bind", &bind],
    )
    .await;
    assert!(app
        .stdout_text()
        .contains(&format!("Metrics on http://{bind}/metrics")));
    let exposed_warning = "served without sign-in on an address other machines may reach";
    assert!(!app.stderr_text().contains(exposed_warning));
    {
        // On every interface: said at start.
        let open_port = free_port();
        let open = Instance::start(
            &url_text,
            &[],
            &["--metrics-bind", &format!("0.0.0.0:{open_port}")],
        )
        .await;
        let logs = open.stdout_text() + &open.stderr_text();
        assert!(logs.contains(exposed_warning), "{logs}");
    }
    let browser = app.sign_in().await;
    browser.get("/metrics").await.assert_status(404);
    // A wrong password, then pages with ids and a search for a name.
    let stranger = Browser::new(&app.base);
    stranger.get("/login").await;
    stranger
        .post_form(
            "/login",
            &[("email", ADMIN), ("password", "not the password")],
        )
        .await
        .assert_status(401);
    for path in [
        "/people/customers/1",
        "/people/customers/2",
        "/people/customers/3/edit",
        "/people/customers?q=Zebedee&sort=name",
        "/people/customers/new",
        "/no/such/page/42",
    ] {
        browser.get(path).await;
    }
    // An invented method is counted as "other", never as a label of its own.
    browser
        .client
        .request(
            reqwest::Method::from_bytes(b"BREW").unwrap(),
            format!("{}/healthz", app.base),
        )
        .send()
        .await
        .unwrap();
    let text = scrape(metrics_port).await;
    assert!(
        text.contains(r#"method="other""#) && !text.contains("BREW"),
        "{text}"
    );
    assert!(
        text.contains(r#"desk_http_requests_total{method="GET",route="/people/customers/{id}",status="200"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/people/customers/{id}/edit""#),
        "{text}"
    );
    assert!(text.contains(r#"route="/people/customers/new""#), "{text}");
    assert!(text.contains(r#"route="unmatched""#), "{text}");
    // Route labels: patterns only, never an id, a query string or an unmatched path.
    for line in text.lines().filter(|l| l.contains("route=\"")) {
        let route = line
            .split("route=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(
            !route.contains('?') && !route.chars().any(|c| c.is_ascii_digit()),
            "{line}"
        );
        assert!(
            !line.contains("Zebedee") && !line.contains("/no/such"),
            "{line}"
        );
    }
    assert_eq!(
        sample(
            &text,
            r#"desk_sign_in_refused_total{reason="wrong_credentials"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(sample(&text, r#"desk_db_pool_connections{state="idle"}"#).is_some());
    // Both instances' sign-ins (one database).
    assert_eq!(sample(&text, "desk_sessions"), Some(2.0), "{text}");
    assert_eq!(
        sample(&text, r#"desk_deletion_jobs{status="queued"}"#),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, r#"desk_customers_deleted_total{kind="bulk"}"#),
        None
    );

    // A bulk deletion moves the deletion counters by exactly what went.
    let job = delete_everyone(&browser, CUSTOMERS).await;
    wait_until_done(&pool, job, Duration::from_secs(60)).await;
    let text = scrape(metrics_port).await;
    for (series, expected) in [
        (
            r#"desk_customers_deleted_total{kind="bulk"}"#,
            before.customers,
        ),
        (
            r#"desk_rows_deleted_total{table="tickets"}"#,
            before.tickets,
        ),
        (
            r#"desk_rows_deleted_total{table="chat_conversations"}"#,
            before.chats,
        ),
        (r#"desk_rows_deleted_total{table="notes"}"#, before.notes),
    ] {
        assert_eq!(
            sample(&text, series),
            Some(expected as f64),
            "{series}: {text}"
        );
    }
    assert!(sample(&text, "desk_deletion_batch_duration_seconds_count").unwrap_or(0.0) >= 1.0);
    // The selection and the bulk confirmation under their own patterns, never a customer's
    // (no single customer was deleted or had a delete confirmation opened here).
    assert!(
        text.contains(r#"route="/people/customers/selection",status="303""#)
            && text.contains(r#"route="/people/customers/selection/delete",status="200""#)
            && !text.contains(r#"route="/people/customers/{id}/delete""#),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"desk_deletion_jobs{status="running"}"#),
        Some(0.0)
    );
    // Sampled by the maintenance thread on SQLite only.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let text = scrape(metrics_port).await;
    assert_eq!(
        sample(&text, "desk_sqlite_wal_bytes").is_some(),
        matches!(backend, Backend::Sqlite),
        "{text}"
    );
    // SQLite's writers' line: the sign-ins' sessions and the worker's batches took turns in it.
    for writer in ["session", "deletion"] {
        for measure in ["wait", "held"] {
            let series = format!(r#"desk_write_turn_{measure}_seconds_count{{writer="{writer}"}}"#);
            let turns = sample(&text, &series);
            match backend {
                Backend::Sqlite => assert!(turns >= Some(1.0), "{series}: {text}"),
                Backend::Postgres(_) => assert_eq!(turns, None, "no line on PostgreSQL: {text}"),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id_and_no_personal_data() {
    let (url, _database) = fresh_database(&Backend::Sqlite);
    let url_text = url_string(&url);
    prepare(&url_text, 5);
    // Debug level: the strictest test of what reaches the log.
    let mut app = Instance::start(
        &url_text,
        &[("LOG_LEVEL", "debug"), ("LOG_FORMAT", "json")],
        &[],
    )
    .await;
    let browser = app.sign_in().await;
    let person = [
        ("first_name", "Zebedee"),
        ("last_name", "Quuxworth"),
        ("email", "zebedee.quuxworth@private.example"),
        ("phone", "+44 20 7946 0999"),
        ("organisation", "Quuxworth Holdings"),
        ("job_title", "Owner"),
    ];
    let saved = browser.post_form("/people/customers/new", &person).await;
    saved.assert_status(303);
    let profile = saved.location.clone().unwrap();
    browser.get(&profile).await.assert_status(200);
    browser
        .get("/people/customers?q=Zebedee+Quuxworth")
        .await
        .assert_status(200)
        .assert_contains("Quuxworth");
    browser
        .get("/people/customers?q=zebedee.quuxworth%40private.example")
        .await;
    // The same email again: refused (422), and a sign-in attempt with an email as a name.
    browser
        .post_form("/people/customers/new", &person)
        .await
        .assert_status(422);
    Browser::new(&app.base)
        .post_form(
            "/login",
            &[
                ("email", "zebedee.quuxworth@private.example"),
                ("password", "x"),
            ],
        )
        .await;
    let status = app.terminate();
    assert!(status.success(), "graceful stop: {status:?}");

    // Logs go to standard output, like the rest of what `serve` says.
    let log = app.stdout_text();
    assert!(app.stderr_text().is_empty(), "{}", app.stderr_text());
    let mut requests = 0;
    for line in log.lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            value.get("level").is_some() && value.get("timestamp").is_some(),
            "{line}"
        );
        let lower = line.to_lowercase();
        for secret in ["zebedee", "quuxworth", "private.example", "7946 0999"] {
            assert!(!lower.contains(secret), "{secret} in the log: {line}");
        }
        if value["message"] == "request" {
            requests += 1;
            let id = value["span"]["request_id"].as_str().unwrap_or_default();
            assert_eq!(id.len(), 36, "a request id in {line}");
            assert!(value["span"]["path"].is_string(), "{line}");
        }
    }
    assert!(requests >= 8, "one line per request: {requests} in\n{log}");
}
