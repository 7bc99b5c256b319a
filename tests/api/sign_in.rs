//! Sign-in without a server-side trace for anonymous visitors: no session before a successful
//! sign-in, the sign-in form's own CSRF protection, device cookies against lockouts, and
//! credentials that never reach the database.

use customer_desk::accounts::Role;
use customer_desk::schema::{login_throttle, sessions};
use diesel::prelude::*;

use crate::helpers::{spawn_app, Backend, Browser, Page, TestApp, ADMIN_EMAIL, PASSWORD};
use crate::on_both_backends;

on_both_backends!(
    anonymous_visitors_store_nothing,
    sign_in_form_needs_its_cookie_and_this_site,
    lockout_spares_the_browser_that_signed_in_before,
    control_characters_in_credentials_are_refused_without_the_database,
);

pub const AGENT_EMAIL: &str = "alan.agent@desk.example";

pub async fn session_rows(app: &TestApp) -> i64 {
    app.db(|conn| sessions::table.count().get_result(conn).unwrap())
        .await
}

pub async fn throttle_rows(app: &TestApp) -> i64 {
    app.db(|conn| login_throttle::table.count().get_result(conn).unwrap())
        .await
}

/// Shows the sign-in form (taking its token and cookie), then submits it.
pub async fn try_sign_in(browser: &Browser, email: &str, password: &str) -> Page {
    browser.forget_csrf();
    browser.get("/login").await.assert_status(200);
    browser
        .post_form("/login", &[("email", email), ("password", password)])
        .await
}

async fn anonymous_visitors_store_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_account("Alan Agent", AGENT_EMAIL, Role::Agent)
        .await;
    let sessions_before = session_rows(&app).await;
    for _ in 0..50 {
        let anonymous = Browser::new(&app.address);
        anonymous.get("/login").await.assert_status(200);
        anonymous
            .get("/people/customers")
            .await
            .assert_sign_in_redirect();
        anonymous
            .get("/login?signed_out=1")
            .await
            .assert_status(200);
        anonymous.get("/nope").await.assert_sign_in_redirect();
        anonymous.get("/healthz").await.assert_status(200);
    }
    // Failed sign-ins store no session either, and unknown emails not even a throttle row.
    let anonymous = Browser::new(&app.address);
    for n in 0..5 {
        try_sign_in(&anonymous, &format!("nobody{n}@desk.example"), PASSWORD)
            .await
            .assert_status(401);
    }
    assert_eq!(throttle_rows(&app).await, 0);
    try_sign_in(&anonymous, AGENT_EMAIL, "wrong password")
        .await
        .assert_status(401);
    anonymous.post_form_as_is("/logout", &[]).await;
    assert_eq!(session_rows(&app).await, sessions_before);

    // A successful sign-in stores exactly one.
    let browser = Browser::new(&app.address);
    try_sign_in(&browser, AGENT_EMAIL, PASSWORD)
        .await
        .assert_status(303);
    assert_eq!(session_rows(&app).await, sessions_before + 1);
    browser.get("/people/customers").await.assert_status(200);
    assert_eq!(session_rows(&app).await, sessions_before + 1);
}

