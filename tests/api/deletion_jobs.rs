//! Deletion jobs driven directly (no app worker): leases, a worker that dies mid-job, a job
//! taken over and finished elsewhere, and overlapping jobs running at the same time.

use std::collections::BTreeSet;

use customer_desk::deletion::Actor;
use customer_desk::domain::ids::AgentId;
use customer_desk::domain::selection::Selection;
use customer_desk::jobs::{self, JobId, Step, WorkerSettings};
use customer_desk::schema::{deletion_job_items, deletion_jobs};
use diesel::prelude::*;

use crate::helpers::{spawn_app_with_worker, Backend, Related, RowCounts, TestApp};
use crate::on_both_backends;

on_both_backends!(
    an_idle_worker_starts_a_new_job_at_once,
    a_job_left_by_a_dead_worker_is_taken_over_and_finished,
    overlapping_jobs_delete_every_customer_once,
);

const DATA: Related = Related {
    tickets: 3,
    trashed_tickets: 1,
    messages_per_ticket: 2,
    chats: 2,
    messages_per_chat: 2,
    notes: 1,
};

fn settings() -> WorkerSettings {
    WorkerSettings {
        batch_size: 4,
        lease: std::time::Duration::from_secs(60),
        ..Default::default()
    }
}

fn actor(id: i64, name: &str) -> Actor {
    Actor {
        id: Some(AgentId(id)),
        name: name.into(),
    }
}

async fn people(app: &TestApp, count: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for n in 0..count {
        ids.push(
            app.add_customer_with("Job", &format!("Person{n:02}"), DATA)
                .await,
        );
    }
    ids
}

fn explicit(ids: &[i64]) -> Selection {
    Selection {
        all: None,
        ids: ids.iter().copied().collect::<BTreeSet<_>>(),
        version: 1,
    }
}

async fn start(app: &TestApp, selection: Selection, token: &str, by: Actor) -> JobId {
    let token = token.to_owned();
    let state = app.state.clone();
    app.db(move |conn| {
        let confirmed = customer_desk::deletion::preview_bulk(conn, &selection, false)
            .unwrap()
            .confirmed;
        jobs::start(conn, &state, &selection, false, &confirmed, &token, &by).unwrap()
    })
    .await
}

/// A worker that polls only every minute still starts a job queued by its own process at once.
async fn an_idle_worker_starts_a_new_job_at_once(backend: Backend) {
    let app = spawn_app_with_worker(backend, false).await;
    let ids = people(&app, 5).await;
    let worker = jobs::Worker::spawn(
        app.pool.clone(),
        WorkerSettings {
            poll: std::time::Duration::from_secs(60),
            ..settings()
        },
        app.state.clone(),
    );
    // Let it find nothing to do and go to sleep.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let job = start(&app, explicit(&ids), "wake", actor(1, "Ada")).await;
    app.wait_for_job(job.0).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(app.row_counts().await, RowCounts::default());
    drop(worker);
}

async fn a_job_left_by_a_dead_worker_is_taken_over_and_finished(backend: Backend) {
    let app = spawn_app_with_worker(backend, false).await;
    let ids = people(&app, 18).await;
    let bystander = app.add_customer_with("Not", "Selected", DATA).await;
    let bystander_rows = app.row_counts_of(bystander).await;
    let before = app.row_counts().await;
    let admin_id = app
        .db(|conn| {
            customer_desk::accounts::find_by_email(conn, crate::helpers::ADMIN_EMAIL)
                .unwrap()
                .unwrap()
                .id
        })
        .await;
    let job = start(
        &app,
        explicit(&ids),
        "token-crash",
        actor(admin_id, "Ada Admin"),
    )
    .await;

    // Worker A claims the job, deletes two batches, then dies (stops without a word).
    let state = app.state.clone();
    let (claimed, steps) = app
        .db(move |conn| {
            let claimed = jobs::claim(conn, "worker-a", settings().lease).unwrap();
            let first = jobs::run_batch(conn, &state, job, "worker-a", &settings()).unwrap();
            let second = jobs::run_batch(conn, &state, job, "worker-a", &settings()).unwrap();
            (claimed, [first, second])
        })
        .await;
    assert_eq!(claimed, Some(job));
    assert_eq!(
        steps,
        [
            Step::Progressed { processed: 4 },
            Step::Progressed { processed: 8 }
        ]
    );
    // Half done: 8 customers gone with all their data, nothing half deleted.
    let mid = app.row_counts().await;
    assert_eq!(mid.customers, before.customers - 8);
    assert_eq!(mid.tickets, before.tickets - 8 * 3);
    assert_eq!(mid.ticket_messages, before.ticket_messages - 8 * 6);
    assert_eq!(mid.chat_messages, before.chat_messages - 8 * 4);
    assert_eq!(app.inconsistent_rows().await, 0);
    for id in &ids[..8] {
        assert_eq!(app.row_counts_of(*id).await, RowCounts::default());
    }
    for id in &ids[8..] {
        assert_eq!(app.row_counts_of(*id).await.tickets, 3);
    }

    // While A's lease runs, nobody else takes the job.
    let b_claim = app
        .db(|conn| jobs::claim(conn, "worker-b", settings().lease).unwrap())
        .await;
    assert_eq!(b_claim, None);
    // A's lease runs out (as after a crash); B takes over and finishes.
    app.db(move |conn| {
        let past = customer_desk::db::now() - chrono::TimeDelta::seconds(1);
        diesel::update(deletion_jobs::table.find(job.0))
            .set(deletion_jobs::lease_until.eq(Some(past)))
            .execute(conn)
            .unwrap()
    })
    .await;
    let state = app.state.clone();
    let finished = app
        .db(move |conn| {
            assert_eq!(
                jobs::claim(conn, "worker-b", settings().lease).unwrap(),
                Some(job)
            );
            // A wakes up: the job is no longer its own.
            assert_eq!(
                jobs::run_batch(conn, &state, job, "worker-a", &settings()).unwrap(),
                Step::LostLease
            );
            loop {
                match jobs::run_batch(conn, &state, job, "worker-b", &settings()).unwrap() {
                    Step::Progressed { .. } => continue,
                    Step::Finished => break true,
                    Step::Stopped | Step::LostLease => break false,
                }
            }
        })
        .await;
    assert!(finished);

    let after = app.row_counts().await;
    assert_eq!(
        after,
        RowCounts {
            customers: before.customers - 18,
            tickets: before.tickets - 18 * 3,
            ticket_messages: before.ticket_messages - 18 * 6,
            chats: before.chats - 18 * 2,
            chat_messages: before.chat_messages - 18 * 4,
            notes: before.notes - 18,
        }
    );
    assert_eq!(app.row_counts_of(bystander).await, bystander_rows);
    assert_eq!(app.inconsistent_rows().await, 0);
    let records = app.deletion_records().await;
    assert_eq!(records.len(), 1);
    let (kind, customers, tickets, chats, notes, _, actor) = &records[0];
    assert_eq!(
        (
            kind.as_str(),
            *customers,
            *tickets,
            *chats,
            *notes,
            actor.as_str()
        ),
        ("bulk", 18, 54, 36, 18, "Ada Admin")
    );
    let done = app
        .db(move |conn| jobs::find(conn, job).unwrap().unwrap())
        .await;
    assert!(done.is_done());
    assert_eq!((done.processed, done.customers, done.total), (18, 18, 18));
    // Nothing more to claim.
    assert_eq!(
        app.db(|conn| jobs::claim(conn, "worker-c", settings().lease).unwrap())
            .await,
        None
    );
}

