//! Bad input gets a clear 4xx page or a sane fallback, never a 5xx, and changes nothing.

use crate::helpers::{spawn_app, Backend, Related};
use crate::on_both_backends;

on_both_backends!(
    malformed_and_unknown_ids,
    odd_list_parameters_fall_back,
    bad_forms_are_refused_and_change_nothing,
    typed_markup_is_escaped_everywhere,
);

async fn malformed_and_unknown_ids(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer_with(
            "Ada",
            "Lovelace",
            Related {
                tickets: 1,
                notes: 1,
                ..Default::default()
            },
        )
        .await;
    let before = app.row_counts().await;

    for path in [
        "/people/customers/abc",
        "/people/customers/abc/edit",
        "/people/customers/-1/delete",
        "/people/customers/1.5",
    ] {
        app.get(path)
            .await
            .assert_status(400)
            .assert_contains("is not a customer id")
            .assert_contains("<html");
    }
    for path in [
        "/people/customers/1234567890123456789012345",
        "/people/customers/0",
        "/people/customers/424242",
        "/people/customers/424242/edit",
        "/people/customers/424242/delete",
        "/people/nothing-here",
    ] {
        app.get(path)
            .await
            .assert_status(404)
            .assert_contains("<html");
    }
    let form = [
        ("tickets", "1"),
        ("tickets_in_trash", "0"),
        ("chats", "0"),
        ("notes", "1"),
    ];
    app.post_form("/people/customers/abc/delete", &form)
        .await
        .assert_status(400);
    app.post_form("/people/customers/1234567890123456789012345/delete", &form)
        .await
        .assert_status(404);
    // A method the route does not take: a readable page too.
    let token = app.admin.csrf_token().await;
    let wrong_method = app
        .admin
        .client
        .delete(app.url(&format!("/people/customers/{ada}")))
        .header("X-CSRF-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status().as_u16(), 405);
    assert!(wrong_method.text().await.unwrap().contains("<html"));
    assert_eq!(app.row_counts().await, before);
}

async fn odd_list_parameters_fall_back(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_customer("Ada", "Lovelace", "ada@example.com", "")
        .await;
    let long_q = format!("/people/customers?q={}", "a".repeat(10_000));
    for path in [
        "/people/customers?page=0",
        "/people/customers?page=abc",
        "/people/customers?page=-3",
        "/people/customers?page=99999999999999999999999999",
        "/people/customers?per_page=100000",
        "/people/customers?per_page=0&sort=zzz",
        "/people/customers?q=%25_%27%22",
        "/people/customers?q=O%27Brien+%26+Sons%2C+%3C%3E%3F%23%5C%2F",
        "/people/customers?q=%",
        "/people/customers?page=1&page=2&q=a&q=b",
        long_q.as_str(),
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
    }
    app.get("/people/customers?page=abc&per_page=100000")
        .await
        .assert_contains("1–1 of 1");
    // Text no field can hold (once bytes the decoders would replace with U+FFFD, or let through
    // to PostgreSQL, which cannot store NUL) is refused with the readable page.
    for path in [
        "/people/customers?per_page=0&sort=%00",
        "/people/customers?q=%00",
        "/people/customers?q=a%01b",
        "/people/customers?q=%7F",
        "/people/customers?q=%FF%FE%FD",
        "/people/customers/1?x=%C3",
    ] {
        app.get(path)
            .await
            .assert_status(400)
            .assert_contains("Nothing was changed.")
            .assert_contains("<html");
    }
}

async fn bad_forms_are_refused_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer_with(
            "Ada",
            "Lovelace",
            Related {
                tickets: 2,
                chats: 1,
                notes: 1,
                ..Default::default()
            },
        )
        .await;
    let before = app.row_counts().await;

    // Missing or malformed confirmation fields.
    app.post_form(&format!("/people/customers/{ada}/delete"), &[])
        .await
        .assert_status(400)
        .assert_contains("Nothing was changed.");
    app.post_form(
        &format!("/people/customers/{ada}/delete"),
        &[
            ("tickets", "two"),
            ("tickets_in_trash", "0"),
            ("chats", "1"),
            ("notes", "1"),
        ],
    )
    .await
    .assert_status(400);
    // Not a web form at all.
    app.post_raw(
        &format!("/people/customers/{ada}/edit"),
        "application/json",
        b"{}".to_vec(),
    )
    .await
    .assert_status(400);
    // Too large.
    let huge = format!("first_name={}", "a".repeat(200_000)).into_bytes();
    app.post_raw(
        "/people/customers/new",
        "application/x-www-form-urlencoded",
        huge,
    )
    .await
    .assert_status(413)
    .assert_contains("too much");
    // Invalid UTF-8 in a form is refused before anything reads it (it used to be stored as
    // U+FFFD).
    app.post_raw(
        "/people/customers/new",
        "application/x-www-form-urlencoded",
        b"first_name=%FF&last_name=&email=x".to_vec(),
    )
    .await
    .assert_status(400);
    assert_eq!(app.row_counts().await, before);
    assert!(app.deletion_records().await.is_empty());
}

async fn typed_markup_is_escaped_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let evil = "<script>alert(1)</script>";
    let id = app
        .add_customer(
            evil,
            "Smith",
            "evil@example.com",
            "<img src=x onerror=alert(1)>",
        )
        .await;
    for path in [
        "/people/customers".to_owned(),
        format!("/people/customers/{id}"),
        format!("/people/customers/{id}/edit"),
        format!("/people/customers/{id}/delete"),
    ] {
        let page = app.get(&path).await;
        page.assert_status(200)
            .assert_lacks(evil)
            .assert_lacks("<img src=x")
            .assert_contains("&#60;script&#62;alert(1)&#60;/script&#62;");
    }
}
