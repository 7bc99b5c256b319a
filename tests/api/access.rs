//! Who may do what: sign-in, roles, CSRF, sessions and security headers.

use customer_desk::accounts::Role;
use customer_desk::schema::sessions;
use diesel::prelude::*;

use crate::helpers::{
    spawn_app, Backend, Browser, Related, TestApp, ADMIN_EMAIL, ADMIN_NAME, PASSWORD,
};
use crate::on_both_backends;

on_both_backends!(
    anonymous_visitors_are_sent_to_sign_in_and_change_nothing,
    agents_can_edit_but_never_delete,
    every_state_changing_route_needs_the_csrf_token,
    session_key_is_renewed_at_sign_in,
    sign_out_ends_the_session_on_the_server,
    next_parameter_never_leaves_the_site,
    repeated_failures_are_throttled,
    security_headers_on_every_response,
    deletion_history_shows_who_and_how_much_but_no_personal_data,
    idle_sessions_expire,
    pages_have_no_inline_script,
);

const AGENT_EMAIL: &str = "alan.agent@desk.example";

async fn customer_with_data(app: &TestApp) -> i64 {
    app.add_customer_with(
        "Grace",
        "Hopper",
        Related {
            tickets: 3,
            trashed_tickets: 1,
            messages_per_ticket: 2,
            chats: 1,
            messages_per_chat: 2,
            notes: 1,
        },
    )
    .await
}

fn delete_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("tickets", "3"),
        ("tickets_in_trash", "1"),
        ("chats", "1"),
        ("notes", "1"),
    ]
}

fn customer_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("first_name", "Mallory"),
        ("last_name", "Intruder"),
        ("email", "mallory@evil.example"),
    ]
}

/// Every route that changes something, with a form that would succeed for an administrator.
fn state_changing_routes(id: i64) -> Vec<(String, Vec<(&'static str, &'static str)>)> {
    vec![
        ("/people/customers/new".to_owned(), customer_form()),
        (format!("/people/customers/{id}/edit"), customer_form()),
        (format!("/people/customers/{id}/delete"), delete_form()),
    ]
}

async fn anonymous_visitors_are_sent_to_sign_in_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = customer_with_data(&app).await;
    let before = app.row_counts().await;
    let anonymous = Browser::new(&app.address);

    for path in [
        "/people/customers".to_owned(),
        "/people/customers?q=grace&page=2".to_owned(),
        format!("/people/customers/{id}"),
        format!("/people/customers/{id}/edit"),
        format!("/people/customers/{id}/delete"),
        "/people/customers/new".to_owned(),
        "/people/customers/deletions".to_owned(),
        "/".to_owned(),
    ] {
        let page = anonymous.get(&path).await;
        page.assert_sign_in_redirect();
        let location = page.location.clone().unwrap();
        if path != "/" {
            let expected = serde_urlencoded::to_string([("next", path.as_str())]).unwrap();
            assert_eq!(location, format!("/login?{expected}"));
        }
    }
    // With a valid token from the sign-in page, so that only the missing sign-in refuses it.
    for (path, form) in state_changing_routes(id) {
        anonymous
            .post_form(&path, &form)
            .await
            .assert_sign_in_redirect();
    }
    anonymous.post_form("/logout", &[]).await.assert_status(303);
    assert_eq!(app.row_counts().await, before);
    assert!(app.deletion_records().await.is_empty());

    anonymous.get("/login").await.assert_status(200);
    anonymous.get("/healthz").await.assert_status(200);
    anonymous.get("/static/app.css").await.assert_status(200);
}

async fn agents_can_edit_but_never_delete(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_account("Alan Agent", AGENT_EMAIL, Role::Agent)
        .await;
    let id = customer_with_data(&app).await;
    let agent = app.sign_in(AGENT_EMAIL, PASSWORD).await;

    let list = agent.get("/people/customers").await;
    list.assert_status(200)
        .assert_contains("Alan Agent")
        .assert_contains(">Agent</span>")
        .assert_lacks("Deletion history")
        .assert_lacks("Delete");
    agent
        .get(&format!("/people/customers/{id}/edit"))
        .await
        .assert_status(200)
        .assert_lacks("Delete Customer")
        .assert_lacks("/delete");
    agent
        .get(&format!("/people/customers/{id}"))
        .await
        .assert_status(200)
        .assert_lacks("/delete");

    let before = app.row_counts().await;
    agent
        .get(&format!("/people/customers/{id}/delete"))
        .await
        .assert_status(403);
    agent
        .get_htmx(&format!("/people/customers/{id}/delete"))
        .await
        .assert_status(403);
    // A forged delete with the agent's own valid CSRF token.
    agent
        .post_form(&format!("/people/customers/{id}/delete"), &delete_form())
        .await
        .assert_status(403)
        .assert_contains("Only administrators");
    agent
        .get("/people/customers/deletions")
        .await
        .assert_status(403);
    assert_eq!(app.row_counts().await, before);
    assert!(app.deletion_records().await.is_empty());

    // Agents add and edit.
    agent
        .post_form(
            &format!("/people/customers/{id}/edit"),
            &[
                ("first_name", "Grace"),
                ("last_name", "Hopper"),
                ("email", "grace@navy.example"),
            ],
        )
        .await
        .assert_status(303);
    agent
        .post_form("/people/customers/new", &customer_form())
        .await
        .assert_status(303);
    assert_eq!(app.row_counts().await.customers, before.customers + 1);
}

