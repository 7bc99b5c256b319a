//! Sessions: a new key at sign-in, sign-out that ends the session on the server, the `next`
//! parameter, the sign-in throttle and idle expiry.

use customer_desk::accounts::Role;
use customer_desk::schema::sessions;
use diesel::prelude::*;

use crate::access::AGENT_EMAIL;
use crate::helpers::{spawn_app, Backend, Browser, ListForm, ADMIN_EMAIL, PASSWORD};
use crate::on_both_backends;

on_both_backends!(
    session_key_is_renewed_at_sign_in,
    sign_out_ends_the_session_on_the_server,
    next_parameter_never_leaves_the_site,
    repeated_failures_are_throttled,
    idle_sessions_expire,
    signing_in_as_someone_else_starts_afresh,
);

async fn session_key_is_renewed_at_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_account("Alan Agent", AGENT_EMAIL, Role::Agent)
        .await;
    // The sign-in page starts no session, so a key to fixate must come from somewhere else: an
    // attacker's own signed-in session, planted in the victim's browser.
    let attacker = app.sign_in(AGENT_EMAIL, PASSWORD).await;
    let before = attacker.session_cookie().expect("a signed-in session");
    let browser = Browser::new(&app.address);
    browser.jar.add_cookie_str(
        &format!("desk_session={before}"),
        &app.address.parse().unwrap(),
    );
    browser.get("/login").await.assert_status(200);
    browser
        .post_form("/login", &[("email", ADMIN_EMAIL), ("password", PASSWORD)])
        .await
        .assert_status(303);
    let after = browser.session_cookie().expect("a signed-in session");
    assert_ne!(before, after, "the session key must change at sign-in");

    // The planted key did not become the administrator's session.
    let fixated = Browser::new(&app.address);
    fixated.jar.add_cookie_str(
        &format!("desk_session={before}"),
        &app.address.parse().unwrap(),
    );
    let page = fixated.get("/people/customers/deletions").await;
    assert_ne!(
        page.status, 200,
        "the planted key must not be an administrator's"
    );
}

async fn sign_out_ends_the_session_on_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    let browser = app.sign_in(ADMIN_EMAIL, PASSWORD).await;
    browser.get("/people/customers").await.assert_status(200);
    let cookie = browser.session_cookie().unwrap();

    let out = browser.post_form("/logout", &[]).await;
    out.assert_status(303);
    assert_eq!(out.location.as_deref(), Some("/login?signed_out=1"));
    browser
        .get("/login?signed_out=1")
        .await
        .assert_contains("You have signed out.");
    browser
        .get("/people/customers")
        .await
        .assert_sign_in_redirect();

    // Replaying the old cookie finds no session.
    let replay = Browser::new(&app.address);
    replay.jar.add_cookie_str(
        &format!("desk_session={cookie}"),
        &app.address.parse().unwrap(),
    );
    replay
        .get("/people/customers")
        .await
        .assert_sign_in_redirect();
    let id = app.add_customer("Keep", "Me", "keep@example.com", "").await;
    let token = browser.csrf_token().await;
    replay
        .post_form_as_is(
            &format!("/people/customers/{id}/delete"),
            &[
                ("tickets", "0"),
                ("tickets_in_trash", "0"),
                ("chats", "0"),
                ("notes", "0"),
                ("csrf_token", &token),
            ],
        )
        .await
        .assert_sign_in_redirect();
    assert_eq!(app.row_counts_of(id).await.customers, 1);
}

