use crate::helpers::{spawn_app, Backend, Related};
use crate::on_both_backends;

on_both_backends!(profile_shows_details_and_counts);

async fn profile_shows_details_and_counts(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer(
            "Ada",
            "Lovelace",
            "ada@engines.example",
            "Analytical Engines",
        )
        .await;
    app.give(
        ada,
        Related {
            tickets: 7,
            trashed_tickets: 2,
            messages_per_ticket: 2,
            chats: 3,
            messages_per_chat: 4,
            notes: 1,
        },
    )
    .await;

    let page = app.get(&format!("/people/customers/{ada}")).await;
    page.assert_status(200)
        .assert_contains("<h1><bdi>Ada Lovelace</bdi></h1>")
        .assert_contains("ada@engines.example")
        .assert_contains("Analytical Engines")
        .assert_contains(r#"Tickets <span class="count">7</span>"#)
        .assert_contains("(2 in the trash)")
        .assert_contains(r#"Live chat conversations <span class="count">3</span>"#)
        .assert_contains(r#"Notes <span class="count">1</span>"#)
        .assert_contains(&format!(
            r#"href="/people/customers/{ada}/edit">Edit Profile</a>"#
        ));
    assert_eq!(
        page.body
            .matches(r#"<span class="badge trash">In trash</span>"#)
            .count(),
        2
    );
    assert_eq!(page.body.matches("· 4 messages").count(), 3);

    app.get("/people/customers/999999")
        .await
        .assert_status(404)
        .assert_contains("There is no customer with this id");
}
