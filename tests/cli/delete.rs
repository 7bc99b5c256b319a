//! `delete` by criteria: the dry run, `--yes`, and Ctrl-C between batches.

use std::process::Stdio;

use crate::helpers::{changed_customers, desk, sqlite_count, table_counts};

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

/// Ctrl-C during `delete --yes` stops the job after its batch, as Stop deletion does: the
/// customers not reached keep every row, the record says "stopped", the exit status is 1.
#[test]
fn ctrl_c_stops_a_deletion_after_its_batch() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("cd-cli-ctrl-c-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("desk.sqlite3");
    let _ = std::fs::remove_file(&database);
    let seeded = desk(&database)
        .args(["seed", "--customers", "1000"])
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{seeded:?}");
    let before = table_counts(&database);
    let snapshot = dir.join("before.sqlite3");
    let _ = std::fs::remove_file(&snapshot);
    {
        use diesel::connection::SimpleConnection;
        use diesel::prelude::*;
        SqliteConnection::establish(&database.to_string_lossy())
            .unwrap()
            .batch_execute(&format!("VACUUM INTO '{}'", snapshot.display()))
            .unwrap();
    }

    let mut child = desk(&database)
        .args(["delete", "--all-customers", "--yes", "--batch-size", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("started by") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "no job started");
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let ended = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&ended.stderr);
    assert_eq!(ended.status.code(), Some(1), "{err}");
    assert!(err.contains("Stopped:"), "{err}");

    let after = table_counts(&database);
    let deleted = before[0] - after[0];
    assert!(
        deleted > 0 && after[0] > 0,
        "deleted {deleted} of {}",
        before[0]
    );
    assert_eq!(
        sqlite_count(
            &database,
            &format!(
                "SELECT count(*) AS n FROM deletion_records WHERE stopped = 1 \
                 AND customers = {deleted} AND confirmed_customers = {}",
                before[0]
            )
        ),
        1
    );
    assert_eq!(
        sqlite_count(
            &database,
            "SELECT count(*) AS n FROM deletion_jobs WHERE status = 'stopped'"
        ),
        1
    );
    // Every customer left has exactly the rows it had before, in every related table.
    assert_eq!(changed_customers(&database, &snapshot), 0);
    for sql in [
        "SELECT count(*) AS n FROM tickets WHERE customer_id NOT IN (SELECT id FROM customers)",
        "SELECT count(*) AS n FROM chat_conversations WHERE customer_id NOT IN (SELECT id FROM customers)",
        "SELECT count(*) AS n FROM notes WHERE customer_id NOT IN (SELECT id FROM customers)",
    ] {
        assert_eq!(sqlite_count(&database, sql), 0, "{sql}");
    }
    assert_eq!(
        sqlite_count(&database, "SELECT count(*) AS n FROM notes"),
        before[5] - deleted
    );
    let _ = std::fs::remove_dir_all(&dir);
}
