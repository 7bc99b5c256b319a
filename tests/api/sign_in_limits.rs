//! Sign-in cannot take the server down: concurrent attempts cannot beat the per-account
//! throttle, a flood is turned away (503) instead of queueing password checks, and one client
//! address gets a limited number of attempts.

use customer_desk::accounts::Role;
use customer_desk::passwords::CheckerSettings;
use tokio::task::JoinSet;

use crate::helpers::{spawn_app, spawn_app_with_settings, Backend, Browser, TestApp, PASSWORD};
use crate::on_both_backends;
use crate::sign_in::{session_rows, AGENT_EMAIL};

on_both_backends!(
    concurrent_wrong_passwords_are_checked_at_most_five_times,
    a_flood_of_sign_ins_is_turned_away_not_queued,
    each_client_address_has_a_limited_allowance,
    a_browser_that_signed_in_before_is_not_kept_out_by_its_address,
    a_held_refusal_has_a_small_body_and_closes_its_connection,
);

struct Answer {
    status: u16,
    retry_after: Option<String>,
}

/// `count` sign-in attempts at once from one browser (its sign-in form's token and cookie).
async fn at_once(
    app: &TestApp,
    browser: &Browser,
    count: usize,
    email: impl Fn(usize) -> String,
    password: &str,
) -> Vec<Answer> {
    let token = browser.csrf_token().await;
    let mut attempts = JoinSet::new();
    for n in 0..count {
        let request = browser
            .client
            .post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                serde_urlencoded::to_string([
                    ("email", email(n).as_str()),
                    ("password", password),
                    ("csrf_token", token.as_str()),
                ])
                .unwrap(),
            );
        attempts.spawn(async move {
            let response = request.send().await.unwrap();
            Answer {
                status: response.status().as_u16(),
                retry_after: response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned()),
            }
        });
    }
    attempts.join_all().await
}

fn count(answers: &[Answer], status: u16) -> usize {
    answers.iter().filter(|a| a.status == status).count()
}

async fn concurrent_wrong_passwords_are_checked_at_most_five_times(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_account("Alan Agent", AGENT_EMAIL, Role::Agent)
        .await;
    let browser = Browser::new(&app.address);
    let answers = at_once(&app, &browser, 30, |_| AGENT_EMAIL.to_owned(), "wrong").await;
    let (checked, refused) = (count(&answers, 401), count(&answers, 429));
    assert_eq!(
        (checked, refused),
        (5, 25),
        "30 wrong passwords at once: {checked} checked (401), {refused} refused (429)"
    );
    assert!(answers
        .iter()
        .filter(|a| a.status == 429)
        .all(|a| a.retry_after.is_some()));
}

async fn a_flood_of_sign_ins_is_turned_away_not_queued(backend: Backend) {
    let app = spawn_app_with_settings(backend, false, |settings| {
        settings.sign_in.checker = CheckerSettings {
            threads: 1,
            queue: 1,
        };
    })
    .await;
    app.create_account("Alan Agent", AGENT_EMAIL, Role::Agent)
        .await;
    let sessions_before = session_rows(&app).await;
    let browser = Browser::new(&app.address);
    let answers = at_once(
        &app,
        &browser,
        30,
        |n| format!("u{n}-{}@flood.example", fastrand::u32(..)),
        "whatever",
    )
    .await;
    let busy = count(&answers, 503);
    assert!(busy > 0, "no attempt was turned away");
    assert_eq!(busy + count(&answers, 401), 30, "only 401 and 503, no 500");
    assert!(answers
        .iter()
        .filter(|a| a.status == 503)
        .all(|a| a.retry_after.as_deref() == Some("1")));
    assert_eq!(session_rows(&app).await, sessions_before);
    // Once the flood is over, sign-in works.
    let page = crate::sign_in::try_sign_in(&browser, AGENT_EMAIL, PASSWORD).await;
    page.assert_status(303);
}

async fn post_from(app: &TestApp, browser: &Browser, forwarded_for: Option<&str>) -> (u16, bool) {
    let token = browser.csrf_token().await;
    let mut request = browser
        .client
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([
                ("email", "nobody@desk.example"),
                ("password", "guess"),
                ("csrf_token", token.as_str()),
            ])
            .unwrap(),
        );
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    let response = request.send().await.unwrap();
    let has_retry_after = response.headers().contains_key("retry-after");
    (response.status().as_u16(), has_retry_after)
}

