//! One customer's profile: tickets, chats and notes, each with its exact count.

use chrono::NaiveDateTime;

use crate::domain::ticket::TicketStatus;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::{count_for, find, Customer};
use crate::db::{on_own_connection, DbConn};
use crate::schema::{chat_conversations, chat_messages, notes, ticket_messages, tickets};

/// How many of a customer's tickets, chats and notes a profile shows; the counts are exact.
pub const PROFILE_ITEMS_SHOWN: i64 = 50;

#[derive(Debug, Clone)]
pub struct TicketSummary {
    pub id: i64,
    pub subject: String,
    /// `None` only for a word the product does not know (the database does not allow one).
    pub status: Option<TicketStatus>,
    pub in_trash: bool,
    pub created_at: NaiveDateTime,
    pub messages: i64,
}

#[derive(Debug, Clone)]
pub struct ChatSummary {
    pub id: i64,
    pub started_at: NaiveDateTime,
    pub messages: i64,
}

#[derive(Debug, Clone, Queryable)]
pub struct NoteSummary {
    pub id: i64,
    pub body: String,
    pub created_at: NaiveDateTime,
}

pub struct Profile {
    pub customer: Customer,
    pub ticket_count: i64,
    pub tickets_in_trash: i64,
    pub tickets: Vec<TicketSummary>,
    pub chat_count: i64,
    pub chats: Vec<ChatSummary>,
    pub note_count: i64,
    pub notes: Vec<NoteSummary>,
}

pub fn profile(conn: &mut DbConn, id: i64) -> QueryResult<Option<Profile>> {
    let Some(customer) = find(conn, id)? else {
        return Ok(None);
    };
    // Its nine questions on the backend's own connection, where diesel does not write each
    // one's SQL again on every walk of it (see `on_own_connection`).
    on_own_connection!(conn, |own| {
        let ticket_count = tickets::table
            .filter(tickets::customer_id.eq(id))
            .count()
            .get_result(own)?;
        let tickets_in_trash = tickets::table
            .filter(tickets::customer_id.eq(id))
            .filter(tickets::trashed_at.is_not_null())
            .count()
            .get_result(own)?;
        let ticket_rows: Vec<(i64, String, String, Option<NaiveDateTime>, NaiveDateTime)> =
            tickets::table
                .filter(tickets::customer_id.eq(id))
                .order((tickets::created_at.desc(), tickets::id.desc()))
                .limit(PROFILE_ITEMS_SHOWN)
                .select((
                    tickets::id,
                    tickets::subject,
                    tickets::status,
                    tickets::trashed_at,
                    tickets::created_at,
                ))
                .load(own)?;
        let ticket_ids: Vec<i64> = ticket_rows.iter().map(|t| t.0).collect();
        let message_counts: Vec<(i64, i64)> = ticket_messages::table
            .filter(ticket_messages::ticket_id.eq_any(&ticket_ids))
            .group_by(ticket_messages::ticket_id)
            .select((ticket_messages::ticket_id, count_star()))
            .load(own)?;
        let tickets = ticket_rows
            .into_iter()
            .map(
                |(id, subject, status, trashed_at, created_at)| TicketSummary {
                    id,
                    subject,
                    status: TicketStatus::parse(&status),
                    in_trash: trashed_at.is_some(),
                    created_at,
                    messages: count_for(&message_counts, id),
                },
            )
            .collect();

        let chat_count = chat_conversations::table
            .filter(chat_conversations::customer_id.eq(id))
            .count()
            .get_result(own)?;
        let chat_rows: Vec<(i64, NaiveDateTime)> = chat_conversations::table
            .filter(chat_conversations::customer_id.eq(id))
            .order((
                chat_conversations::started_at.desc(),
                chat_conversations::id.desc(),
            ))
            .limit(PROFILE_ITEMS_SHOWN)
            .select((chat_conversations::id, chat_conversations::started_at))
            .load(own)?;
        let chat_ids: Vec<i64> = chat_rows.iter().map(|c| c.0).collect();
        let chat_message_counts: Vec<(i64, i64)> = chat_messages::table
            .filter(chat_messages::conversation_id.eq_any(&chat_ids))
            .group_by(chat_messages::conversation_id)
            .select((chat_messages::conversation_id, count_star()))
            .load(own)?;
        let chats = chat_rows
            .into_iter()
            .map(|(id, started_at)| ChatSummary {
                id,
                started_at,
                messages: count_for(&chat_message_counts, id),
            })
            .collect();

        let note_count = notes::table
            .filter(notes::customer_id.eq(id))
            .count()
            .get_result(own)?;
        let notes = notes::table
            .filter(notes::customer_id.eq(id))
            .order((notes::created_at.desc(), notes::id.desc()))
            .limit(PROFILE_ITEMS_SHOWN)
            .select((notes::id, notes::body, notes::created_at))
            .load(own)?;

        Ok(Some(Profile {
            customer,
            ticket_count,
            tickets_in_trash,
            tickets,
            chat_count,
            chats,
            note_count,
            notes,
        }))
    })
}
