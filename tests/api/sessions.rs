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
    a_session_in_use_is_extended_without_a_write_per_page,
    the_store_decides_on_the_expiry_its_load_read,
    a_session_gone_meanwhile_is_never_saved_again,
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

/// Each page moves the session's expiry to eight hours from now, but writes it only when it
/// would move by more than a minute (decided on the expiry the session's load read).
async fn a_session_in_use_is_extended_without_a_write_per_page(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/people/customers").await.assert_status(200);
    let expiry = || {
        app.db(|conn| {
            sessions::table
                .select(sessions::expires_at)
                .first::<chrono::NaiveDateTime>(conn)
                .unwrap()
        })
    };
    let set_expiry = |at: chrono::NaiveDateTime| {
        app.db(move |conn| {
            diesel::update(sessions::table)
                .set(sessions::expires_at.eq(at))
                .execute(conn)
                .unwrap()
        })
    };
    let eight_hours = chrono::TimeDelta::hours(8);
    // Thirty seconds short of eight hours: a page changes nothing.
    let recent = customer_desk::db::now() + eight_hours - chrono::TimeDelta::seconds(30);
    set_expiry(recent).await;
    app.get("/people/customers").await.assert_status(200);
    assert_eq!(expiry().await, recent);
    // An hour short: the next page extends it to eight hours from now.
    let older = customer_desk::db::now() + eight_hours - chrono::TimeDelta::hours(1);
    set_expiry(older).await;
    let before_page = customer_desk::db::now();
    app.get("/people/customers").await.assert_status(200);
    let extended = expiry().await;
    assert!(
        extended >= before_page + eight_hours,
        "{extended} after {before_page}"
    );
    assert!(extended <= customer_desk::db::now() + eight_hours);
}

fn session_state() -> std::collections::HashMap<String, String> {
    [("agent_id".to_owned(), "1".to_owned())].into()
}

async fn expiry_of(app: &crate::helpers::TestApp, key: &str) -> Option<chrono::NaiveDateTime> {
    let key = key.to_owned();
    app.db(move |conn| {
        sessions::table
            .filter(sessions::session_key.eq(key))
            .select(sessions::expires_at)
            .first(conn)
            .optional()
            .unwrap()
    })
    .await
}

/// The end of a request decides whether to extend its session on the expiry its load read (one
/// query fewer per page); without a load before, it reads the expiry itself.
async fn the_store_decides_on_the_expiry_its_load_read(backend: Backend) {
    use actix_session::storage::SessionStore;
    use customer_desk::session_store::DbSessionStore;

    let app = spawn_app(backend).await;
    let store = DbSessionStore::new(app.pool.clone(), None);
    let ttl = actix_web::cookie::time::Duration::hours(8);
    let key = store.save(session_state(), &ttl).await.unwrap();
    assert!(store.load(&key).await.unwrap().is_some());
    // Changed behind the store's back after the load: the load's reading decides (fresh).
    let older = customer_desk::db::now() + chrono::TimeDelta::hours(1);
    let key_text = key.as_ref().to_owned();
    app.db(move |conn| {
        diesel::update(sessions::table.filter(sessions::session_key.eq(key_text)))
            .set(sessions::expires_at.eq(older))
            .execute(conn)
            .unwrap()
    })
    .await;
    store.update_ttl(&key, &ttl).await.unwrap();
    assert_eq!(expiry_of(&app, key.as_ref()).await, Some(older));
    // No load before it: the store reads the expiry, finds it an hour short, and extends it.
    store.update_ttl(&key, &ttl).await.unwrap();
    let extended = expiry_of(&app, key.as_ref()).await.unwrap();
    assert!(extended > older + chrono::TimeDelta::hours(6), "{extended}");
}

/// A request that loaded a session before another one ended it (a sign-out in another tab)
/// saves nothing of it at its end: saving its state under a new key would sign the browser in
/// again.
async fn a_session_gone_meanwhile_is_never_saved_again(backend: Backend) {
    use actix_session::storage::SessionStore;
    use customer_desk::session_store::DbSessionStore;

    let app = spawn_app(backend).await;
    let store = DbSessionStore::new(app.pool.clone(), None);
    let ttl = actix_web::cookie::time::Duration::hours(8);
    let key = store.save(session_state(), &ttl).await.unwrap();
    assert!(store.load(&key).await.unwrap().is_some());
    let sessions_before: i64 = app
        .db(|conn| sessions::table.count().get_result(conn).unwrap())
        .await;
    store.delete(&key).await.unwrap();
    let old_key = key.as_ref().to_owned();
    let new_key = store.update(key, session_state(), &ttl).await.unwrap();
    assert_ne!(new_key.as_ref(), old_key);
    assert!(store.load(&new_key).await.unwrap().is_none());
    assert_eq!(expiry_of(&app, new_key.as_ref()).await, None);
    let sessions_after: i64 = app
        .db(|conn| sessions::table.count().get_result(conn).unwrap())
        .await;
    assert_eq!(sessions_after, sessions_before - 1);
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