async fn every_state_changing_route_needs_the_csrf_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = customer_with_data(&app).await;
    let before = app.row_counts().await;

    for (path, form) in state_changing_routes(id) {
        app.admin
            .post_form_as_is(&path, &form)
            .await
            .assert_status(403)
            .assert_contains("nothing was changed");
        let mut forged = form.clone();
        forged.push((
            "csrf_token",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ));
        app.admin
            .post_form_as_is(&path, &forged)
            .await
            .assert_status(403);
        // A token in the header must be right too.
        let response = app
            .admin
            .client
            .post(app.url(&path))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("X-CSRF-Token", "wrong")
            .body(serde_urlencoded::to_string(&form).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 403, "{path}");
    }
    assert_eq!(app.row_counts().await, before);
    app.get(&format!("/people/customers/{id}"))
        .await
        .assert_contains("<h1><bdi>Grace Hopper</bdi></h1>");

    // Signing out without the token does not sign out.
    app.admin
        .post_form_as_is("/logout", &[])
        .await
        .assert_status(403);
    app.get("/people/customers").await.assert_status(200);
    // Nor does signing in work without one.
    let fresh = Browser::new(&app.address);
    fresh.get("/login").await;
    fresh
        .post_form_as_is("/login", &[("email", ADMIN_EMAIL), ("password", PASSWORD)])
        .await
        .assert_status(403);
}

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
    // An unknown email gets the same answer as a wrong password.
    browser
        .post_form(
            "/login",
            &[("email", "nobody@desk.example"), ("password", PASSWORD)],
        )
        .await
        .assert_status(401)
        .assert_contains("That email and password don&#39;t match an account.");
    // Others are not affected.
    app.sign_in(ADMIN_EMAIL, PASSWORD).await;
}

fn assert_security_headers(page: &crate::helpers::Page, what: &str) {
    let header = |name: &str| {
        page.headers
            .get(name)
            .unwrap_or_else(|| panic!("{what}: no {name} header"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let csp = header("content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
    assert_eq!(header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(header("referrer-policy"), "same-origin", "{what}");
}

async fn security_headers_on_every_response(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = customer_with_data(&app).await;
    let anonymous = Browser::new(&app.address);
    let cases = [
        ("list", app.get("/people/customers").await),
        ("profile", app.get(&format!("/people/customers/{id}")).await),
        (
            "confirmation",
            app.get(&format!("/people/customers/{id}/delete")).await,
        ),
        ("400 page", app.get("/people/customers/abc").await),
        ("404 page", app.get("/people/customers/99999").await),
        (
            "403 page",
            app.admin
                .post_form_as_is("/people/customers/new", &[])
                .await,
        ),
        ("static file", app.get("/static/htmx.min.js").await),
        ("sign-in page", anonymous.get("/login").await),
        ("redirect", anonymous.get("/people/customers").await),
        ("health", anonymous.get("/healthz").await),
    ];
    for (what, page) in &cases {
        assert_security_headers(page, what);
    }
}

async fn deletion_history_shows_who_and_how_much_but_no_personal_data(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/people/customers/deletions")
        .await
        .assert_status(200)
        .assert_contains("No deletions yet");
    let id = customer_with_data(&app).await;
    app.post_form(&format!("/people/customers/{id}/delete"), &delete_form())
        .await
        .assert_status(303);
    // The list shows the one-time "Deleted Grace Hopper …" message; the history never names her.
    let list = app.get("/people/customers").await;
    list.assert_contains("Deleted <bdi>Grace Hopper</bdi>")
        .assert_contains(r#"<a href="/people/customers/deletions">Deletion history</a>"#);
    let history = app.get("/people/customers/deletions").await;
    history
        .assert_status(200)
        .assert_contains("1–1 of 1")
        .assert_contains(ADMIN_NAME)
        .assert_contains("<td>Single</td>")
        .assert_contains(r#"<td class="num">3</td>"#)
        .assert_lacks("Grace")
        .assert_lacks("Hopper");
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

async fn pages_have_no_inline_script(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = customer_with_data(&app).await;
    let anonymous = Browser::new(&app.address);
    let pages = [
        app.get("/people/customers").await,
        app.get(&format!("/people/customers/{id}")).await,
        app.get(&format!("/people/customers/{id}/edit")).await,
        app.get(&format!("/people/customers/{id}/delete")).await,
        app.get_htmx(&format!("/people/customers/{id}/delete"))
            .await,
        app.get("/people/customers/new").await,
        app.get("/people/customers/deletions").await,
        anonymous.get("/login").await,
    ];
    for page in &pages {
        for (at, _) in page.body.match_indices("<script") {
            let tag = &page.body[at..at + page.body[at..].find('>').unwrap()];
            assert!(tag.contains(" src=\"/static/"), "inline script: {tag}");
        }
        let lower = page.body.to_lowercase();
        for handler in [
            " onclick=",
            " onload=",
            " onerror=",
            " onsubmit=",
            " onchange=",
            "javascript:",
        ] {
            assert!(!lower.contains(handler), "found {handler}");
        }
        assert!(!page.body.contains("style=\""), "inline style");
    }
}
