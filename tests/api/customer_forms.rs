use crate::helpers::{spawn_app, Backend};
use crate::on_both_backends;

on_both_backends!(
    add_customer_saves_and_redirects,
    a_page_that_redirects_keeps_the_flash,
    add_customer_with_errors_comes_back_filled_in,
    edit_saves_changes,
    edit_validates_and_saves_nothing,
    email_is_unique_regardless_of_case,
);

fn form<'a>(first: &'a str, last: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("first_name", first),
        ("last_name", last),
        ("email", email),
        ("phone", "+44 20 7946 0018"),
        ("organisation", "Analytical Engines"),
        ("job_title", "Mathematician"),
    ]
}

async fn add_customer_saves_and_redirects(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/people/customers/new")
        .await
        .assert_status(200)
        .assert_contains(r#"action="/people/customers/new""#)
        .assert_lacks("Delete Customer");

    let saved = app
        .post_form(
            "/people/customers/new",
            &form(" Ada ", "Lovelace", "ada@example.com"),
        )
        .await;
    saved.assert_status(303);
    let location = saved.location.clone().unwrap();
    assert!(location.starts_with("/people/customers/"), "{location}");
    assert_eq!(app.row_counts().await.customers, 1);

    app.get(&location)
        .await
        .assert_contains("Added <bdi>Ada Lovelace</bdi>.")
        .assert_contains("<h1><bdi>Ada Lovelace</bdi></h1>")
        .assert_contains("Mathematician");
    // The flash message shows once.
    app.get(&location)
        .await
        .assert_lacks("Added <bdi>Ada Lovelace</bdi>.");
}

/// The flash is taken when a page shows it, not when a handler reads the layout: the list form's
/// POST, which reads the layout and then redirects, leaves the message for the next page.
async fn a_page_that_redirects_keeps_the_flash(backend: Backend) {
    let app = spawn_app(backend).await;
    let saved = app
        .post_form(
            "/people/customers/new",
            &form("Ada", "Lovelace", "ada@example.com"),
        )
        .await;
    saved.assert_status(303);
    let location = saved.location.clone().unwrap();
    app.post_form(
        "/people/customers/selection",
        &[("action", "save"), ("page_ids", ""), ("return_to", "?")],
    )
    .await
    .assert_status(303);
    app.get(&location)
        .await
        .assert_contains("Added <bdi>Ada Lovelace</bdi>.");
}

async fn add_customer_with_errors_comes_back_filled_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app
        .post_form(
            "/people/customers/new",
            &form("", "Lovelace", "not-an-email"),
        )
        .await;
    page.assert_status(422)
        .assert_contains("Please correct these 2 errors")
        .assert_contains("First name is required.")
        .assert_contains("Enter an email address like name@example.com.")
        .assert_contains(r#"value="Lovelace""#)
        .assert_contains(r#"value="not-an-email""#)
        .assert_contains(r#"aria-invalid="true""#);
    assert_eq!(app.row_counts().await.customers, 0);

    let long = "x".repeat(101);
    app.post_form(
        "/people/customers/new",
        &form(&long, "Lovelace", "a@example.com"),
    )
    .await
    .assert_status(422)
    .assert_contains("First name can be at most 100 characters.");
    assert_eq!(app.row_counts().await.customers, 0);
}

async fn edit_saves_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .add_customer("Ada", "Byron", "ada@example.com", "Old Org")
        .await;
    let edit = app.get(&format!("/people/customers/{id}/edit")).await;
    edit.assert_status(200)
        .assert_contains(r#"value="Byron""#)
        .assert_contains(&format!(r#"href="/people/customers/{id}/delete""#))
        .assert_contains("Delete Customer");

    let saved = app
        .post_form(
            &format!("/people/customers/{id}/edit"),
            &form("Ada", "Lovelace", "ADA@example.com"),
        )
        .await;
    saved.assert_status(303);
    assert_eq!(
        saved.location.as_deref(),
        Some(format!("/people/customers/{id}").as_str())
    );
    app.get(&format!("/people/customers/{id}"))
        .await
        .assert_contains("Saved <bdi>Ada Lovelace</bdi>.")
        .assert_contains("<h1><bdi>Ada Lovelace</bdi></h1>")
        .assert_contains("ADA@example.com")
        .assert_contains("Analytical Engines");
}

async fn edit_validates_and_saves_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .add_customer("Ada", "Lovelace", "ada@example.com", "Engines")
        .await;
    let page = app
        .post_form(
            &format!("/people/customers/{id}/edit"),
            &[
                ("first_name", "Augusta"),
                ("last_name", ""),
                ("email", "ada@"),
                ("phone", "call me"),
            ],
        )
        .await;
    page.assert_status(422)
        .assert_contains("Last name is required.")
        .assert_contains("Enter an email address")
        .assert_contains("Use digits, spaces")
        .assert_contains(r#"value="Augusta""#)
        .assert_contains("Delete Customer");
    let profile = app.get(&format!("/people/customers/{id}")).await;
    profile
        .assert_contains("<h1><bdi>Ada Lovelace</bdi></h1>")
        .assert_contains("ada@example.com");

    app.post_form(
        "/people/customers/424242/edit",
        &form("A", "B", "c@example.com"),
    )
    .await
    .assert_status(404);
}

async fn email_is_unique_regardless_of_case(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_customer("Ada", "Lovelace", "ada@example.com", "")
        .await;
    let alan = app
        .add_customer("Alan", "Turing", "alan@example.com", "")
        .await;

    app.post_form(
        "/people/customers/new",
        &form("Other", "Ada", "ADA@Example.COM"),
    )
    .await
    .assert_status(422)
    .assert_contains("Another customer already has this email address.");
    assert_eq!(app.row_counts().await.customers, 2);

    app.post_form(
        &format!("/people/customers/{alan}/edit"),
        &form("Alan", "Turing", "Ada@example.com"),
    )
    .await
    .assert_status(422)
    .assert_contains("Another customer already has this email address.");
    app.get(&format!("/people/customers/{alan}"))
        .await
        .assert_contains("alan@example.com");

    // Keeping one's own address (in another case) is fine.
    app.post_form(
        &format!("/people/customers/{alan}/edit"),
        &form("Alan", "Turing", "ALAN@example.com"),
    )
    .await
    .assert_status(303);
}
