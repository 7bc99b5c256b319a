//! `backup` and `restore-check`, run as an operator would: a backup of an SQLite database that
//! is being written to is a consistent snapshot that passes `restore-check`; a damaged copy
//! fails it; on PostgreSQL `backup` says to use pg_dump and exits non-zero.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

fn desk(database: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_customer-desk"))
        .env("DATABASE_URL", database)
        .env("LOG_LEVEL", "warn")
        .args(args)
        .output()
        .unwrap()
}

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("cd-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

fn count(database: &Path, sql: &str) -> i64 {
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

/// Writes customers, each with a note in the same transaction, until told to stop.
fn writer(database: PathBuf, stop: Arc<AtomicBool>, written: Arc<AtomicI64>) {
    let mut conn = SqliteConnection::establish(&database.to_string_lossy()).unwrap();
    conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;")
        .unwrap();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        conn.batch_execute(&format!(
            "BEGIN IMMEDIATE;
             INSERT INTO customers (first_name, last_name, email, phone, organisation, job_title,
                                    created_at, updated_at)
             VALUES ('Writer', 'Number{n}', 'writer{n}@backup.example', '', 'Writers', '',
                     CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);
             INSERT INTO notes (customer_id, body, created_at)
             VALUES (last_insert_rowid(), 'written with its customer', CURRENT_TIMESTAMP);
             COMMIT;"
        ))
        .unwrap();
        written.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn backup_of_a_database_being_written_is_consistent_and_passes_restore_check() {
    let dir = scratch("backup");
    let database = dir.0.join("live.sqlite3");
    let url = database.to_string_lossy().into_owned();
    let seeded = desk(&url, &["seed", "--customers", "200"]);
    assert!(seeded.status.success(), "{seeded:?}");

    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicI64::new(0));
    let writing = {
        let (database, stop, written) = (database.clone(), stop.clone(), written.clone());
        std::thread::spawn(move || writer(database, stop, written))
    };
    let mut copies = Vec::new();
    for n in 0..3 {
        while written.load(Ordering::Relaxed) < 50 * (n + 1) {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let copy = dir.0.join(format!("copy{n}.sqlite3"));
        let backup = desk(&url, &["backup", "--to", &copy.to_string_lossy()]);
        let said = String::from_utf8_lossy(&backup.stdout).into_owned();
        assert!(backup.status.success(), "{backup:?}");
        assert!(
            said.contains("Backup written") && said.contains("bytes"),
            "{said}"
        );
        assert!(said.contains("customers"), "row counts: {said}");
        copies.push(copy);
    }
    stop.store(true, Ordering::Relaxed);
    writing.join().unwrap();
    let total = written.load(Ordering::Relaxed);

    let mut previous = 0;
    for copy in &copies {
        let check = desk(&url, &["restore-check", &copy.to_string_lossy()]);
        let said = String::from_utf8_lossy(&check.stdout).into_owned();
        assert!(check.status.success(), "{check:?}");
        assert!(said.contains("integrity_check: ok"), "{said}");
        assert!(said.contains("0 orphan row(s)"), "{said}");
        assert!(said.contains("up to date"), "{said}");
        assert!(said.contains("restore-check passed"), "{said}");
        // A snapshot: every customer the writer committed has its note, none is half there.
        let customers = count(
            copy,
            "SELECT COUNT(*) AS n FROM customers WHERE organisation = 'Writers'",
        );
        let notes = count(
            copy,
            "SELECT COUNT(*) AS n FROM notes WHERE body = 'written with its customer'",
        );
        assert_eq!(customers, notes, "{}", copy.display());
        assert!(customers >= previous && customers <= total);
        assert_eq!(
            count(copy, "SELECT COUNT(*) AS n FROM customers"),
            200 + customers
        );
        previous = customers;
    }
    assert!(previous > 0, "the backups were taken while writing");

    // A backup never overwrites.
    let again = desk(&url, &["backup", "--to", &copies[0].to_string_lossy()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn restore_check_fails_on_a_damaged_copy() {
    let dir = scratch("damaged");
    let database = dir.0.join("source.sqlite3");
    let url = database.to_string_lossy().into_owned();
    assert!(desk(&url, &["seed", "--customers", "300"]).status.success());
    let copy = dir.0.join("copy.sqlite3");
    assert!(desk(&url, &["backup", "--to", &copy.to_string_lossy()])
        .status
        .success());
    assert!(desk(&url, &["restore-check", &copy.to_string_lossy()])
        .status
        .success());

    // Overwrite pages in the middle of the file (not the header).
    let mut bytes = std::fs::read(&copy).unwrap();
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle..middle + 8192] {
        *byte = 0x5a;
    }
    std::fs::write(&copy, bytes).unwrap();
    let check = desk(&url, &["restore-check", &copy.to_string_lossy()]);
    assert!(!check.status.success(), "{check:?}");

    // Not a database at all; and a file that is not there.
    let text = dir.0.join("notes.txt");
    std::fs::write(&text, "not a database").unwrap();
    assert!(!desk(&url, &["restore-check", &text.to_string_lossy()])
        .status
        .success());
    let missing = desk(&url, &["restore-check", "/nonexistent/backup.sqlite3"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does not exist"));

    // An empty file (a backup cut short by a full disk) and an SQLite file of something else:
    // valid SQLite, but no Customer Desk migrations.
    let empty = dir.0.join("empty.sqlite3");
    std::fs::write(&empty, b"").unwrap();
    let other = dir.0.join("other.sqlite3");
    SqliteConnection::establish(&other.to_string_lossy())
        .unwrap()
        .batch_execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
        .unwrap();
    for file in [&empty, &other] {
        let check = desk(&url, &["restore-check", &file.to_string_lossy()]);
        assert_eq!(check.status.code(), Some(1), "{check:?}");
        assert!(String::from_utf8_lossy(&check.stdout).contains("not a Customer Desk database"));
    }

    // An SQLite URI as the target would write nothing and claim a backup: refused.
    let uri = desk(&url, &["backup", "--to", "file:x.sqlite3?mode=memory"]);
    assert_eq!(uri.status.code(), Some(2), "{uri:?}");
}

#[test]
fn backup_on_postgresql_says_to_use_pg_dump() {
    // No server is needed: the refusal comes from the URL, before connecting.
    let output = desk(
        "postgres://postgres@127.0.0.1:9/customer_desk",
        &["backup", "--to", "/tmp/never-written.sqlite3"],
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("pg_dump"));
    assert!(!Path::new("/tmp/never-written.sqlite3").exists());
}
