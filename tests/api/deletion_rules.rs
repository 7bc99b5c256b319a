//! The deletion module on its own: no HTTP, just the rules against a real database.

use customer_desk::deletion::{self, Actor, DeleteError};
use customer_desk::domain::deletion_counts::DeletionCounts;
use customer_desk::domain::ids::{AgentId, CustomerId};

use crate::helpers::{spawn_app, Backend, Related, RowCounts};
use crate::on_both_backends;

on_both_backends!(
    counts_cover_every_associated_table,
    delete_single_is_all_or_nothing,
);

async fn counts_cover_every_associated_table(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer_with(
            "Ada",
            "Lovelace",
            Related {
                tickets: 4,
                trashed_tickets: 1,
                messages_per_ticket: 1,
                chats: 2,
                messages_per_chat: 1,
                notes: 3,
            },
        )
        .await;
    let alan = app
        .add_customer_with(
            "Alan",
            "Turing",
            Related {
                tickets: 1,
                chats: 1,
                notes: 1,
                ..Default::default()
            },
        )
        .await;
    let counts = app
        .db(move |conn| deletion::counts_for(conn, &[ada, alan]).unwrap())
        .await;
    assert_eq!(
        counts,
        DeletionCounts {
            customers: 2,
            tickets: 5,
            tickets_in_trash: 1,
            chats: 3,
            notes: 4
        }
    );
    let missing = app
        .db(|conn| deletion::preview_single(conn, CustomerId(999_999)))
        .await;
    assert!(matches!(missing, Err(DeleteError::NotFound)));
}

async fn delete_single_is_all_or_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let ada = app
        .add_customer_with(
            "Ada",
            "Lovelace",
            Related {
                tickets: 2,
                messages_per_ticket: 2,
                chats: 1,
                messages_per_chat: 2,
                notes: 1,
                ..Default::default()
            },
        )
        .await;
    let before = app.row_counts().await;

    let stale = DeletionCounts {
        customers: 1,
        tickets: 1,
        ..Default::default()
    };
    let state = app.state.clone();
    let refused = app
        .db(move |conn| {
            deletion::delete_single(conn, &state, CustomerId(ada), Some(stale), &actor())
        })
        .await;
    match refused {
        Err(DeleteError::Changed(preview)) => {
            assert_eq!(preview.customer.full(), "Ada Lovelace");
            assert_eq!(preview.counts.tickets, 2);
        }
        other => panic!("expected Changed, got {other:?}"),
    }
    assert_eq!(app.row_counts().await, before);

    let state = app.state.clone();
    let deleted = app
        .db(move |conn| deletion::delete_single(conn, &state, CustomerId(ada), None, &actor()))
        .await
        .unwrap();
    assert_eq!(deleted.counts.tickets, 2);
    assert_eq!(app.row_counts().await, RowCounts::default());
    let state = app.state.clone();
    let again = app
        .db(move |conn| deletion::delete_single(conn, &state, CustomerId(ada), None, &actor()))
        .await;
    assert!(matches!(again, Err(DeleteError::NotFound)));
    assert_eq!(app.deletion_records().await.len(), 1);
}

fn actor() -> Actor {
    Actor {
        id: Some(AgentId(1)),
        name: "Ada Admin".into(),
    }
}
