//! Two instances on one PostgreSQL database, as behind a load balancer: a session made on one
//! is good on the other, and when the instance working a bulk deletion is killed (SIGKILL) the
//! other takes the job over when its lease runs out and finishes it, with exact totals and no
//! orphans.

use std::time::{Duration, Instant};

use customer_desk::db;
use customer_desk::schema::deletion_records;
use diesel::prelude::*;

use crate::helpers::{fresh_database, Backend, Browser, RowCounts, TestCounts};
use crate::instances::{
    delete_everyone, job_state, prepare, url_string, wait_until_done, Instance,
};

const CUSTOMERS: i64 = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_instance_finishes_a_job_whose_instance_was_killed() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let (url, _database) = fresh_database(&backend);
    let url_text = url_string(&url);
    prepare(&url_text, CUSTOMERS as u64);
    let pool = db::connect_pool(&url, 2).unwrap();
    let counts = TestCounts { pool: pool.clone() };
    let before = counts.row_counts();
    assert_eq!(before.customers, CUSTOMERS);

    // Small, slow batches so that the kill lands mid-job; a one-second lease so that the
    // takeover is quick.
    let env = [
        ("DELETION_BATCH_SIZE", "10"),
        ("DELETION_PAUSE_MS", "40"),
        ("JOB_LEASE_SECONDS", "1"),
    ];
    let a = Instance::start(&url_text, &env, &[]).await;
    let b = Instance::start(&url_text, &env, &[]).await;
    let mut instances = [a, b];

    // Signed in on A; the session cookie alone, in a fresh browser, on B.
    let on_a = instances[0].sign_in().await;
    let cookie = on_a.session_cookie().expect("a session cookie");
    let on_b = Browser::new(&instances[1].base);
    on_b.jar.add_cookie_str(
        &format!("desk_session={cookie}"),
        &instances[1].base.parse().unwrap(),
    );
    on_b.get("/people/customers")
        .await
        .assert_status(200)
        .assert_contains("Sign out");
    // And without it B does not know us.
    Browser::new(&instances[1].base)
        .get("/people/customers")
        .await
        .assert_status(303);

    // The deletion is started through B.
    let job = delete_everyone(&on_b, CUSTOMERS).await;
    let started = Instant::now();
    let owner = loop {
        let (status, processed, _, owner) = job_state(&pool, job);
        assert_ne!(status, "done", "the job finished before the kill");
        if processed >= 60 {
            break owner.expect("a running job has an owner");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the job did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The owner is "<pid>-<random>": kill the instance that works the job.
    let pid: u32 = owner.split('-').next().unwrap().parse().unwrap();
    let worker = instances
        .iter()
        .position(|i| i.pid() == pid)
        .expect("the owner is one of the two instances");
    let survivor = 1 - worker;
    instances[worker].kill();

    let (status, processed, total, _) = job_state(&pool, job);
    assert_ne!(status, "done", "the kill must land mid-job");
    assert!(processed < total);
    let mid = counts.row_counts();
    assert_eq!(mid.customers, CUSTOMERS - processed, "whole batches only");
    assert_eq!(counts.inconsistent_rows(), 0);

    // The survivor takes the job over once the lease has run out, and finishes it.
    let taken_over = Instant::now();
    loop {
        let (status, _, _, owner) = job_state(&pool, job);
        if status == "done" {
            break;
        }
        if let Some(owner) = owner {
            let by: u32 = owner.split('-').next().unwrap().parse().unwrap();
            if by != pid {
                assert_eq!(by, instances[survivor].pid(), "taken over by the survivor");
            }
        }
        assert!(
            taken_over.elapsed() < Duration::from_secs(60),
            "the job was not taken over"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_until_done(&pool, job, Duration::from_secs(1)).await;

    assert_eq!(counts.row_counts(), RowCounts::default(), "everything went");
    assert_eq!(counts.inconsistent_rows(), 0);
    let records: Vec<(i64, i64, i64, i64)> = deletion_records::table
        .select((
            deletion_records::customers,
            deletion_records::tickets,
            deletion_records::chats,
            deletion_records::notes,
        ))
        .load(&mut pool.get().unwrap())
        .unwrap();
    assert_eq!(
        records,
        vec![(before.customers, before.tickets, before.chats, before.notes)],
        "one record, with exact totals"
    );

    // The survivor still knows the session, and shows the finished job.
    let browser = if survivor == 1 { &on_b } else { &on_a };
    browser
        .get(&format!("/people/customers/deletions/{job}"))
        .await
        .assert_status(200)
        .assert_contains("Deletion finished");
}

/// A rolling restart: SIGTERM in the middle of a bulk deletion stops the instance cleanly
/// (exit 0) after its current batch and gives the job back, and the instance started in its
/// place resumes the job at once and finishes it with exact totals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_mid_deletion_and_a_restart_finish_the_job() {
    let (url, _database) = fresh_database(&Backend::Sqlite);
    let url_text = url_string(&url);
    prepare(&url_text, 200);
    let pool = db::connect_pool(&url, 2).unwrap();
    let counts = TestCounts { pool: pool.clone() };
    let before = counts.row_counts();
    let env = [
        ("DELETION_BATCH_SIZE", "10"),
        ("DELETION_PAUSE_MS", "100"),
        ("JOB_LEASE_SECONDS", "1"),
        ("LOG_LEVEL", "info"),
    ];
    let mut first = Instance::start(&url_text, &env, &[]).await;
    let browser = first.sign_in().await;
    let job = delete_everyone(&browser, 200).await;
    let started = Instant::now();
    while job_state(&pool, job).1 < 30 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the job did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = first.terminate();
    assert!(status.success(), "graceful stop: {status:?}");
    let log = first.stdout_text();
    assert!(log.contains("stopped"), "{log}");
    assert!(!log.contains("will retry"), "{log}");
    // Released, so that the next instance takes it at once.
    let (state, processed, total, owner) = job_state(&pool, job);
    assert_eq!((state.as_str(), owner), ("queued", None));
    assert!(processed < total);
    assert_eq!(processed % 10, 0, "whole batches");
    assert_eq!(counts.row_counts().customers, 200 - processed);

    // A lease far longer than the test: only the release lets the new instance resume.
    let env = [
        ("DELETION_BATCH_SIZE", "10"),
        ("DELETION_PAUSE_MS", "0"),
        ("JOB_LEASE_SECONDS", "600"),
    ];
    let _second = Instance::start(&url_text, &env, &[]).await;
    wait_until_done(&pool, job, Duration::from_secs(60)).await;
    assert_eq!(counts.row_counts(), RowCounts::default());
    assert_eq!(counts.inconsistent_rows(), 0);
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
