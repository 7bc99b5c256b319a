//! What the command-line tests share: running the binary and reading the SQLite file.

use std::process::Command;

pub fn desk(database: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_customer-desk"));
    command
        .env("DATABASE_URL", database)
        .env("LOG_LEVEL", "warn");
    command
}

pub fn sqlite_count(database: &std::path::Path, sql: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = SqliteConnection::establish(&database.to_string_lossy()).unwrap();
    diesel::sql_query(sql)
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n
}

/// Rows in each table a deletion touches, and the deletion records.
pub fn table_counts(database: &std::path::Path) -> Vec<i64> {
    [
        "customers",
        "tickets",
        "ticket_messages",
        "chat_conversations",
        "chat_messages",
        "notes",
        "deletion_records",
    ]
    .iter()
    .map(|table| sqlite_count(database, &format!("SELECT count(*) AS n FROM {table}")))
    .collect()
}

/// Customers of `database` whose tickets, ticket messages, chats, chat messages or notes differ
/// in number from the same customer's in `snapshot` (an earlier copy).
pub fn changed_customers(database: &std::path::Path, snapshot: &std::path::Path) -> i64 {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = SqliteConnection::establish(&database.to_string_lossy()).unwrap();
    conn.batch_execute(&format!("ATTACH DATABASE '{}' AS b", snapshot.display()))
        .unwrap();
    let per = |schema: &str| {
        format!(
            "(SELECT count(*) FROM {schema}.tickets t WHERE t.customer_id = c.id) || ',' || \
             (SELECT count(*) FROM {schema}.ticket_messages m JOIN {schema}.tickets t ON t.id = m.ticket_id \
              WHERE t.customer_id = c.id) || ',' || \
             (SELECT count(*) FROM {schema}.chat_conversations h WHERE h.customer_id = c.id) || ',' || \
             (SELECT count(*) FROM {schema}.chat_messages m JOIN {schema}.chat_conversations h \
              ON h.id = m.conversation_id WHERE h.customer_id = c.id) || ',' || \
             (SELECT count(*) FROM {schema}.notes o WHERE o.customer_id = c.id)"
        )
    };
    diesel::sql_query(format!(
        "SELECT count(*) AS n FROM main.customers c WHERE {} <> {}",
        per("main"),
        per("b")
    ))
    .get_result::<Count>(&mut conn)
    .unwrap()
    .n
}

/// Executes SQL on the SQLite file (arranging what the web pages would).
pub fn sqlite_exec(database: &std::path::Path, sql: &str) {
    use diesel::prelude::*;
    let mut conn = SqliteConnection::establish(&database.to_string_lossy()).unwrap();
    diesel::sql_query(sql).execute(&mut conn).unwrap();
}
