//! Who may do what: sign-in, roles, CSRF, sessions and security headers.

use customer_desk::accounts::Role;

use crate::helpers::{
    spawn_app, Backend, Browser, Related, TestApp, ADMIN_EMAIL, ADMIN_NAME, PASSWORD,
};
use crate::on_both_backends;

on_both_backends!(
    anonymous_visitors_are_sent_to_sign_in_and_change_nothing,
    agents_can_edit_but_never_delete,
    an_administrator_made_an_agent_can_delete_nothing_at_once,
    every_state_changing_route_needs_the_csrf_token,
    security_headers_on_every_response,
    deletion_history_shows_who_and_how_much_but_no_personal_data,
    pages_have_no_inline_script,
);

pub(crate) const AGENT_EMAIL: &str = "alan.agent@desk.example";

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

/// Accounts change in another process (the command line): pages that only read may use the
/// account as read up to two seconds ago, but a deletion reads it again.
async fn an_administrator_made_an_agent_can_delete_nothing_at_once(backend: Backend) {
    use customer_desk::schema::agents;
    use diesel::prelude::*;

    let app = spawn_app(backend).await;
    let id = customer_with_data(&app).await;
    let confirmation = app.get(&format!("/people/customers/{id}/delete")).await;
    confirmation
        .assert_status(200)
        .assert_contains("Yes, permanently delete");
    let set_role = |role: &'static str| {
        app.db(move |conn| {
            diesel::update(agents::table.filter(agents::email.eq(ADMIN_EMAIL)))
                .set(agents::role.eq(role))
                .execute(conn)
                .unwrap()
        })
    };
    set_role("agent").await;

    // A deletion reads the account again, right after a page read it.
    let before = app.row_counts().await;
    app.post_form(&format!("/people/customers/{id}/delete"), &delete_form())
        .await
        .assert_status(403)
        .assert_contains("Only administrators");
    assert_eq!(app.row_counts().await, before);
    assert!(app.deletion_records().await.is_empty());

    // Pages that only read: at most two seconds of the old role. Made an administrator again,
    // the account is read by a page; made an agent, the next pages may still show the
    // administrator's (no request that changes anything reads it meanwhile), but not after two
    // seconds.
    set_role("admin").await;
    tokio::time::sleep(customer_desk::accounts::RecentAccounts::FOR).await;
    app.get(&format!("/people/customers/{id}/delete"))
        .await
        .assert_status(200);
    set_role("agent").await;
    tokio::time::sleep(customer_desk::accounts::RecentAccounts::FOR).await;
    app.get(&format!("/people/customers/{id}/delete"))
        .await
        .assert_status(403);
    app.get("/people/customers")
        .await
        .assert_status(200)
        .assert_contains(">Agent</span>");
    assert_eq!(app.row_counts().await, before);
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
