//! SQLite has one writer at a time. While another process holds its lock (the command line's
//! deletion, say), saves wait for it in the writers' line, on connections of their own
//! (`db::WriteTurns`): pages that only read are served at once meanwhile, and once the lock is
//! free every save is kept. Before the line, the waiting saves held every pooled connection and
//! a page waited for the lock with them. SQLite only: PostgreSQL locks rows, and has no line.
//! A session's pages seen at once do not wait in the line either (to decide whether its expiry
//! moves, a page reads it; only a write takes a turn).

use std::time::{Duration, Instant};

use customer_desk::schema::customers;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use tokio::task::JoinSet;

use crate::helpers::{spawn_app, Backend, ADMIN_EMAIL, PASSWORD};

/// More saves at once than the test app's pool has connections (4).
const SAVES: usize = 6;
/// Page views of one session at once.
const TABS: usize = 16;
/// How long the other process holds SQLite's write lock.
const HELD: Duration = Duration::from_millis(4_000);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_served_while_saves_wait_for_the_sqlite_lock() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut ids = Vec::new();
    for n in 0..SAVES {
        let email = format!("waiting{n}@example.com");
        ids.push(app.add_customer("Waiting", "Writer", &email, "Line").await);
    }
    // One session per save: the saves of one session take turns anyway (`session_turns`).
    let mut browsers = Vec::new();
    for _ in 0..SAVES {
        browsers.push(app.sign_in(ADMIN_EMAIL, PASSWORD).await);
    }
    // Each session's first page shows (and so forgets, writing the session) its sign-in flash.
    for browser in browsers.iter().chain([&app.admin]) {
        browser.get("/people/customers").await.assert_status(200);
    }

    let path = app.sqlite_path().expect("a SQLite database");
    let (locked, is_locked) = std::sync::mpsc::channel();
    let other_process = std::thread::spawn(move || {
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute("BEGIN IMMEDIATE").unwrap();
        locked.send(Instant::now()).unwrap();
        std::thread::sleep(HELD);
        conn.batch_execute("COMMIT").unwrap();
    });
    let locked_at = is_locked.recv().unwrap();

    let mut saves = JoinSet::new();
    for (n, (browser, id)) in browsers.into_iter().zip(ids.clone()).enumerate() {
        saves.spawn(async move {
            let first = format!("Saved{n}");
            let email = format!("waiting{n}@example.com");
            let fields = [
                ("first_name", first.as_str()),
                ("last_name", "Writer"),
                ("email", email.as_str()),
                ("phone", ""),
                ("organisation", "Line"),
                ("job_title", ""),
            ];
            let page = browser
                .post_form(&format!("/people/customers/{id}/edit"), &fields)
                .await;
            (page.status, Instant::now())
        });
    }
    // Every writer's connection is taken: 3 saves wait for the lock in their turn, the other 3
    // for a turn.
    let writers = app
        .state
        .write_turns
        .clone()
        .expect("a writers' line on SQLite");
    let reached = Instant::now();
    while writers.pool().state().idle_connections > 0 {
        assert!(
            reached.elapsed() < Duration::from_secs(2),
            "the saves never reached the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    for path in [
        "/people/customers",
        &format!("/people/customers/{}", ids[0]),
        &format!("/people/customers/{}/edit", ids[1]),
    ] {
        let asked = Instant::now();
        app.get(path).await.assert_status(200);
        assert!(
            asked.elapsed() < Duration::from_millis(1_000),
            "{path} waited {:?} while the saves waited for the lock",
            asked.elapsed()
        );
        assert!(
            locked_at.elapsed() < HELD,
            "the lock was free before the page answered: the test proves nothing"
        );
    }

    // One session's pages at once (tabs, a page and its htmx requests): each finds out whether
    // its expiry moves without waiting in the full line, though another took what its load read.
    let mut pages = JoinSet::new();
    for _ in 0..TABS {
        let (client, list) = (app.admin.client.clone(), app.admin.url("/people/customers"));
        pages.spawn(async move {
            let asked = Instant::now();
            let status = client.get(list).send().await.unwrap().status();
            (status, asked.elapsed())
        });
    }
    while let Some(page) = pages.join_next().await {
        let (status, took) = page.unwrap();
        assert_eq!(status, 200);
        assert!(
            took < Duration::from_millis(1_000),
            "a page of a session open in {TABS} tabs waited {took:?} for the writers' line"
        );
    }
    assert!(locked_at.elapsed() < HELD, "the lock was free too soon");

    while let Some(save) = saves.join_next().await {
        let (status, at) = save.unwrap();
        assert_eq!(status, 303, "a save waiting for the lock is kept");
        assert!(
            at.duration_since(locked_at) >= HELD,
            "saved only once the lock was free"
        );
    }
    other_process.join().unwrap();
    let saved: Vec<String> = app
        .db(move |conn| {
            customers::table
                .filter(customers::id.eq_any(ids))
                .select(customers::first_name)
                .order(customers::first_name)
                .load(conn)
                .unwrap()
        })
        .await;
    let expected: Vec<String> = (0..SAVES).map(|n| format!("Saved{n}")).collect();
    assert_eq!(saved, expected);
}
