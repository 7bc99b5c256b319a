//! The realistic shape: rows generated in the application from a seeded random generator and
//! written in batches, with explicit ids so that children point at their parents without
//! reading ids back.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::dsl::max;
use diesel::prelude::*;

use super::words::{
    COMPANY_KINDS, COMPANY_NAMES, FIRST_NAMES, JOB_TITLES, LAST_NAMES, SENTENCES, STATUSES,
    SUBJECTS,
};
use crate::db::{write_transaction, DbConn};
use crate::schema::{
    chat_conversations, chat_messages, customers, notes, ticket_messages, tickets,
};

/// Rows per INSERT statement: under SQLite's 32,766 bound parameters for the widest table.
const ROWS_PER_STATEMENT: usize = 2_000;

#[derive(Insertable)]
#[diesel(table_name = customers)]
pub(super) struct CustomerRow {
    id: i64,
    first_name: String,
    last_name: String,
    email: String,
    phone: String,
    organisation: String,
    job_title: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = tickets, treat_none_as_default_value = false)]
pub(super) struct TicketRow {
    id: i64,
    customer_id: i64,
    subject: String,
    status: &'static str,
    trashed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = ticket_messages)]
pub(super) struct TicketMessageRow {
    id: i64,
    ticket_id: i64,
    body: String,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = chat_conversations)]
pub(super) struct ChatRow {
    id: i64,
    customer_id: i64,
    started_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = chat_messages)]
pub(super) struct ChatMessageRow {
    id: i64,
    conversation_id: i64,
    body: String,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = notes)]
pub(super) struct NoteRow {
    id: i64,
    customer_id: i64,
    body: String,
    created_at: NaiveDateTime,
}

/// Next free id of each table: seeded rows carry explicit ids so that children can point at
/// their parents without reading ids back.
pub(super) struct NextIds {
    pub(super) customer: i64,
    pub(super) ticket: i64,
    pub(super) ticket_message: i64,
    pub(super) chat: i64,
    pub(super) chat_message: i64,
    pub(super) note: i64,
}

pub(super) fn next_ids(conn: &mut DbConn) -> QueryResult<NextIds> {
    Ok(NextIds {
        customer: customers::table
            .select(max(customers::id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0)
            + 1,
        ticket: tickets::table
            .select(max(tickets::id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0)
            + 1,
        ticket_message: ticket_messages::table
            .select(max(ticket_messages::id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0)
            + 1,
        chat: chat_conversations::table
            .select(max(chat_conversations::id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0)
            + 1,
        chat_message: chat_messages::table
            .select(max(chat_messages::id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0)
            + 1,
        note: notes::table
            .select(max(notes::id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0)
            + 1,
    })
}

#[derive(Default)]
pub(super) struct Batch {
    pub(super) customers: Vec<CustomerRow>,
    pub(super) tickets: Vec<TicketRow>,
    pub(super) ticket_messages: Vec<TicketMessageRow>,
    pub(super) chats: Vec<ChatRow>,
    pub(super) chat_messages: Vec<ChatMessageRow>,
    pub(super) notes: Vec<NoteRow>,
}

fn pick<'a>(rng: &mut fastrand::Rng, list: &[&'a str]) -> &'a str {
    list[rng.usize(..list.len())]
}

fn sentence_pair(rng: &mut fastrand::Rng) -> String {
    format!("{} {}", pick(rng, SENTENCES), pick(rng, SENTENCES))
}

fn slug(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            ' ' | '-' => Some('-'),
            _ => None,
        })
        .collect()
}

pub(super) fn generate(
    rng: &mut fastrand::Rng,
    ids: &mut NextIds,
    count: usize,
    batch: &mut Batch,
) {
    let epoch = NaiveDate::from_ymd_opt(2023, 1, 1)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .expect("a valid date");
    for _ in 0..count {
        let id = ids.customer;
        ids.customer += 1;
        let first = pick(rng, FIRST_NAMES);
        let last = pick(rng, LAST_NAMES);
        let company = pick(rng, COMPANY_NAMES);
        let kind = pick(rng, COMPANY_KINDS);
        let created = epoch + TimeDelta::seconds(rng.i64(0..3 * 365 * 86_400));
        batch.customers.push(CustomerRow {
            id,
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            email: format!(
                "{}.{}.{id}@{}.example",
                slug(first),
                slug(last),
                slug(company)
            ),
            phone: format!("+1 555 {:04} {:04}", rng.u32(0..10_000), rng.u32(0..10_000)),
            organisation: format!("{company} {kind}"),
            job_title: pick(rng, JOB_TITLES).to_owned(),
            created_at: created,
            updated_at: created,
        });
        for _ in 0..rng.usize(0..=10) {
            let ticket_id = ids.ticket;
            ids.ticket += 1;
            let opened = created + TimeDelta::minutes(rng.i64(1..200_000));
            batch.tickets.push(TicketRow {
                id: ticket_id,
                customer_id: id,
                subject: pick(rng, SUBJECTS).to_owned(),
                status: pick(rng, STATUSES),
                trashed_at: (rng.u8(..10) == 0).then(|| opened + TimeDelta::days(30)),
                created_at: opened,
            });
            for m in 0..rng.i64(1..=5) {
                batch.ticket_messages.push(TicketMessageRow {
                    id: ids.ticket_message,
                    ticket_id,
                    body: sentence_pair(rng),
                    created_at: opened + TimeDelta::hours(m * 3),
                });
                ids.ticket_message += 1;
            }
        }
        for _ in 0..rng.usize(1..=2) {
            let chat_id = ids.chat;
            ids.chat += 1;
            let started = created + TimeDelta::minutes(rng.i64(1..200_000));
            batch.chats.push(ChatRow {
                id: chat_id,
                customer_id: id,
                started_at: started,
            });
            for m in 0..4 {
                batch.chat_messages.push(ChatMessageRow {
                    id: ids.chat_message,
                    conversation_id: chat_id,
                    body: pick(rng, SENTENCES).to_owned(),
                    created_at: started + TimeDelta::minutes(m),
                });
                ids.chat_message += 1;
            }
        }
        batch.notes.push(NoteRow {
            id: ids.note,
            customer_id: id,
            body: format!("Prefers email. {}", pick(rng, SENTENCES)),
            created_at: created + TimeDelta::days(1),
        });
        ids.note += 1;
    }
}

// Multi-row INSERTs are not available through the two-backend `DbConn`, so each statement is
// sent on the concrete connection; the SQL is the same on both.
macro_rules! insert_chunks {
    ($conn:expr, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(ROWS_PER_STATEMENT) {
            match $conn {
                // SQLite runs in-process: one cached single-row statement executed many times
                // beats preparing a new multi-row statement per chunk.
                DbConn::Sqlite(c) => {
                    for row in chunk {
                        diesel::insert_into($table).values(row).execute(c)?;
                    }
                }
                // PostgreSQL is across a socket: multi-row statements save the round trips.
                DbConn::Pg(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?;
                }
            };
        }
    };
}

pub(super) fn write(conn: &mut DbConn, batch: &Batch) -> QueryResult<()> {
    write_transaction(conn, |conn| {
        insert_chunks!(conn, customers::table, batch.customers);
        insert_chunks!(conn, tickets::table, batch.tickets);
        insert_chunks!(conn, ticket_messages::table, batch.ticket_messages);
        insert_chunks!(conn, chat_conversations::table, batch.chats);
        insert_chunks!(conn, chat_messages::table, batch.chat_messages);
        insert_chunks!(conn, notes::table, batch.notes);
        Ok(())
    })
}