async fn post_login(
    app: &TestApp,
    browser: &Browser,
    token: &str,
    headers: &[(&str, &str)],
) -> u16 {
    let mut request = browser
        .client
        .post(app.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([
                ("email", ADMIN_EMAIL),
                ("password", PASSWORD),
                ("csrf_token", token),
            ])
            .unwrap(),
        );
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn sign_in_form_needs_its_cookie_and_this_site(backend: Backend) {
    let app = spawn_app(backend).await;
    let sessions_before = session_rows(&app).await;
    let browser = Browser::new(&app.address);
    let token = browser.csrf_token().await;
    let host = app.address.trim_start_matches("http://").to_owned();

    // The form's token without the cookie it came with.
    let cookieless = Browser::new(&app.address);
    assert_eq!(post_login(&app, &cookieless, &token, &[]).await, 403);
    // The cookie with another token.
    let forged = "0".repeat(64);
    assert_eq!(post_login(&app, &browser, &forged, &[]).await, 403);
    assert_eq!(post_login(&app, &browser, "", &[]).await, 403);
    // Both right, but sent from another site.
    let cross_site = [("Sec-Fetch-Site", "cross-site")];
    assert_eq!(post_login(&app, &browser, &token, &cross_site).await, 403);
    let foreign = [("Origin", "http://evil.example")];
    assert_eq!(post_login(&app, &browser, &token, &foreign).await, 403);
    let opaque = [("Origin", "null")];
    assert_eq!(post_login(&app, &browser, &token, &opaque).await, 403);
    assert_eq!(session_rows(&app).await, sessions_before);
    assert_eq!(browser.session_cookie(), None);

    // From this site, it works.
    let origin = format!("http://{host}");
    let same_site = [
        ("Sec-Fetch-Site", "same-origin"),
        ("Origin", origin.as_str()),
    ];
    assert_eq!(post_login(&app, &browser, &token, &same_site).await, 303);
    assert_eq!(session_rows(&app).await, sessions_before + 1);
    browser.forget_csrf();
    browser.get("/people/customers").await.assert_status(200);
}

async fn lockout_spares_the_browser_that_signed_in_before(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_account("Alan Agent", AGENT_EMAIL, Role::Agent)
        .await;
    // The real agent's browser signs in once, then signs out.
    let own = app.sign_in(AGENT_EMAIL, PASSWORD).await;
    own.post_form("/logout", &[]).await.assert_status(303);

    // Someone else fails five times: the sixth attempt is refused without a check.
    let attacker = Browser::new(&app.address);
    for _ in 0..5 {
        try_sign_in(&attacker, AGENT_EMAIL, "guess")
            .await
            .assert_status(401);
    }
    let refused = try_sign_in(&attacker, AGENT_EMAIL, "guess").await;
    refused.assert_status(429);
    assert!(refused.headers.contains_key("retry-after"));
    // A browser the agent never used is locked out too, even with the right password.
    try_sign_in(&Browser::new(&app.address), AGENT_EMAIL, PASSWORD)
        .await
        .assert_status(429)
        .assert_contains("Too many failed sign-ins");
    // The agent's own browser is not.
    try_sign_in(&own, AGENT_EMAIL, PASSWORD)
        .await
        .assert_status(303);
    own.forget_csrf();
    own.get("/people/customers").await.assert_status(200);

    // A device cookie for another account gives no allowance of its own.
    let admin_browser = app.sign_in(ADMIN_EMAIL, PASSWORD).await;
    try_sign_in(&admin_browser, AGENT_EMAIL, PASSWORD)
        .await
        .assert_status(429);
}

async fn control_characters_in_credentials_are_refused_without_the_database(backend: Backend) {
    let app = spawn_app(backend).await;
    let browser = Browser::new(&app.address);
    let long_email = format!("{}@desk.example", "a".repeat(250));
    let long_password = "p".repeat(1025);
    // NUL and other control characters never reach a handler: the input check answers 400.
    for (email, password) in [
        ("a\0b", "x"),
        ("ada\0@desk.example", PASSWORD),
        (ADMIN_EMAIL, "pass\0word"),
    ] {
        try_sign_in(&browser, email, password)
            .await
            .assert_status(400);
    }
    // What the input check lets through (line breaks, lengths) the sign-in refuses itself.
    for (email, password) in [
        ("line\nbreak@desk.example", PASSWORD),
        (long_email.as_str(), PASSWORD),
        (ADMIN_EMAIL, long_password.as_str()),
    ] {
        try_sign_in(&browser, email, password)
            .await
            .assert_status(401)
            .assert_contains("That email and password don&#39;t match an account.");
    }
    assert_eq!(throttle_rows(&app).await, 0);
}
