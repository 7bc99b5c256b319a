//! Checking the database directly: row counts, orphans, deletion records, jobs.

use customer_desk::db::{DbConn, DbPool};
use customer_desk::schema::{
    chat_conversations, chat_messages, customers as customers_table, deletion_records, notes,
    ticket_messages, tickets,
};
use diesel::dsl::{exists, not};
use diesel::prelude::*;

use super::TestApp;

/// Rows in each data table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RowCounts {
    pub customers: i64,
    pub tickets: i64,
    pub ticket_messages: i64,
    pub chats: i64,
    pub chat_messages: i64,
    pub notes: i64,
}

impl TestApp {
    pub async fn row_counts(&self) -> RowCounts {
        self.db(row_counts).await
    }

    /// Rows of one customer in each table (0 customers when it is gone).
    pub async fn row_counts_of(&self, customer: i64) -> RowCounts {
        self.db(move |conn| {
            let ticket_ids = tickets::table
                .filter(tickets::customer_id.eq(customer))
                .select(tickets::id);
            let chat_ids = chat_conversations::table
                .filter(chat_conversations::customer_id.eq(customer))
                .select(chat_conversations::id);
            RowCounts {
                customers: customers_table::table
                    .filter(customers_table::id.eq(customer))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                tickets: tickets::table
                    .filter(tickets::customer_id.eq(customer))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                ticket_messages: ticket_messages::table
                    .filter(ticket_messages::ticket_id.eq_any(ticket_ids))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                chats: chat_conversations::table
                    .filter(chat_conversations::customer_id.eq(customer))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                chat_messages: chat_messages::table
                    .filter(chat_messages::conversation_id.eq_any(chat_ids))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                notes: notes::table
                    .filter(notes::customer_id.eq(customer))
                    .count()
                    .get_result(conn)
                    .unwrap(),
            }
        })
        .await
    }

    /// Child rows whose parent is gone, in every child table, and customers whose kept counts
    /// of tickets, chats or notes are not what there is: must always be zero.
    pub async fn inconsistent_rows(&self) -> i64 {
        self.db(inconsistent_rows).await
    }

    /// (kind, customers, tickets, chats, notes, customer_ids, actor_name) of every deletion
    /// record, oldest first.
    pub async fn deletion_records(&self) -> Vec<(String, i64, i64, i64, i64, String, String)> {
        self.db(|conn| {
            deletion_records::table
                .order(deletion_records::id.asc())
                .select((
                    deletion_records::kind,
                    deletion_records::customers,
                    deletion_records::tickets,
                    deletion_records::chats,
                    deletion_records::notes,
                    deletion_records::customer_ids,
                    deletion_records::actor_name,
                ))
                .load(conn)
                .unwrap()
        })
        .await
    }

    /// A deletion job's status, as it is now ("queued", "running", "done", "stopped").
    pub async fn job_status(&self, job: i64) -> String {
        use customer_desk::schema::deletion_jobs;
        self.db(move |conn| {
            deletion_jobs::table
                .find(job)
                .select(deletion_jobs::status)
                .first(conn)
                .unwrap()
        })
        .await
    }

    /// Waits until a deletion job is done (the app's worker runs it).
    pub async fn wait_for_job(&self, job: i64) {
        use customer_desk::schema::deletion_jobs;
        for _ in 0..400 {
            let status: String = self
                .db(move |conn| {
                    deletion_jobs::table
                        .find(job)
                        .select(deletion_jobs::status)
                        .first(conn)
                        .unwrap()
                })
                .await;
            if status == "done" {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("deletion job {job} did not finish");
    }

    pub async fn job_count(&self) -> i64 {
        use customer_desk::schema::deletion_jobs;
        self.db(|conn| deletion_jobs::table.count().get_result(conn).unwrap())
            .await
    }
}

/// Rows in each data table.
pub fn row_counts(conn: &mut DbConn) -> RowCounts {
    RowCounts {
        customers: customers_table::table.count().get_result(conn).unwrap(),
        tickets: tickets::table.count().get_result(conn).unwrap(),
        ticket_messages: ticket_messages::table.count().get_result(conn).unwrap(),
        chats: chat_conversations::table.count().get_result(conn).unwrap(),
        chat_messages: chat_messages::table.count().get_result(conn).unwrap(),
        notes: notes::table.count().get_result(conn).unwrap(),
    }
}

/// Orphans and miscounted customers: see [`TestApp::inconsistent_rows`].
pub fn inconsistent_rows(conn: &mut DbConn) -> i64 {
    orphans(conn) + miscounted(conn)
}

/// Customers whose kept count of a shown table's rows (or of those in the trash) is wrong.
pub fn miscounted(conn: &mut DbConn) -> i64 {
    customer_desk::deletion::check_kept_counts(conn)
        .unwrap()
        .total()
}

/// Child rows whose parent is gone, in every child table.
pub fn orphans(conn: &mut DbConn) -> i64 {
    let tickets: i64 = tickets::table
        .filter(not(exists(
            customers_table::table.filter(customers_table::id.eq(tickets::customer_id)),
        )))
        .count()
        .get_result(conn)
        .unwrap();
    let ticket_messages: i64 = ticket_messages::table
        .filter(not(exists(
            tickets::table.filter(tickets::id.eq(ticket_messages::ticket_id)),
        )))
        .count()
        .get_result(conn)
        .unwrap();
    let chats: i64 = chat_conversations::table
        .filter(not(exists(customers_table::table.filter(
            customers_table::id.eq(chat_conversations::customer_id),
        ))))
        .count()
        .get_result(conn)
        .unwrap();
    let chat_messages: i64 = chat_messages::table
        .filter(not(exists(chat_conversations::table.filter(
            chat_conversations::id.eq(chat_messages::conversation_id),
        ))))
        .count()
        .get_result(conn)
        .unwrap();
    let notes: i64 = notes::table
        .filter(not(exists(
            customers_table::table.filter(customers_table::id.eq(notes::customer_id)),
        )))
        .count()
        .get_result(conn)
        .unwrap();
    tickets + ticket_messages + chats + chat_messages + notes
}

/// Counting for a database with no app of ours around it.
pub struct TestCounts {
    pub pool: DbPool,
}

impl TestCounts {
    pub fn row_counts(&self) -> RowCounts {
        row_counts(&mut self.pool.get().unwrap())
    }

    pub fn inconsistent_rows(&self) -> i64 {
        inconsistent_rows(&mut self.pool.get().unwrap())
    }
}