async fn next_parameter_never_leaves_the_site(backend: Backend) {
    let app = spawn_app(backend).await;
    for evil in [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "https:/evil.example",
    ] {
        let browser = Browser::new(&app.address);
        let query = serde_urlencoded::to_string([("next", evil)]).unwrap();
        browser
            .get(&format!("/login?{query}"))
            .await
            .assert_status(200)
            .assert_lacks("evil.example");
        let page = browser
            .post_form(
                "/login",
                &[
                    ("email", ADMIN_EMAIL),
                    ("password", PASSWORD),
                    ("next", evil),
                ],
            )
            .await;
        page.assert_status(303);
        assert_eq!(
            page.location.as_deref(),
            Some("/people/customers"),
            "{evil}"
        );
    }
    let browser = Browser::new(&app.address);
    browser
        .get("/login?next=%2Fpeople%2Fcustomers%3Fq%3Dacme")
        .await;
    let page = browser
        .post_form(
            "/login",
            &[
                ("email", ADMIN_EMAIL),
                ("password", PASSWORD),
                ("next", "/people/customers?q=acme"),
            ],
        )
        .await;
    assert_eq!(page.location.as_deref(), Some("/people/customers?q=acme"));
}

async fn repeated_failures_are_throttled(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_account("Alan Agent", AGENT_EMAIL, Role::Agent)
        .await;
    let browser = Browser::new(&app.address);
    browser.get("/login").await;
    for _ in 0..5 {
        browser
            .post_form(
                "/login",
                &[("email", AGENT_EMAIL), ("password", "wrong password")],
            )
            .await
            .assert_status(401)
            .assert_contains("That email and password don&#39;t match an account.")
            .assert_contains(r#"value="alan.agent@desk.example""#);
    }
    // Even the right password is refused now, with a clear message.
    browser
        .post_form(
            "/login",
            &[("email", "ALAN.AGENT@desk.example"), ("password", PASSWORD)],
        )
        .await
        .assert_status(429)
        .assert_contains("Too many failed sign-ins for this email")
        .assert_contains("try again in 15 minutes");
    // An unknown email gets the same answers as a real one: 401, then after five, the same 429
    // (or the throttle would tell which emails have an account).
    for _ in 0..5 {
        browser
            .post_form(
                "/login",
                &[("email", "nobody@desk.example"), ("password", PASSWORD)],
            )
            .await
            .assert_status(401)
            .assert_contains("That email and password don&#39;t match an account.");
    }
    browser
        .post_form(
            "/login",
            &[("email", "Nobody@desk.example"), ("password", PASSWORD)],
        )
        .await
        .assert_status(429)
        .assert_contains("Too many failed sign-ins for this email")
        .assert_contains("try again in 15 minutes");
    // Others are not affected.
    app.sign_in(ADMIN_EMAIL, PASSWORD).await;
}

async fn idle_sessions_expire(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/people/customers").await.assert_status(200);
    let past = customer_desk::db::now() - chrono::TimeDelta::hours(9);
    app.db(move |conn| {
        diesel::update(sessions::table)
            .set(sessions::expires_at.eq(past))
            .execute(conn)
            .unwrap()
    })
    .await;
    app.get("/people/customers").await.assert_sign_in_redirect();
    let purged = app
        .db(|conn| customer_desk::session_store::purge_expired(conn).unwrap())
        .await;
    assert!(purged >= 1);
    let left: i64 = app
        .db(move |conn| {
            sessions::table
                .filter(sessions::expires_at.le(past))
                .count()
                .get_result(conn)
                .unwrap()
        })
        .await;
    assert_eq!(left, 0);
}

/// Signing in to another account from the same browser (without signing out) keeps nothing of
/// the first account's session: not its selection.
async fn signing_in_as_someone_else_starts_afresh(backend: Backend) {
    let app = spawn_app(backend).await;
    for n in 0..2 {
        app.add_customer(
            "Given",
            &format!("Kept{n}"),
            &format!("k{n}@kept.example"),
            "Kept",
        )
        .await;
    }
    let page = app.get("/people/customers").await;
    ListForm::from_page(&page)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
    app.get("/people/customers")
        .await
        .assert_contains("<strong>2 selected</strong>");
    app.create_account("Bea Admin", "bea@desk.example", Role::Admin)
        .await;
    app.admin.get("/login").await;
    app.admin
        .post_form(
            "/login",
            &[("email", "bea@desk.example"), ("password", PASSWORD)],
        )
        .await
        .assert_status(303);
    app.admin.forget_csrf();
    app.get("/people/customers")
        .await
        .assert_status(200)
        .assert_contains("Bea Admin")
        .assert_lacks("2 selected");
}
