//! kill -9 in the middle of a bulk deletion: the real binary, a real signal, a restart.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use customer_desk::db::{self, DatabaseUrl, DbPool};
use customer_desk::jobs::{JobId, StopOutcome};
use customer_desk::schema::{deletion_jobs, deletion_records};
use diesel::prelude::*;

use crate::helpers::{
    bulk_confirmation_fields, fresh_database, Backend, Browser, ListForm, RowCounts,
};
use crate::on_both_backends;

on_both_backends!(
    killed_mid_deletion_resumes_after_restart,
    a_stop_asked_while_killed_ends_the_job_after_restart,
);

const BIN: &str = env!("CARGO_BIN_EXE_customer-desk");

fn url_string(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
        DatabaseUrl::Postgres(url) => url.clone(),
    }
}

fn run(url: &str, args: &[&str]) {
    let output = Command::new(BIN)
        .env("DATABASE_URL", url)
        .env("LOG_LEVEL", "warn")
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
}

fn serve(url: &str, port: u16) -> Child {
    Command::new(BIN)
        .env("DATABASE_URL", url)
        .env("LOG_LEVEL", "warn")
        .env("SESSION_KEY", "k".repeat(64))
        // Small, slow batches, so that the kill lands mid-job; a short lease, so that the
        // restarted instance takes over soon.
        .env("DELETION_BATCH_SIZE", "10")
        .env("DELETION_PAUSE_MS", "40")
        .env("JOB_LEASE_SECONDS", "1")
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_until_up(base: &str) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await {
            if response.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

fn job_state(pool: &DbPool) -> Option<(String, i64, i64)> {
    deletion_jobs::table
        .select((
            deletion_jobs::status,
            deletion_jobs::processed,
            deletion_jobs::total,
        ))
        .first(&mut pool.get().unwrap())
        .optional()
        .unwrap()
}

/// A bulk deletion of 300 customers by the real binary, killed with SIGKILL mid-job.
struct Killed {
    url_text: String,
    pool: DbPool,
    app: crate::helpers::TestCounts,
    before: RowCounts,
    port: u16,
    base: String,
    processed: i64,
    _database: crate::helpers::TestDatabase,
}

async fn killed_mid_job(backend: Backend) -> Killed {
    let (url, database) = fresh_database(&backend);
    let url_text = url_string(&url);
    run(&url_text, &["seed", "--customers", "300"]);
    run(
        &url_text,
        &[
            "create-user",
            "--email",
            "crash@desk.example",
            "--password",
            "crash test password",
            "--role",
            "admin",
        ],
    );
    let pool = db::connect_pool(&url, 2).unwrap();
    let app = crate::helpers::TestCounts { pool: pool.clone() };
    let before = app.row_counts();
    assert_eq!(before.customers, 300);

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = serve(&url_text, port);
    wait_until_up(&base).await;

    // Sign in, select all, confirm.
    let browser = Browser::new(&base);
    browser.get("/login").await;
    browser
        .post_form(
            "/login",
            &[
                ("email", "crash@desk.example"),
                ("password", "crash test password"),
            ],
        )
        .await
        .assert_status(303);
    browser.forget_csrf();
    let list = browser.get("/people/customers").await;
    ListForm::from_page(&list)
        .submit(&browser, Some(("action", "all")))
        .await
        .assert_status(303);
    let confirmation = browser.get("/people/customers/selection/delete").await;
    confirmation.assert_contains("Permanently delete 300 customers?");
    let mut fields = bulk_confirmation_fields(&confirmation);
    fields.push(("understood".into(), "yes".into()));
    browser
        .post_fields("/people/customers/selection/delete", &fields)
        .await
        .assert_status(303);

    // Let it get going, then kill -9.
    let started = Instant::now();
    loop {
        if let Some((_, processed, _)) = job_state(&pool) {
            if processed >= 60 {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the job did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    let (status, processed, total) = job_state(&pool).unwrap();
    assert_ne!(status, "done", "the kill must land mid-job");
    assert!(processed < total);
    let mid = app.row_counts();
    assert_eq!(mid.customers, 300 - processed, "whole batches only");
    assert_eq!(app.inconsistent_rows(), 0);
    Killed {
        url_text,
        pool,
        app,
        before,
        port,
        base,
        processed,
        _database: database,
    }
}

async fn killed_mid_deletion_resumes_after_restart(backend: Backend) {
    let Killed {
        url_text,
        pool,
        app,
        before,
        port,
        base,
        _database,
        ..
    } = killed_mid_job(backend).await;

    // Start again: the job is taken over when its lease runs out, and finishes.
    let mut restarted = serve(&url_text, port);
    wait_until_up(&base).await;
    let started = Instant::now();
    while job_state(&pool).unwrap().0 != "done" {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the job did not resume"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    restarted.kill().unwrap();
    restarted.wait().unwrap();

    let after = app.row_counts();
    assert_eq!(after, RowCounts::default());
    assert_eq!(app.inconsistent_rows(), 0);
    let record: (i64, i64, i64, i64) = deletion_records::table
        .select((
            deletion_records::customers,
            deletion_records::tickets,
            deletion_records::chats,
            deletion_records::notes,
        ))
        .first(&mut pool.get().unwrap())
        .unwrap();
    assert_eq!(
        record,
        (before.customers, before.tickets, before.chats, before.notes)
    );
}

/// Stop asked while the instance working the job is dead (killed mid-batch, its batch rolled
/// back): the restarted instance, or the request itself once the lease ran out, ends the job as
/// stopped; the customers not reached stay whole.
async fn a_stop_asked_while_killed_ends_the_job_after_restart(backend: Backend) {
    let Killed {
        url_text,
        pool,
        app,
        before,
        port,
        base,
        processed,
        _database,
    } = killed_mid_job(backend).await;
    let job: i64 = deletion_jobs::table
        .select(deletion_jobs::id)
        .first(&mut pool.get().unwrap())
        .unwrap();
    let outcome =
        customer_desk::jobs::request_stop(&mut pool.get().unwrap(), JobId(job), "Crash Test")
            .unwrap();
    assert!(
        matches!(
            outcome,
            Some(StopOutcome::Requested | StopOutcome::StoppedNow)
        ),
        "{outcome:?}"
    );

    let mut restarted = serve(&url_text, port);
    wait_until_up(&base).await;
    let started = Instant::now();
    while job_state(&pool).unwrap().0 != "stopped" {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the job did not stop: {:?}",
            job_state(&pool)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    restarted.kill().unwrap();
    restarted.wait().unwrap();

    // Nothing deleted after the kill: exactly the whole batches done before it.
    let (_, after_processed, _) = job_state(&pool).unwrap();
    assert_eq!(after_processed, processed);
    let after = app.row_counts();
    assert_eq!(after.customers, before.customers - processed);
    assert_eq!(app.inconsistent_rows(), 0);
    let record: (i64, bool, i64) = deletion_records::table
        .select((
            deletion_records::customers,
            deletion_records::stopped,
            deletion_records::confirmed_customers,
        ))
        .first(&mut pool.get().unwrap())
        .unwrap();
    assert_eq!(record, (processed, true, 300));
}
