//! The one-time message travels in an encrypted cookie of its own, not in the server-side
//! session: a save and the page that shows its message write no session (on SQLite each such
//! write waited for the one write lock). A forged cookie shows nothing and breaks nothing.

use chrono::NaiveDateTime;
use customer_desk::schema::sessions;
use diesel::prelude::*;

use reqwest::cookie::CookieStore;

use crate::helpers::{flash_of, spawn_app, Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(
    a_save_and_its_message_write_no_session,
    the_message_is_shown_once_and_its_cookie_is_sealed,
    a_message_not_shown_goes_with_the_session
);

/// Every session row as (state, expiry): a session write changes the expiry too.
async fn sessions_now(app: &TestApp) -> Vec<(String, NaiveDateTime)> {
    app.db(|conn| {
        sessions::table
            .select((sessions::state, sessions::expires_at))
            .order(sessions::session_key)
            .load(conn)
            .unwrap()
    })
    .await
}

fn form(first: &str) -> Vec<(&str, &str)> {
    vec![
        ("first_name", first),
        ("last_name", "Lovelace"),
        ("email", "ada@example.com"),
        ("phone", ""),
        ("organisation", "Analytical Engines"),
        ("job_title", ""),
    ]
}

async fn a_save_and_its_message_write_no_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .add_customer("Ada", "Lovelace", "ada@example.com", "Engines")
        .await;
    // The sign-in's own message shown first (a message kept before this version would be
    // taken from the session, and that would be a write).
    app.get("/people/customers").await.assert_status(200);
    let before = sessions_now(&app).await;

    let saved = app
        .post_form(&format!("/people/customers/{id}/edit"), &form("Augusta"))
        .await;
    saved.assert_status(303);
    let shown = app.get(&format!("/people/customers/{id}")).await;
    let (text, _) = flash_of(&shown).expect("the save's message on the next page");
    assert_eq!(text, "Saved Augusta Lovelace.");

    assert_eq!(
        sessions_now(&app).await,
        before,
        "neither the save nor the page showing its message wrote the session"
    );
}

async fn the_message_is_shown_once_and_its_cookie_is_sealed(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .add_customer("Ada", "Lovelace", "ada@example.com", "Engines")
        .await;
    let saved = app
        .post_form(&format!("/people/customers/{id}/edit"), &form("Augusta"))
        .await;
    let set = flash_cookies(&saved);
    assert_eq!(set.len(), 1, "{set:?}");
    let cookie = &set[0];
    assert!(
        !cookie.contains("Augusta"),
        "sealed, not readable: {cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }

    let first = app.get(&format!("/people/customers/{id}")).await;
    assert!(flash_of(&first).is_some(), "shown on the next page");
    let second = app.get(&format!("/people/customers/{id}")).await;
    assert_eq!(flash_of(&second), None, "and only there");

    // A forged or garbled message cookie shows nothing and changes nothing.
    let url = app.url(&format!("/people/customers/{id}"));
    let signed_in = app
        .admin
        .jar
        .cookies(&url.parse().unwrap())
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(signed_in.contains("desk_session="));
    let plain = r#"{"kind":"Success","text":"forged"}"#;
    for value in ["garbage", "%00%01", &"A".repeat(3000), plain] {
        let page = app
            .admin
            .client
            .get(&url)
            .header("cookie", format!("{signed_in}; desk_flash={value}"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status().as_u16(), 200, "{value:.20}");
        let body = page.text().await.unwrap();
        assert!(!body.contains(r#"class="flash"#), "{value:.20}");
    }
}

fn flash_cookies(page: &crate::helpers::Page) -> Vec<String> {
    page.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .filter(|v| v.starts_with("desk_flash="))
        .collect()
}

/// A message set and never shown (the session signed out, or expired) is not shown to whoever
/// uses the browser next.
async fn a_message_not_shown_goes_with_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .add_customer("Ada", "Lovelace", "ada@example.com", "Engines")
        .await;
    app.get("/people/customers").await.assert_status(200);

    // Signed out before the message was shown: the sign-out removes it.
    app.post_form(&format!("/people/customers/{id}/edit"), &form("Augusta"))
        .await
        .assert_status(303);
    let out = app.post_form("/logout", &[]).await;
    out.assert_status(303);
    let removed = flash_cookies(&out);
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert!(removed[0].contains("Max-Age=0"), "{removed:?}");
    let login = app.get("/login").await;
    assert_eq!(flash_of(&login), None);
    assert!(!login.body.contains("Augusta"));

    // The session ended on the server (expired) with the message still in the browser: the
    // next page is the sign-in form, and it does not show the message either.
    let browser = app
        .sign_in(crate::helpers::ADMIN_EMAIL, crate::helpers::PASSWORD)
        .await;
    browser.get("/people/customers").await.assert_status(200);
    let saved = browser
        .post_form(&format!("/people/customers/{id}/edit"), &form("Grace"))
        .await;
    assert_eq!(flash_cookies(&saved).len(), 1);
    app.db(|conn| diesel::delete(sessions::table).execute(conn).unwrap())
        .await;
    let page = browser.get(&format!("/people/customers/{id}")).await;
    page.assert_status(303);
    let login = browser.get("/login").await;
    assert_eq!(flash_of(&login), None, "{}", login.body);
    assert!(!login.body.contains("Saved Grace"));
}