async fn each_client_address_has_a_limited_allowance(backend: Backend) {
    let limited = |trusted: bool| {
        move |settings: &mut customer_desk::startup::ServerSettings| {
            settings.sign_in.per_minute = 1;
            settings.sign_in.burst = 3;
            if trusted {
                settings.sign_in.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            }
        }
    };
    // Without a trusted proxy, X-Forwarded-For is ignored: 127.0.0.1 has 3 attempts.
    let app = spawn_app_with_settings(backend.clone(), false, limited(false)).await;
    let browser = Browser::new(&app.address);
    for n in 0..3 {
        let forwarded = format!("198.51.100.{n}");
        assert_eq!(post_from(&app, &browser, Some(&forwarded)).await.0, 401);
    }
    // Refused after a wait, so that a flood client's connection makes one attempt a wait.
    let started = std::time::Instant::now();
    assert_eq!(post_from(&app, &browser, None).await, (429, true));
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(
        post_from(&app, &browser, Some("198.51.100.77")).await,
        (429, true)
    );
    browser
        .post_form(
            "/login",
            &[("email", "nobody@desk.example"), ("password", "x")],
        )
        .await
        .assert_status(429)
        .assert_contains("Too many sign-in attempts from your network");

    // Behind a trusted proxy (127.0.0.1), each forwarded client has its own allowance.
    let app = spawn_app_with_settings(backend, false, limited(true)).await;
    let browser = Browser::new(&app.address);
    for _ in 0..3 {
        assert_eq!(post_from(&app, &browser, Some("203.0.113.1")).await.0, 401);
    }
    assert_eq!(
        post_from(&app, &browser, Some("203.0.113.1")).await,
        (429, true)
    );
    // The rightmost hop not a trusted proxy is the client: a spoofed left part changes nothing.
    assert_eq!(
        post_from(&app, &browser, Some("192.0.2.50, 203.0.113.1")).await,
        (429, true)
    );
    assert_eq!(post_from(&app, &browser, Some("203.0.113.2")).await.0, 401);
}

/// A flood from the office's address spends its allowance; the administrator's own browser
/// (which signed in to this account before) still signs in, and only to that account.
async fn a_browser_that_signed_in_before_is_not_kept_out_by_its_address(backend: Backend) {
    let app = spawn_app_with_settings(backend, false, |settings| {
        settings.sign_in.per_minute = 1;
        settings.sign_in.burst = 2;
    })
    .await;
    app.create_account("Ada Admin", "ada@desk.example", Role::Admin)
        .await;
    app.create_account("Alan Agent", AGENT_EMAIL, Role::Agent)
        .await;
    let own = app.sign_in("ada@desk.example", PASSWORD).await;
    sign_out(&own).await;
    // Someone else at the same address uses up what is left, and more.
    let other = Browser::new(&app.address);
    assert_eq!(post_from(&app, &other, None).await.0, 401);
    assert_eq!(post_from(&app, &other, None).await, (429, true));
    other
        .post_form(
            "/login",
            &[("email", "ada@desk.example"), ("password", PASSWORD)],
        )
        .await
        .assert_status(429);
    // The administrator's browser: its device cookie names this account.
    own.forget_csrf();
    own.post_form(
        "/login",
        &[("email", "ada@desk.example"), ("password", PASSWORD)],
    )
    .await
    .assert_status(303);
    sign_out(&own).await;
    // It does not open the door to other accounts.
    own.get("/login").await.assert_status(200);
    own.post_form("/login", &[("email", AGENT_EMAIL), ("password", PASSWORD)])
        .await
        .assert_status(429);
    own.forget_csrf();
    own.post_form(
        "/login",
        &[("email", "nobody@desk.example"), ("password", "x")],
    )
    .await
    .assert_status(429);
    // And the device has the same allowance as an address: signing in in a loop with it is no
    // way around the limit (its two attempts are spent).
    own.get("/login").await.assert_status(200);
    own.post_form(
        "/login",
        &[("email", "ada@desk.example"), ("password", PASSWORD)],
    )
    .await
    .assert_status(429)
    .assert_contains("Too many sign-in attempts from your network");
}

async fn sign_out(browser: &Browser) {
    browser.get("/people/customers").await.assert_status(200);
    browser.post_form("/logout", &[]).await.assert_status(303);
}

/// Over the limit, a sign-in form's refusal waits (a flood client's connection then makes one
/// attempt a wait) and closes its connection; a request with a big body is refused at once,
/// so that no connection holds a big unread body through the wait.
async fn a_held_refusal_has_a_small_body_and_closes_its_connection(backend: Backend) {
    let app = spawn_app_with_settings(backend, false, |settings| {
        settings.sign_in.per_minute = 1;
        settings.sign_in.burst = 1;
        settings.sign_in.refusal_delay = std::time::Duration::from_secs(2);
    })
    .await;
    let browser = Browser::new(&app.address);
    assert_eq!(post_from(&app, &browser, None).await.0, 401);
    let token = browser.csrf_token().await;
    let attempt = |password: String| {
        let body = serde_urlencoded::to_string([
            ("email", "nobody@desk.example"),
            ("password", password.as_str()),
            ("csrf_token", token.as_str()),
        ])
        .unwrap();
        browser
            .client
            .post(app.url("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let started = std::time::Instant::now();
    let small = attempt("guess".into()).await.unwrap();
    assert_eq!(small.status().as_u16(), 429);
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));
    assert_eq!(
        small
            .headers()
            .get("connection")
            .map(|v| v.to_str().unwrap()),
        Some("close")
    );
    let started = std::time::Instant::now();
    let big = attempt("x".repeat(20_000)).await.unwrap();
    assert_eq!(big.status().as_u16(), 429);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "a big body is not held: {:?}",
        started.elapsed()
    );
}
