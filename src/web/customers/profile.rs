//! A customer's profile: details, recent tickets, chats and notes with exact counts.

use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDateTime;

use super::not_found;
use crate::customers::{self, Customer};
use crate::db::DbPool;
use crate::domain::ticket::TicketStatus;
use crate::web::filters;
use crate::web::{parse_customer_id, with_db, AppError, Layout};

struct TicketView {
    subject: String,
    status: &'static str,
    status_label: &'static str,
    in_trash: bool,
    messages: i64,
    created: NaiveDateTime,
}

struct ChatView {
    started: NaiveDateTime,
    messages: i64,
}

struct NoteView {
    body: String,
    created: NaiveDateTime,
}

#[derive(Template, WebTemplate)]
#[template(path = "customers/profile.html")]
pub struct ProfileTemplate {
    layout: Layout,
    customer: Customer,
    ticket_count: i64,
    tickets_in_trash: i64,
    tickets: Vec<TicketView>,
    chat_count: i64,
    chats: Vec<ChatView>,
    note_count: i64,
    notes: Vec<NoteView>,
}

pub async fn profile(
    pool: web::Data<DbPool>,
    layout: Layout,
    id: web::Path<String>,
) -> Result<ProfileTemplate, AppError> {
    let id = parse_customer_id(&id)?;
    let profile = with_db(&pool, move |conn| customers::profile(conn, id))
        .await?
        .ok_or_else(not_found)?;
    Ok(ProfileTemplate {
        layout,
        customer: profile.customer,
        ticket_count: profile.ticket_count,
        tickets_in_trash: profile.tickets_in_trash,
        tickets: profile
            .tickets
            .into_iter()
            .map(|t| TicketView {
                status_label: t.status.map_or("Unknown", TicketStatus::label),
                status: t.status.map_or("unknown", TicketStatus::as_str),
                subject: t.subject,
                in_trash: t.in_trash,
                messages: t.messages,
                created: t.created_at,
            })
            .collect(),
        chat_count: profile.chat_count,
        chats: profile
            .chats
            .into_iter()
            .map(|c| ChatView {
                started: c.started_at,
                messages: c.messages,
            })
            .collect(),
        note_count: profile.note_count,
        notes: profile
            .notes
            .into_iter()
            .map(|n| NoteView {
                body: n.body,
                created: n.created_at,
            })
            .collect(),
    })
}
