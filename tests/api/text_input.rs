//! Text no field may hold is refused with a 400 before anything reads it; customer data is
//! normalised (NFC), emails cannot hide invisible characters, nothing can carry bidi controls,
//! and names shown inline are isolated with `<bdi>`.

use crate::helpers::{bulk_confirmation_fields, spawn_app, Backend, ListForm};
use crate::on_both_backends;
use customer_desk::schema::customers;
use diesel::prelude::*;

on_both_backends!(
    control_characters_in_forms_are_refused,
    control_characters_in_return_addresses_never_give_500,
    a_nul_token_on_the_bulk_submit_is_a_400,
    emails_cannot_hide_invisible_characters,
    customer_text_is_nfc_and_names_are_isolated,
);

const FORM: &str = "application/x-www-form-urlencoded";

async fn control_characters_in_forms_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer("Ada", "Lovelace", "ada@example.com", "")
        .await;
    let before = app.row_counts().await;
    let valid = "first_name=Grace&last_name=Hopper&email=grace%40example.com";
    for bad in ["%00", "%01", "%1B", "%7F", "%C2%85", "%FF", "%C3", "\u{1}"] {
        for (path, body) in [
            (
                "/people/customers/new".to_owned(),
                format!("{valid}&organisation=Navy{bad}"),
            ),
            (
                format!("/people/customers/{ada}/edit"),
                format!("first_name=Ada{bad}&last_name=Lovelace&email=ada%40example.com"),
            ),
        ] {
            // Sent as htmx sends it (CSRF header and a form body) and as a plain form.
            // Media types are case-insensitive: the form extractor reads this one as a form.
            for content_type in [FORM, "Application/X-WWW-Form-Urlencoded; charset=UTF-8"] {
                app.post_raw(&path, content_type, body.clone().into_bytes())
                    .await
                    .assert_status(400)
                    .assert_contains("Nothing was changed.")
                    .assert_contains("<html");
            }
            let token = app.admin.csrf_token().await;
            app.admin
                .post_raw(
                    &path,
                    FORM,
                    format!("{body}&csrf_token={token}").into_bytes(),
                )
                .await
                .assert_status(400);
        }
    }
    // Tab, CR and LF stay allowed in a body (the form's fields refuse them themselves).
    app.post_raw(
        "/people/customers/new",
        FORM,
        format!("{valid}&organisation=Navy%0D%0A").into_bytes(),
    )
    .await
    .assert_status(303);
    let stored: String = app
        .db(|conn| {
            customers::table
                .filter(customers::last_name.eq("Hopper"))
                .select(customers::organisation)
                .first(conn)
                .unwrap()
        })
        .await;
    assert_eq!(stored, "Navy");
    assert_eq!(app.row_counts().await.customers, before.customers + 1);
    let name: String = app
        .db(move |conn| {
            customers::table
                .find(ada)
                .select(customers::first_name)
                .first(conn)
                .unwrap()
        })
        .await;
    assert_eq!(name, "Ada");

    // Anonymous: a NUL in the sign-in email (a 500 on PostgreSQL before).
    let anonymous = crate::helpers::Browser::new(&app.address);
    let login = anonymous.get("/login").await;
    login.assert_status(200);
    anonymous
        .post_form("/login", &[("email", "a\u{0}b"), ("password", "x")])
        .await
        .assert_status(400)
        .assert_contains("<html");
}

async fn control_characters_in_return_addresses_never_give_500(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer("Ada", "Lovelace", "ada@example.com", "")
        .await;
    let page = app.get("/people/customers").await;
    let mut form = ListForm::from_page(&page);
    form.tick(ada, true);
    for (field, value) in [
        ("return_to", "?\u{1}"),
        ("return_to", "?\u{0}"),
        ("return_to", "?\u{7f}"),
        ("goto", "?\u{0}"),
        ("goto", "?page=2\u{85}"),
    ] {
        let mut fields = form.fields.clone();
        fields.retain(|(k, _)| k != field);
        fields.push((field.into(), value.into()));
        let mut edited = form.clone();
        edited.fields = fields;
        let button = (field == "return_to").then_some(("action", "save"));
        edited
            .submit(&app.admin, button)
            .await
            .assert_status(400)
            .assert_contains("Nothing was changed.");
    }
    // Nothing was saved by those requests.
    app.get("/people/customers")
        .await
        .assert_lacks("<strong>1 selected</strong>");
    // Addresses that are valid text but not a local list address fall back to the list.
    for (field, value) in [
        ("return_to", "?page=2\\x"),
        ("return_to", "//evil.example"),
        ("goto", "?a b"),
        ("goto", "https://evil.example/"),
    ] {
        let mut edited = form.clone();
        edited.fields.retain(|(k, _)| k != field);
        edited.fields.push((field.into(), value.into()));
        let button = (field == "return_to").then_some(("action", "save"));
        let answer = edited.submit(&app.admin, button).await;
        answer.assert_status(303);
        assert_eq!(answer.location.as_deref(), Some("/people/customers"));
    }
    // And a good one still works.
    let answer = form.submit(&app.admin, Some(("goto", "?page=1&q=a"))).await;
    assert_eq!(
        answer.location.as_deref(),
        Some("/people/customers?page=1&q=a")
    );
    // The sign-in page's `next` goes through the same rule.
    let anonymous = crate::helpers::Browser::new(&app.address);
    anonymous
        .get("/login?next=/people/customers%3F%01")
        .await
        .assert_status(400);
}

