use crate::helpers::{spawn_app, Backend, Related, RowCounts};
use crate::on_both_backends;

on_both_backends!(
    confirmation_shows_exactly_what_goes,
    deleting_removes_exactly_that_customer_and_its_data,
    second_delete_is_already_deleted_and_changes_nothing,
    changed_data_since_confirmation_deletes_nothing,
    htmx_gets_the_confirmation_as_a_dialog,
);

const ADA: Related = Related {
    tickets: 7,
    trashed_tickets: 2,
    messages_per_ticket: 3,
    chats: 3,
    messages_per_chat: 4,
    notes: 1,
};

const ALAN: Related = Related {
    tickets: 2,
    trashed_tickets: 1,
    messages_per_ticket: 2,
    chats: 1,
    messages_per_chat: 2,
    notes: 2,
};

fn confirmed(
    tickets: &str,
    in_trash: &str,
    chats: &str,
    notes: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("tickets", tickets.to_owned()),
        ("tickets_in_trash", in_trash.to_owned()),
        ("chats", chats.to_owned()),
        ("notes", notes.to_owned()),
    ]
}

fn as_refs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn confirmation_shows_exactly_what_goes(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app.add_customer_with("Ada", "Lovelace", ADA).await;
    let before = app.row_counts().await;

    let page = app.get(&format!("/people/customers/{ada}/delete")).await;
    page.assert_status(200)
        .assert_contains("Delete <bdi>Ada Lovelace</bdi>?")
        .assert_contains("permanent and cannot be undone")
        .assert_contains(
            "7 tickets (2 in the trash), 3 live chat conversations and 1 note will be \
             permanently deleted",
        )
        .assert_contains("Tickets are not moved to the trash.")
        .assert_contains("data-close-dialog autofocus>Cancel</a>")
        .assert_contains("Yes, permanently delete")
        .assert_contains(r#"<html lang="en">"#);
    // Looking deletes nothing.
    assert_eq!(app.row_counts().await, before);
}

async fn deleting_removes_exactly_that_customer_and_its_data(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app.add_customer_with("Ada", "Lovelace", ADA).await;
    let alan = app.add_customer_with("Alan", "Turing", ALAN).await;
    let grace = app.add_customer_with("Grace", "Hopper", ALAN).await;
    let before = app.row_counts().await;
    let ada_rows = app.row_counts_of(ada).await;
    assert_eq!(
        ada_rows,
        RowCounts {
            customers: 1,
            tickets: 7,
            ticket_messages: 21,
            chats: 3,
            chat_messages: 12,
            notes: 1
        }
    );
    let alan_rows = app.row_counts_of(alan).await;
    let grace_rows = app.row_counts_of(grace).await;

    let done = app
        .post_form(
            &format!("/people/customers/{ada}/delete"),
            &as_refs(&confirmed("7", "2", "3", "1")),
        )
        .await;
    done.assert_status(303);
    assert_eq!(done.location.as_deref(), Some("/people/customers"));

    let after = app.row_counts().await;
    assert_eq!(
        after,
        RowCounts {
            customers: before.customers - 1,
            tickets: before.tickets - 7,
            ticket_messages: before.ticket_messages - 21,
            chats: before.chats - 3,
            chat_messages: before.chat_messages - 12,
            notes: before.notes - 1,
        }
    );
    assert_eq!(app.row_counts_of(ada).await, RowCounts::default());
    assert_eq!(app.row_counts_of(alan).await, alan_rows);
    assert_eq!(app.row_counts_of(grace).await, grace_rows);
    assert_eq!(app.inconsistent_rows().await, 0);

    let records = app.deletion_records().await;
    assert_eq!(
        records,
        vec![(
            "single".into(),
            1,
            7,
            3,
            1,
            ada.to_string(),
            crate::helpers::ADMIN_NAME.into()
        )]
    );

    app.get("/people/customers")
        .await
        .assert_contains(
            "Deleted <bdi>Ada Lovelace</bdi> with 7 tickets (2 in the trash), 3 live chat conversations \
             and 1 note.",
        )
        .assert_lacks("Ada Lovelace</bdi></a>")
        .assert_contains("Alan Turing");
    app.get(&format!("/people/customers/{ada}"))
        .await
        .assert_status(404);
}

async fn second_delete_is_already_deleted_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app.add_customer_with("Ada", "Lovelace", ADA).await;
    app.add_customer_with("Alan", "Turing", ALAN).await;
    let form = confirmed("7", "2", "3", "1");
    app.post_form(&format!("/people/customers/{ada}/delete"), &as_refs(&form))
        .await
        .assert_status(303);
    let after_first = app.row_counts().await;

    app.post_form(&format!("/people/customers/{ada}/delete"), &as_refs(&form))
        .await
        .assert_status(404)
        .assert_contains("Already deleted")
        .assert_contains("Nothing else was changed.");
    assert_eq!(app.row_counts().await, after_first);
    assert_eq!(app.deletion_records().await.len(), 1);
    app.get(&format!("/people/customers/{ada}/delete"))
        .await
        .assert_status(404);
}

async fn changed_data_since_confirmation_deletes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app.add_customer_with("Ada", "Lovelace", ADA).await;
    // The confirmation was shown, then a new ticket arrived.
    app.give(
        ada,
        Related {
            tickets: 1,
            messages_per_ticket: 1,
            ..Default::default()
        },
    )
    .await;
    let before = app.row_counts().await;

    let page = app
        .post_form(
            &format!("/people/customers/{ada}/delete"),
            &as_refs(&confirmed("7", "2", "3", "1")),
        )
        .await;
    page.assert_status(409)
        .assert_contains("changed since this confirmation was opened, so nothing was deleted")
        .assert_contains("8 tickets (2 in the trash)")
        .assert_contains(r#"name="tickets" value="8""#);
    assert_eq!(app.row_counts().await, before);
    assert!(app.deletion_records().await.is_empty());

    // Confirming the new numbers deletes.
    app.post_form(
        &format!("/people/customers/{ada}/delete"),
        &as_refs(&confirmed("8", "2", "3", "1")),
    )
    .await
    .assert_status(303);
    assert_eq!(app.row_counts_of(ada).await, RowCounts::default());
}

async fn htmx_gets_the_confirmation_as_a_dialog(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app.add_customer_with("Ada", "Lovelace", ADA).await;
    let fragment = app
        .get_htmx(&format!("/people/customers/{ada}/delete"))
        .await;
    fragment
        .assert_status(200)
        .assert_contains(r#"<dialog class="confirm" data-modal aria-labelledby="confirm-title" aria-describedby="confirm-description">"#)
        .assert_contains("7 tickets (2 in the trash)")
        .assert_lacks("<html");
    let edit = app.get(&format!("/people/customers/{ada}/edit")).await;
    edit.assert_contains(&format!(
        r##"hx-get="/people/customers/{ada}/delete" hx-target="#dialog-slot""##
    ));
}
