//! What goes with each customer is kept on the customer by triggers (what a confirmation reads):
//! the counts follow every write another system could make to tickets, chats and notes (one row
//! or many in one statement, into or out of the trash, moved to another customer, deleted), and
//! the list's ticket column and the confirmation show them.

use chrono::NaiveDateTime;
use customer_desk::schema::{chat_conversations, customers, notes, tickets};
use diesel::prelude::*;

use customer_desk::deletion::{check_kept_counts, recount_kept_counts};

use crate::helpers::{inconsistent_rows, spawn_app, Backend, Related, TestApp};
use crate::on_both_backends;

on_both_backends!(
    kept_counts_follow_every_write_to_related_rows,
    the_list_and_the_confirmation_show_the_kept_counts,
    replace_and_truncate_keep_the_counts,
    a_wrong_kept_count_is_found_fixed_and_never_decides_a_deletion,
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

/// SQLite's REPLACE removes the old row (its delete trigger fires with `recursive_triggers`,
/// which every connection of the app sets); PostgreSQL's TRUNCATE fires its own triggers.
async fn replace_and_truncate_keep_the_counts(backend: Backend) {
    let postgres = matches!(backend, Backend::Postgres(_));
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer_with(
            "Ada",
            "Allen",
            Related {
                tickets: 2,
                chats: 1,
                notes: 2,
                ..Related::default()
            },
        )
        .await;
    let bob = app
        .add_customer_with(
            "Bob",
            "Baker",
            Related {
                notes: 1,
                ..Related::default()
            },
        )
        .await;
    app.db(move |conn| {
        let note: i64 = notes::table
            .filter(notes::customer_id.eq(ada))
            .select(notes::id)
            .first(conn)
            .unwrap();
        let ticket: i64 = tickets::table
            .filter(tickets::customer_id.eq(ada))
            .select(tickets::id)
            .first(conn)
            .unwrap();
        let upsert = if postgres {
            format!(
                "INSERT INTO notes (id, customer_id, body, created_at) \
                 VALUES ({note}, {bob}, 'moved', '2026-01-01 00:00:00') \
                 ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id"
            )
        } else {
            format!(
                "REPLACE INTO notes (id, customer_id, body, created_at) \
                 VALUES ({note}, {bob}, 'moved', '2026-01-01 00:00:00')"
            )
        };
        diesel::sql_query(upsert).execute(conn).unwrap();
        let replace_ticket = if postgres {
            format!(
                "INSERT INTO tickets (id, customer_id, subject, status, trashed_at, created_at) \
                 VALUES ({ticket}, {ada}, 'Again', 'active', '2026-01-01 00:00:00', \
                 '2026-01-01 00:00:00') ON CONFLICT (id) DO UPDATE SET trashed_at = \
                 excluded.trashed_at"
            )
        } else {
            format!(
                "INSERT OR REPLACE INTO tickets (id, customer_id, subject, status, trashed_at, \
                 created_at) VALUES ({ticket}, {ada}, 'Again', 'active', \
                 '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        };
        diesel::sql_query(replace_ticket).execute(conn).unwrap();
    })
    .await;
    assert_eq!(kept(&app, ada).await, (2, 1, 1, 1));
    assert_eq!(kept(&app, bob).await, (0, 0, 0, 2));
    assert_eq!(app.db(inconsistent_rows).await, 0);
    if postgres {
        app.db(|conn| {
            diesel::sql_query("TRUNCATE notes").execute(conn).unwrap();
            diesel::sql_query("TRUNCATE tickets CASCADE")
                .execute(conn)
                .unwrap();
        })
        .await;
        assert_eq!(kept(&app, ada).await, (0, 0, 1, 0));
        assert_eq!(kept(&app, bob).await, (0, 0, 0, 0));
        assert_eq!(app.db(inconsistent_rows).await, 0);
    }
}

/// A writer that bypasses the triggers (a restore without them, say) leaves a kept count wrong:
/// `recount` finds and fixes it, and meanwhile a single deletion still shows and records the
/// rows there are.
async fn a_wrong_kept_count_is_found_fixed_and_never_decides_a_deletion(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer_with(
            "Ada",
            "Allen",
            Related {
                tickets: 2,
                notes: 1,
                ..Related::default()
            },
        )
        .await;
    let bob = app
        .add_customer_with(
            "Bob",
            "Baker",
            Related {
                notes: 1,
                ..Related::default()
            },
        )
        .await;
    app.db(move |conn| {
        diesel::update(customers::table.filter(customers::id.eq_any([ada, bob])))
            .set((customers::note_count.eq(5), customers::ticket_count.eq(0)))
            .execute(conn)
            .unwrap();
    })
    .await;
    let found = app.db(|conn| check_kept_counts(conn).unwrap()).await;
    assert_eq!(found.total(), 3, "{found:?}");
    // The single confirmation counts the rows.
    app.get(&format!("/people/customers/{bob}/delete"))
        .await
        .assert_status(200)
        .assert_contains("0 tickets, 0 live chat conversations and 1 note");
    let fixed = app.db(|conn| recount_kept_counts(conn).unwrap()).await;
    assert_eq!(
        fixed.miscounted,
        [
            ("ticket_count", 1),
            ("trashed_ticket_count", 0),
            ("chat_count", 0),
            ("note_count", 2)
        ]
    );
    assert_eq!(kept(&app, ada).await, (2, 0, 0, 1));
    assert_eq!(app.db(inconsistent_rows).await, 0);
    let again = app.db(|conn| check_kept_counts(conn).unwrap()).await;
    assert_eq!(again.total(), 0);
}