async fn a_nul_token_on_the_bulk_submit_is_a_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer("Ada", "Lovelace", "ada@example.com", "")
        .await;
    let page = app.get("/people/customers").await;
    let mut form = ListForm::from_page(&page);
    form.tick(ada, true);
    form.submit(&app.admin, None).await.assert_status(303);
    let confirmation = app.get("/people/customers/selection/delete").await;
    confirmation.assert_status(200);
    let mut fields = bulk_confirmation_fields(&confirmation);
    for (k, v) in fields.iter_mut() {
        if k == "token" {
            *v = "\u{0}".into();
        }
    }
    fields.push(("understood".into(), "yes".into()));
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let before = app.row_counts().await;
    app.admin
        .post_form_as_is("/people/customers/selection/delete", &fields)
        .await
        .assert_status(400);
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.job_count().await, 0);
}

async fn emails_cannot_hide_invisible_characters(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_customer("Same", "Person", "same.person@zw.test", "")
        .await;
    let before = app.row_counts().await;
    for email in [
        "same.person\u{200B}@zw.test",
        "same\u{200D}.person@zw.test",
        "\u{FEFF}same.person@zw.test",
        "same.per\u{AD}son@zw.test",
        "same.person@zw\u{2060}.test",
        // Not format characters, but as invisible (the attack review's look-alikes).
        "same.person\u{034F}@zw.test",
        "same.person\u{FE0F}@zw.test",
        "same.person\u{FE00}@zw.test",
        "same.person\u{3164}@zw.test",
        "same.person\u{115F}@zw.test",
        "same.person\u{FFA0}@zw.test",
        "same.person\u{2800}@zw.test",
        "same.person\u{180B}@zw.test",
    ] {
        app.post_form(
            "/people/customers/new",
            &[
                ("first_name", "Same"),
                ("last_name", "Person"),
                ("email", email),
            ],
        )
        .await
        .assert_status(422)
        .assert_contains("Email cannot contain invisible characters");
    }
    for (field, value) in [
        ("first_name", "\u{202E}enilA"),
        ("last_name", "Lo\u{2067}ve"),
        ("organisation", "Acme\u{200F}"),
    ] {
        let mut form = vec![
            ("first_name", "Aline"),
            ("last_name", "Smith"),
            ("email", "aline@example.com"),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        app.post_form("/people/customers/new", &form)
            .await
            .assert_status(422)
            .assert_contains("text-direction control characters");
    }
    assert_eq!(app.row_counts().await, before);
}

async fn customer_text_is_nfc_and_names_are_isolated(backend: Backend) {
    let app = spawn_app(backend).await;
    // "Renée" typed with a combining accent (e + U+0301) is stored composed.
    let added = app
        .post_form(
            "/people/customers/new",
            &[
                ("first_name", "Rene\u{301}e"),
                ("last_name", "Descartes"),
                ("email", "rene\u{301}e@example.com"),
            ],
        )
        .await;
    added.assert_status(303);
    let (id, first, email): (i64, String, String) = app
        .db(|conn| {
            customers::table
                .filter(customers::last_name.eq("Descartes"))
                .select((customers::id, customers::first_name, customers::email))
                .first(conn)
                .unwrap()
        })
        .await;
    assert_eq!(first, "Ren\u{e9}e");
    assert_eq!(email, "ren\u{e9}e@example.com");
    // The flash message, the list, the profile and both confirmations isolate the name.
    app.get(added.location.as_deref().unwrap())
        .await
        .assert_contains("Added <bdi>Ren\u{e9}e Descartes</bdi>.")
        .assert_contains("<h1><bdi>Ren\u{e9}e Descartes</bdi></h1>");
    let list = app.get("/people/customers").await;
    list.assert_contains("<bdi>Ren\u{e9}e Descartes</bdi></a>");
    app.get(&format!("/people/customers/{id}/delete"))
        .await
        .assert_contains("Delete <bdi>Ren\u{e9}e Descartes</bdi>?")
        .assert_contains("<bdi>Ren\u{e9}e Descartes &lt;ren\u{e9}e@example.com&gt;</bdi>");
    let mut form = ListForm::from_page(&list);
    form.tick(id, true);
    form.submit(&app.admin, None).await.assert_status(303);
    app.get("/people/customers/selection/delete")
        .await
        .assert_contains(
            "Customers: <bdi>Ren\u{e9}e Descartes &#60;ren\u{e9}e@example.com&#62;</bdi>.",
        );
}
