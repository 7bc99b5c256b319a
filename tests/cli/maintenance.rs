//! `recount`, and what the server logs when a flood of forged session cookies arrives.

use std::io::Write;
use std::process::Stdio;

use crate::helpers::{desk, sqlite_count, sqlite_exec};

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
