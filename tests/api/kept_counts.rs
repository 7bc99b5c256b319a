//! What goes with each customer is kept on the customer by triggers (what a confirmation reads):
//! the counts follow every write another system could make to tickets, chats and notes (one row
//! or many in one statement, into or out of the trash, moved to another customer, deleted), and
//! the list's ticket column and the confirmation show them.

use chrono::NaiveDateTime;
use customer_desk::schema::{chat_conversations, customers, notes, tickets};
use diesel::prelude::*;

use crate::helpers::{inconsistent_rows, spawn_app, Backend, Related, TestApp};
use crate::on_both_backends;

on_both_backends!(
    kept_counts_follow_every_write_to_related_rows,
    the_list_and_the_confirmation_show_the_kept_counts,
);

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// (tickets, in the trash, chats, notes) as kept on the customer.
async fn kept(app: &TestApp, id: i64) -> (i64, i64, i64, i64) {
    app.db(move |conn| {
        customers::table
            .find(id)
            .select((
                customers::ticket_count,
                customers::trashed_ticket_count,
                customers::chat_count,
                customers::note_count,
            ))
            .first(conn)
            .unwrap()
    })
    .await
}

async fn kept_counts_follow_every_write_to_related_rows(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer("Ada", "Allen", "ada@acme.example", "Acme")
        .await;
    let bob = app
        .add_customer("Bob", "Baker", "bob@acme.example", "Acme")
        .await;
    assert_eq!(kept(&app, ada).await, (0, 0, 0, 0));

    // Several rows in one statement (PostgreSQL counts per statement), one of them trashed.
    let when = at("2026-01-01 00:00:00");
    app.db(move |conn| {
        let at = "'2026-01-01 00:00:00'";
        diesel::sql_query(format!(
            "INSERT INTO tickets (customer_id, subject, status, trashed_at, created_at) VALUES \
             ({ada}, 'Help', 'active', NULL, {at}), ({ada}, 'Help', 'active', {at}, {at}), \
             ({ada}, 'Help', 'active', NULL, {at}), ({bob}, 'Help', 'active', NULL, {at})"
        ))
        .execute(conn)
        .unwrap();
        diesel::sql_query(format!(
            "INSERT INTO chat_conversations (customer_id, started_at) VALUES ({ada}, {at}), ({ada}, {at})"
        ))
        .execute(conn)
        .unwrap();
        diesel::insert_into(notes::table)
            .values((
                notes::customer_id.eq(bob),
                notes::body.eq("Called"),
                notes::created_at.eq(when),
            ))
            .execute(conn)
            .unwrap();
    })
    .await;
    assert_eq!(kept(&app, ada).await, (3, 1, 2, 0));
    assert_eq!(kept(&app, bob).await, (1, 0, 0, 1));

    // Into and out of the trash; a change of status alone changes nothing.
    app.db(move |conn| {
        diesel::update(tickets::table.filter(tickets::customer_id.eq(ada)))
            .set(tickets::trashed_at.eq(Some(when)))
            .execute(conn)
            .unwrap();
        diesel::update(tickets::table.filter(tickets::customer_id.eq(ada)))
            .set(tickets::status.eq("closed"))
            .execute(conn)
            .unwrap();
    })
    .await;
    assert_eq!(kept(&app, ada).await, (3, 3, 2, 0));
    app.db(move |conn| {
        let first: i64 = tickets::table
            .filter(tickets::customer_id.eq(ada))
            .select(tickets::id)
            .order(tickets::id)
            .first(conn)
            .unwrap();
        diesel::update(tickets::table.find(first))
            .set(tickets::trashed_at.eq(None::<NaiveDateTime>))
            .execute(conn)
            .unwrap();
    })
    .await;
    assert_eq!(kept(&app, ada).await, (3, 2, 2, 0));

    // Moved to another customer: a trashed ticket, a chat and the note.
    app.db(move |conn| {
        let trashed: i64 = tickets::table
            .filter(tickets::customer_id.eq(ada))
            .filter(tickets::trashed_at.is_not_null())
            .select(tickets::id)
            .first(conn)
            .unwrap();
        diesel::update(tickets::table.find(trashed))
            .set(tickets::customer_id.eq(bob))
            .execute(conn)
            .unwrap();
        let chat: i64 = chat_conversations::table
            .filter(chat_conversations::customer_id.eq(ada))
            .select(chat_conversations::id)
            .first(conn)
            .unwrap();
        diesel::update(chat_conversations::table.find(chat))
            .set(chat_conversations::customer_id.eq(bob))
            .execute(conn)
            .unwrap();
        diesel::update(notes::table.filter(notes::customer_id.eq(bob)))
            .set(notes::customer_id.eq(ada))
            .execute(conn)
            .unwrap();
    })
    .await;
    assert_eq!(kept(&app, ada).await, (2, 1, 1, 1));
    assert_eq!(kept(&app, bob).await, (2, 1, 1, 0));

    // Deleted, several in one statement.
    app.db(move |conn| {
        diesel::delete(tickets::table.filter(tickets::customer_id.eq(ada)))
            .execute(conn)
            .unwrap();
        diesel::delete(notes::table).execute(conn).unwrap();
    })
    .await;
    assert_eq!(kept(&app, ada).await, (0, 0, 1, 0));
    assert_eq!(kept(&app, bob).await, (2, 1, 1, 0));
    assert_eq!(app.db(inconsistent_rows).await, 0);

    // A customer deleted with everything: the others' counts stay right.
    app.db(move |conn| {
        diesel::delete(customers::table.find(bob))
            .execute(conn)
            .unwrap();
    })
    .await;
    assert_eq!(kept(&app, ada).await, (0, 0, 1, 0));
    assert_eq!(app.db(inconsistent_rows).await, 0);
}

async fn the_list_and_the_confirmation_show_the_kept_counts(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer_with(
            "Ada",
            "Allen",
            Related {
                tickets: 3,
                trashed_tickets: 1,
                chats: 2,
                notes: 1,
                ..Related::default()
            },
        )
        .await;
    // Trashed tickets too, as the column always counted them.
    app.get("/people/customers")
        .await
        .assert_status(200)
        .assert_contains(r#"<td class="num" data-label="Tickets">3</td>"#);
    app.get(&format!("/people/customers/{ada}/delete"))
        .await
        .assert_status(200)
        .assert_contains("3 tickets (1 in the trash), 2 live chat conversations and 1 note");
    // Another system adds a ticket: the list and the next confirmation count it.
    app.give(
        ada,
        Related {
            tickets: 1,
            ..Related::default()
        },
    )
    .await;
    app.get("/people/customers")
        .await
        .assert_contains(r#"<td class="num" data-label="Tickets">4</td>"#);
    app.get(&format!("/people/customers/{ada}/delete"))
        .await
        .assert_contains("4 tickets (1 in the trash), 2 live chat conversations and 1 note");
    assert_eq!(app.db(inconsistent_rows).await, 0);
}