async fn overlapping_jobs_delete_every_customer_once(backend: Backend) {
    let app = spawn_app_with_worker(backend, false).await;
    let ids = people(&app, 24).await;
    let before = app.row_counts().await;
    let admin_id = app
        .db(|conn| {
            customer_desk::accounts::find_by_email(conn, crate::helpers::ADMIN_EMAIL)
                .unwrap()
                .unwrap()
                .id
        })
        .await;
    let first = start(
        &app,
        explicit(&ids[..16]),
        "token-one",
        actor(admin_id, "Ada Admin"),
    )
    .await;
    let second = start(
        &app,
        explicit(&ids[8..]),
        "token-two",
        actor(admin_id, "Also Ada"),
    )
    .await;
    assert_ne!(first, second);
    // A new job leaves out the customers an unfinished job holds already ...
    let frozen = |job: JobId| {
        app.db(move |conn| {
            deletion_job_items::table
                .filter(deletion_job_items::job_id.eq(job.0))
                .count()
                .get_result::<i64>(conn)
                .unwrap()
        })
    };
    assert_eq!((frozen(first).await, frozen(second).await), (16, 8));
    // ... but the worker must not rely on that: give the second job the overlap anyway (the
    // locks keep every customer deleted, and counted, once).
    let overlap: Vec<i64> = ids[8..16].to_vec();
    app.db(move |conn| {
        for id in overlap {
            diesel::insert_into(deletion_job_items::table)
                .values((
                    deletion_job_items::job_id.eq(second.0),
                    deletion_job_items::customer_id.eq(id),
                ))
                .execute(conn)
                .unwrap();
        }
    })
    .await;

    // Two workers at the same time, each with its own connection.
    let mut workers = Vec::new();
    for owner in ["worker-1", "worker-2"] {
        let pool = app.pool.clone();
        let state = app.state.clone();
        workers.push(std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            let job = jobs::claim(&mut conn, owner, settings().lease)
                .unwrap()
                .expect("a job each");
            loop {
                match jobs::run_batch(&mut conn, &state, job, owner, &settings()).unwrap() {
                    Step::Progressed { .. } => {}
                    Step::Finished => return job,
                    Step::Stopped | Step::LostLease => panic!("stopped or lost the lease"),
                }
            }
        }));
    }
    let mut worked: Vec<JobId> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    worked.sort();
    assert_eq!(worked, vec![first.min(second), first.max(second)]);

    let after = app.row_counts().await;
    assert_eq!(after.customers, before.customers - 24);
    assert_eq!(after.tickets, before.tickets - 24 * 3);
    assert_eq!(app.inconsistent_rows().await, 0);
    let records = app.deletion_records().await;
    assert_eq!(records.len(), 2);
    let customers: i64 = records.iter().map(|r| r.1).sum();
    let tickets: i64 = records.iter().map(|r| r.2).sum();
    let chats: i64 = records.iter().map(|r| r.3).sum();
    let notes: i64 = records.iter().map(|r| r.4).sum();
    assert_eq!((customers, tickets, chats, notes), (24, 72, 48, 24));
    for job in [first, second] {
        let done = app
            .db(move |conn| jobs::find(conn, job).unwrap().unwrap())
            .await;
        assert_eq!(done.processed, 16);
        assert_eq!(done.customers + done.already_gone(), 16);
    }
}
