//! Arranging data: customers, their related rows, accounts.

use chrono::NaiveDateTime;
use customer_desk::accounts::{self, Role};
use customer_desk::customers;
use customer_desk::db::now;
use customer_desk::db::DbConn;
use customer_desk::domain::customer_form::CustomerForm;
use customer_desk::schema::{
    chat_conversations, chat_messages, customers as customers_table, notes, ticket_messages,
    tickets,
};
use diesel::prelude::*;

use super::{TestApp, PASSWORD};

/// Something to give a customer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Related {
    pub tickets: usize,
    pub trashed_tickets: usize,
    pub messages_per_ticket: usize,
    pub chats: usize,
    pub messages_per_chat: usize,
    pub notes: usize,
}

impl TestApp {
    pub async fn create_account(&self, name: &str, email: &str, role: Role) -> i64 {
        let (name, email) = (name.to_owned(), email.to_owned());
        self.db(move |conn| {
            accounts::create(conn, &name, &email, PASSWORD, role)
                .unwrap()
                .id
        })
        .await
    }

    pub async fn add_customer(&self, first: &str, last: &str, email: &str, org: &str) -> i64 {
        // Through the form's validation, the only way to a ValidCustomer.
        let customer = CustomerForm {
            first_name: first.into(),
            last_name: last.into(),
            email: email.into(),
            organisation: org.into(),
            ..Default::default()
        }
        .validate()
        .unwrap_or_else(|errors| panic!("not a valid customer: {errors:?}"));
        let state = self.state.clone();
        self.db(move |conn| customers::create(conn, &state, &customer).unwrap())
            .await
    }

    /// "Yes, permanently delete" on a customer with no tickets, chats or notes (the counts its
    /// confirmation shows), as the administrator: a 303 back to the list.
    pub async fn delete_customer(&self, id: i64) {
        self.post_form(
            &format!("/people/customers/{id}/delete"),
            &[
                ("tickets", "0"),
                ("tickets_in_trash", "0"),
                ("chats", "0"),
                ("notes", "0"),
            ],
        )
        .await
        .assert_status(303);
    }

    pub async fn add_customer_with(&self, first: &str, last: &str, related: Related) -> i64 {
        let email = format!("{}.{}.{}@example.com", first, last, fastrand::u32(..)).to_lowercase();
        let id = self.add_customer(first, last, &email, "Example Ltd").await;
        self.give(id, related).await;
        id
    }

    /// Inserts tickets (the first `trashed_tickets` of them in the trash), chats and notes.
    pub async fn give(&self, customer: i64, related: Related) {
        self.db(move |conn| insert_related(conn, customer, related))
            .await
    }

    /// Sets a customer's creation time (to make sorting by date deterministic).
    pub async fn set_created(&self, customer: i64, at: NaiveDateTime) {
        self.db(move |conn| {
            diesel::update(customers_table::table.find(customer))
                .set(customers_table::created_at.eq(at))
                .execute(conn)
                .unwrap()
        })
        .await;
    }

    /// Inserts `count` bare customers of one organisation in one statement (fast, for size tests).
    pub async fn add_many_customers(&self, count: i64, organisation: &'static str) {
        self.db(move |conn| {
            diesel::sql_query(format!(
                "INSERT INTO customers (first_name, last_name, email, phone, organisation, \
                 job_title, created_at, updated_at) \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
                 SELECT 'Many', 'Person' || i, '{organisation}' || i || '@many.example', '', \
                 '{organisation}', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM n"
            ))
            .execute(conn)
            .unwrap()
        })
        .await;
    }
}

pub fn insert_related(conn: &mut DbConn, customer: i64, related: Related) {
    let at = now();
    for n in 0..related.tickets {
        let ticket: i64 = diesel::insert_into(tickets::table)
            .values((
                tickets::customer_id.eq(customer),
                tickets::subject.eq(format!("Ticket {n}")),
                tickets::status.eq("active"),
                tickets::trashed_at.eq((n < related.trashed_tickets).then_some(at)),
                tickets::created_at.eq(at),
            ))
            .returning(tickets::id)
            .get_result(conn)
            .unwrap();
        for m in 0..related.messages_per_ticket {
            diesel::insert_into(ticket_messages::table)
                .values((
                    ticket_messages::ticket_id.eq(ticket),
                    ticket_messages::body.eq(format!("Message {m}")),
                    ticket_messages::created_at.eq(at),
                ))
                .execute(conn)
                .unwrap();
        }
    }
    for _ in 0..related.chats {
        let chat: i64 = diesel::insert_into(chat_conversations::table)
            .values((
                chat_conversations::customer_id.eq(customer),
                chat_conversations::started_at.eq(at),
            ))
            .returning(chat_conversations::id)
            .get_result(conn)
            .unwrap();
        for m in 0..related.messages_per_chat {
            diesel::insert_into(chat_messages::table)
                .values((
                    chat_messages::conversation_id.eq(chat),
                    chat_messages::body.eq(format!("Chat message {m}")),
                    chat_messages::created_at.eq(at),
                ))
                .execute(conn)
                .unwrap();
        }
    }
    for n in 0..related.notes {
        diesel::insert_into(notes::table)
            .values((
                notes::customer_id.eq(customer),
                notes::body.eq(format!("Note {n}")),
                notes::created_at.eq(at),
            ))
            .execute(conn)
            .unwrap();
    }
}
