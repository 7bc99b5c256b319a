//! The command line, run as a user would: migrate, seed and create-user against a fresh SQLite
//! file.

use std::io::Write;
use std::process::{Command, Stdio};

fn desk(database: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_customer-desk"));
    command
        .env("DATABASE_URL", database)
        .env("LOG_LEVEL", "warn");
    command
}

fn sqlite_count(database: &std::path::Path, sql: &str) -> i64 {
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

/// (first name, last name, email, organisation) of every customer, in id order.
fn customers_in_order(database: &std::path::Path) -> Vec<(String, String, String, String)> {
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        first_name: String,
        #[diesel(sql_type = Text)]
        last_name: String,
        #[diesel(sql_type = Text)]
        email: String,
        #[diesel(sql_type = Text)]
        organisation: String,
    }
    let mut conn = SqliteConnection::establish(&database.to_string_lossy()).unwrap();
    diesel::sql_query(
        "SELECT first_name, last_name, email, organisation FROM customers ORDER BY id",
    )
    .load::<Row>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|r| (r.first_name, r.last_name, r.email, r.organisation))
    .collect()
}

#[test]
fn migrate_seed_and_create_users() {
    let dir = std::env::temp_dir().join(format!("cd-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("desk.sqlite3");
    let _ = std::fs::remove_file(&database);

    let migrated = desk(&database).arg("migrate").output().unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    // Every migration there is (counted, so that adding one does not break this test).
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().path().is_dir())
        .count();
    assert!(
        String::from_utf8_lossy(&migrated.stdout)
            .contains(&format!("{migrations} migration(s) applied")),
        "{migrated:?}"
    );
    let again = desk(&database).arg("migrate").output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("up to date"));

    let seeded = desk(&database)
        .args(["seed", "--customers", "40"])
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{seeded:?}");
    assert!(String::from_utf8_lossy(&seeded.stdout).contains("Seeded 40 customers"));
    assert_eq!(
        sqlite_count(&database, "SELECT COUNT(*) AS n FROM customers"),
        40
    );
    assert_eq!(
        sqlite_count(&database, "SELECT COUNT(*) AS n FROM notes"),
        40
    );
    let tickets = sqlite_count(&database, "SELECT COUNT(*) AS n FROM tickets");
    assert!(
        (100..=300).contains(&tickets),
        "about 5 tickets each, got {tickets}"
    );
    // The same seed gives the same data: every customer's names, email and organisation, in
    // order; another seed gives other data.
    let other = dir.join("other.sqlite3");
    let _ = std::fs::remove_file(&other);
    let same = desk(&other)
        .args(["seed", "--customers", "40", "--seed", "1"])
        .output()
        .unwrap();
    assert!(same.status.success(), "{same:?}");
    let seeded_customers = customers_in_order(&database);
    assert_eq!(seeded_customers.len(), 40);
    assert_eq!(seeded_customers, customers_in_order(&other));
    let different = dir.join("different.sqlite3");
    let _ = std::fs::remove_file(&different);
    let reseeded = desk(&different)
        .args(["seed", "--customers", "40", "--seed", "2"])
        .output()
        .unwrap();
    assert!(reseeded.status.success(), "{reseeded:?}");
    assert_ne!(seeded_customers, customers_in_order(&different));

    // Password on standard input.
    let mut child = desk(&database)
        .args([
            "create-user",
            "--email",
            "Boss@Desk.example",
            "--role",
            "admin",
            "--name",
            "The Boss",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let created = child.wait_with_output().unwrap();
    assert!(created.status.success(), "{created:?}");
    assert!(String::from_utf8_lossy(&created.stdout).contains("Created The Boss"));

    // Same email in another case, a short password and an unknown role are refused.
    let duplicate = desk(&database)
        .args([
            "create-user",
            "--email",
            "boss@desk.example",
            "--password",
            "another long password",
            "--role",
            "agent",
        ])
        .output()
        .unwrap();
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("exists already"));
    let short = desk(&database)
        .args([
            "create-user",
            "--email",
            "x@desk.example",
            "--password",
            "short",
            "--role",
            "agent",
        ])
        .output()
        .unwrap();
    assert!(!short.status.success());
    let role = desk(&database)
        .args([
            "create-user",
            "--email",
            "y@desk.example",
            "--password",
            "long enough password",
            "--role",
            "root",
        ])
        .output()
        .unwrap();
    assert!(!role.status.success());
    assert_eq!(
        sqlite_count(&database, "SELECT COUNT(*) AS n FROM agents"),
        1
    );
    let hash_ok = sqlite_count(
        &database,
        "SELECT COUNT(*) AS n FROM agents WHERE password_hash LIKE '$argon2id$%'",
    );
    assert_eq!(hash_ok, 1);

    // A PostgreSQL URL that cannot be reached says so.
    let unreachable = Command::new(env!("CARGO_BIN_EXE_customer-desk"))
        .env("DATABASE_URL", "postgres://nobody:secret@127.0.0.1:1/none")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!unreachable.status.success());
    let stderr = String::from_utf8_lossy(&unreachable.stderr);
    assert!(
        stderr.contains("cannot open the PostgreSQL database"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "the password leaked: {stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Customers last active before 2025 without an open ticket, counted from the child tables.
const INACTIVE_WITHOUT_OPEN: &str = "FROM customers c WHERE c.created_at < '2025-01-01 00:00:00' \
    AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = c.id AND t.created_at >= '2025-01-01 00:00:00') \
    AND NOT EXISTS (SELECT 1 FROM tickets t JOIN ticket_messages m ON m.ticket_id = t.id \
                    WHERE t.customer_id = c.id AND m.created_at >= '2025-01-01 00:00:00') \
    AND NOT EXISTS (SELECT 1 FROM chat_conversations h WHERE h.customer_id = c.id AND h.started_at >= '2025-01-01 00:00:00') \
    AND NOT EXISTS (SELECT 1 FROM chat_conversations h JOIN chat_messages m ON m.conversation_id = h.id \
                    WHERE h.customer_id = c.id AND m.created_at >= '2025-01-01 00:00:00') \
    AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = c.id AND t.trashed_at IS NULL \
                    AND t.status NOT IN ('solved', 'closed'))";

fn table_counts(database: &std::path::Path) -> Vec<i64> {
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

#[test]
fn delete_by_criteria_dry_run_then_yes() {
    let dir = std::env::temp_dir().join(format!("cd-cli-delete-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("desk.sqlite3");
    let _ = std::fs::remove_file(&database);
    let seeded = desk(&database)
        .args(["seed", "--customers", "150"])
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{seeded:?}");
    let matching = sqlite_count(
        &database,
        &format!("SELECT count(*) AS n {INACTIVE_WITHOUT_OPEN}"),
    );
    assert!((2..150).contains(&matching), "{matching}");
    let related = sqlite_count(
        &database,
        &format!(
            "SELECT count(*) AS n FROM tickets WHERE customer_id IN (SELECT c.id {INACTIVE_WITHOUT_OPEN})"
        ),
    );
    let before = table_counts(&database);
    let filters = ["--active-before", "2025-01-01", "--tickets", "no_open"];

    // Without --yes: what would go, and nothing changes.
    let dry = desk(&database)
        .arg("delete")
        .args(filters)
        .output()
        .unwrap();
    assert!(dry.status.success(), "{dry:?}");
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(
        out.contains(&format!("Would delete {matching} customers")),
        "{out}"
    );
    assert!(out.contains(&format!("{related} ticket")), "{out}");
    assert!(out.contains("Nothing was deleted"), "{out}");
    assert_eq!(table_counts(&database), before);

    // An invalid value or no criteria at all: refused, nothing changes.
    for args in [
        vec!["delete", "--active-before", "2025-02-30", "--yes"],
        vec!["delete", "--tickets", "some", "--yes"],
        vec!["delete", "--yes"],
    ] {
        let refused = desk(&database).args(&args).output().unwrap();
        assert!(!refused.status.success(), "{args:?}: {refused:?}");
    }
    assert_eq!(table_counts(&database), before);

    // With --yes: exactly that set, recorded as the command line's.
    let done = desk(&database)
        .arg("delete")
        .args(filters)
        .arg("--yes")
        .env("USER", "ops-person")
        .output()
        .unwrap();
    assert!(done.status.success(), "{done:?}");
    let out = String::from_utf8_lossy(&done.stdout);
    assert!(
        out.contains(&format!("Deleted {matching} customers")),
        "{out}"
    );
    let after = table_counts(&database);
    assert_eq!(after[0], before[0] - matching);
    assert_eq!(after[1], before[1] - related);
    assert_eq!(after[6], before[6] + 1);
    assert_eq!(
        sqlite_count(
            &database,
            &format!("SELECT count(*) AS n {INACTIVE_WITHOUT_OPEN}")
        ),
        0
    );
    assert_eq!(
        sqlite_count(
            &database,
            &format!(
                "SELECT count(*) AS n FROM deletion_records WHERE kind = 'bulk' AND customers = {matching} \
                 AND actor_id IS NULL AND actor_name = 'command line (OS user ops-person)'"
            )
        ),
        1
    );
    let orphans = [
        "SELECT count(*) AS n FROM tickets WHERE customer_id NOT IN (SELECT id FROM customers)",
        "SELECT count(*) AS n FROM ticket_messages WHERE ticket_id NOT IN (SELECT id FROM tickets)",
        "SELECT count(*) AS n FROM chat_conversations WHERE customer_id NOT IN (SELECT id FROM customers)",
        "SELECT count(*) AS n FROM chat_messages WHERE conversation_id NOT IN (SELECT id FROM chat_conversations)",
        "SELECT count(*) AS n FROM notes WHERE customer_id NOT IN (SELECT id FROM customers)",
    ];
    for sql in orphans {
        assert_eq!(sqlite_count(&database, sql), 0, "{sql}");
    }
    // Again: nothing matches any more.
    let again = desk(&database)
        .arg("delete")
        .args(filters)
        .arg("--yes")
        .output()
        .unwrap();
    assert!(again.status.success(), "{again:?}");
    assert!(String::from_utf8_lossy(&again.stdout).contains("No customers match"));
    let _ = std::fs::remove_dir_all(&dir);
}
