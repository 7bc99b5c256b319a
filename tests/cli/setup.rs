//! migrate, seed and create-user against a fresh SQLite file.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::{desk, sqlite_count};

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
