//! Retention rules listed and run from the command line.

use crate::helpers::{desk, sqlite_count, sqlite_exec};

#[test]
fn retention_list_and_run_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("cd-cli-retention-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("desk.sqlite3");
    let _ = std::fs::remove_file(&database);
    let migrated = desk(&database).arg("migrate").output().unwrap();
    assert!(migrated.status.success(), "{migrated:?}");
    let seeded = desk(&database)
        .args(["seed", "--customers", "10"])
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{seeded:?}");
    let created = desk(&database)
        .args([
            "create-user",
            "--email",
            "ops@desk.example",
            "--password",
            "a long passphrase",
        ])
        .args(["--role", "admin", "--name", "Ops"])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    // Two customers quiet for three years and without open tickets; the others active now.
    // One active rule (as its activation would leave it) and one inactive.
    sqlite_exec(
        &database,
        "UPDATE customers SET last_active_at = datetime('now')",
    );
    sqlite_exec(
        &database,
        "UPDATE tickets SET status = 'closed' WHERE customer_id IN (1, 2)",
    );
    sqlite_exec(
        &database,
        // Created then too: last activity never precedes creation (the database keeps it so).
        "UPDATE customers SET created_at = '2020-01-01 00:00:00', \
         last_active_at = '2020-01-01 00:00:00' WHERE id IN (1, 2)",
    );
    sqlite_exec(
        &database,
        "INSERT INTO retention_rules (name, inactive_months, state, activated_by, created_at, \
         updated_at) VALUES ('Quiet', 24, 'active', 1, datetime('now'), datetime('now')), \
         ('Sleeping', 24, 'inactive', NULL, datetime('now'), datetime('now'))",
    );
    sqlite_exec(
        &database,
        "INSERT INTO retention_runs (rule_id) SELECT id FROM retention_rules",
    );

    let listed = desk(&database)
        .args(["retention", "list"])
        .output()
        .unwrap();
    assert!(listed.status.success(), "{listed:?}");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("Quiet [active]"), "{listed}");
    assert!(listed.contains("Sleeping [inactive]"), "{listed}");
    assert!(listed.contains("matches now: 2 customers"), "{listed}");
    assert!(listed.contains("last run: never"), "{listed}");

    let dry = desk(&database)
        .args(["retention", "run", "--dry-run"])
        .output()
        .unwrap();
    assert!(dry.status.success(), "{dry:?}");
    let dry = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.contains("Quiet [active]: would delete 2 customers"),
        "{dry}"
    );
    let count = "SELECT COUNT(*) AS n FROM customers";
    assert_eq!(
        sqlite_count(&database, count),
        10,
        "a dry run deletes nothing"
    );

    let unknown = desk(&database)
        .args(["retention", "run", "--rule", "nope"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no retention rule named"));
    let inactive = desk(&database)
        .args(["retention", "run", "--rule", "sleeping"])
        .output()
        .unwrap();
    assert_eq!(inactive.status.code(), Some(2), "{inactive:?}");
    assert_eq!(sqlite_count(&database, count), 10);

    // 2 of 10 customers is past the default safety limit (10 %): the rule pauses.
    let paused = desk(&database)
        .args(["retention", "run", "--rule", "Quiet"])
        .output()
        .unwrap();
    assert_eq!(paused.status.code(), Some(2), "{paused:?}");
    assert!(String::from_utf8_lossy(&paused.stdout)
        .contains("Quiet: paused. This run would delete 2 customers of 10"));
    assert_eq!(sqlite_count(&database, count), 10);
    // What an administrator's confirmation would leave: active, with a limit that allows it.
    sqlite_exec(
        &database,
        "UPDATE retention_rules SET state = 'active', paused_reason = NULL, max_percent = 100",
    );
    let ran = desk(&database)
        .args(["retention", "run", "--rule", "QUIET"])
        .output()
        .unwrap();
    assert!(ran.status.success(), "{ran:?}");
    let ran = String::from_utf8_lossy(&ran.stdout);
    assert!(ran.contains("Quiet: deleting 2 customers"), "{ran}");
    assert!(ran.contains("2 customers deleted"), "{ran}");
    assert_eq!(sqlite_count(&database, count), 8);
    assert_eq!(
        sqlite_count(
            &database,
            "SELECT COUNT(*) AS n FROM customers WHERE id IN (1, 2)"
        ),
        0
    );
    assert_eq!(
        sqlite_count(
            &database,
            "SELECT COUNT(*) AS n FROM deletion_records WHERE actor_name = 'Retention rule: Quiet'"
        ),
        1
    );
    let listed = desk(&database)
        .args(["retention", "list"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("deleted 2 customers"), "{listed}");
    let _ = std::fs::remove_dir_all(&dir);
}
