//! The realistic shape: rows generated in the application from a seeded random generator and
//! written in batches, with explicit ids so that children point at their parents without
//! reading ids back.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::domain::ticket::TicketStatus;

use super::words::{
    COMPANY_KINDS, COMPANY_NAMES, FIRST_NAMES, JOB_TITLES, LAST_NAMES, SENTENCES, SUBJECTS,
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

/// The next free id of each table: after every id the table has ever handed out, not only
/// after the rows there are now, so that a seed never gives a deleted customer's id to someone
/// new (a bulk confirmation names its customers by their ids).
pub(super) fn next_ids(conn: &mut DbConn) -> QueryResult<NextIds> {
    Ok(NextIds {
        customer: next_id_after(conn, "customers")?,
        ticket: next_id_after(conn, "tickets")?,
        ticket_message: next_id_after(conn, "ticket_messages")?,
        chat: next_id_after(conn, "chat_conversations")?,
        chat_message: next_id_after(conn, "chat_messages")?,
        note: next_id_after(conn, "notes")?,
    })
}

#[derive(QueryableByName)]
struct Highest {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// One more than the highest of the table's ids and of what its id generator has handed out
/// (SQLite's AUTOINCREMENT counter, PostgreSQL's sequence).
pub(super) fn next_id_after(conn: &mut DbConn, table: &str) -> QueryResult<i64> {
    let rows = diesel::sql_query(format!("SELECT COALESCE(MAX(id), 0) AS id FROM {table}"))
        .get_result::<Highest>(conn)?
        .id;
    Ok(highest_issued(conn, table)?.max(rows) + 1)
}

#[derive(QueryableByName)]
struct SequenceName {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// The highest id the table's generator has handed out (0 if none).
pub(super) fn highest_issued(conn: &mut DbConn, table: &str) -> QueryResult<i64> {
    let query = match conn {
        DbConn::Sqlite(_) => format!(
            "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0) AS id"
        ),
        DbConn::Pg(_) => {
            let sequence = diesel::sql_query(format!(
                "SELECT pg_get_serial_sequence('{table}', 'id') AS name"
            ))
            .get_result::<SequenceName>(conn)?
            .name;
            // Before its first nextval (or after setval(…, false)) last_value is the next id.
            format!(
                "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS id \
                 FROM {sequence}"
            )
        }
    };
    Ok(diesel::sql_query(query).get_result::<Highest>(conn)?.id)
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
                status: TicketStatus::ALL[rng.usize(..TicketStatus::ALL.len())].as_str(),
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
