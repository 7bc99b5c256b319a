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

/// Customers of `database` whose tickets, ticket messages, chats, chat messages or notes differ
/// in number from the same customer's in `snapshot` (an earlier copy).
fn changed_customers(database: &std::path::Path, snapshot: &std::path::Path) -> i64 {
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
fn sqlite_exec(database: &std::path::Path, sql: &str) {
    use diesel::prelude::*;
    let mut conn = SqliteConnection::establish(&database.to_string_lossy()).unwrap();
    diesel::sql_query(sql).execute(&mut conn).unwrap();
}

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

#[test]
fn recount_finds_and_fixes_wrong_kept_counts() {
    let dir = std::env::temp_dir().join(format!("cd-cli-recount-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("desk.sqlite3");
    let _ = std::fs::remove_file(&database);
    let seeded = desk(&database)
        .args(["seed", "--customers", "20"])
        .output()
        .unwrap();
    assert!(seeded.status.success(), "{seeded:?}");
    let recount = |fix: bool| {
        let mut command = desk(&database);
        command.arg("recount");
        if fix {
            command.arg("--fix");
        }
        let output = command.output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (status, said) = recount(false);
    assert_eq!(status, Some(0), "{said}");
    assert!(said.contains("the kept counts are right"), "{said}");
    // A writer without the triggers: two customers' counts are wrong.
    sqlite_exec(
        &database,
        "UPDATE customers SET chat_count = chat_count + 3 WHERE id IN (SELECT id FROM customers LIMIT 2)",
    );
    let (status, said) = recount(false);
    assert_eq!(status, Some(1), "{said}");
    assert!(
        said.contains("chat_count: 2 customer(s) miscounted"),
        "{said}"
    );
    assert!(said.contains("recount --fix"), "{said}");
    let (status, said) = recount(true);
    assert_eq!(status, Some(0), "{said}");
    assert!(
        said.contains("chat_count: 2 customer(s) corrected"),
        "{said}"
    );
    assert!(said.contains("fixed 2 kept count(s)"), "{said}");
    assert_eq!(
        sqlite_count(
            &database,
            "SELECT count(*) AS n FROM customers WHERE chat_count <> \
             (SELECT count(*) FROM chat_conversations c WHERE c.customer_id = customers.id)"
        ),
        0
    );
    assert_eq!(recount(false).0, Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// An anonymous visitor's forged session cookies raise no warnings (actix-session warned once per
/// request): at LOG_LEVEL=warn, a flood of them logs nothing.
#[test]
fn forged_session_cookies_raise_no_warnings() {
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};

    let dir = std::env::temp_dir().join(format!("cd-cli-cookies-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database = dir.join("desk.sqlite3");
    let _ = std::fs::remove_file(&database);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = desk(&database)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("SESSION_KEY", "k".repeat(64))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let get = |cookie: &str| -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
        write!(
            stream,
            "GET /people/customers HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        Some(answer)
    };
    let started = std::time::Instant::now();
    while get("").is_none() {
        assert!(started.elapsed().as_secs() < 30, "the server did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for n in 0..50 {
        let answer = get(&format!("desk_session=forged{n}")).unwrap();
        assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let mut log = String::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(!log.contains("cryptographic"), "{log}");
    assert!(!log.contains("WARN"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}
