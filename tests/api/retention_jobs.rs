//! A retention rule's runs as deletion jobs: one instance at a time starts a rule's run (its
//! lease), and Stop deletion stops a run like any other deletion.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use customer_desk::retention::run::{claim, release, run_due, RunOutcome};
use diesel::prelude::*;

use crate::helpers::retention::activate;
use crate::helpers::{spawn_app, spawn_app_with_worker, Backend, Related};
use crate::on_both_backends;
use crate::retention_runs::{customer, run_now};

on_both_backends!(
    two_instances_never_run_the_same_rule_at_once,
    stop_deletion_stops_a_rules_run,
);

async fn two_instances_never_run_the_same_rule_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    for n in 0..5 {
        customer(&app, &format!("Quiet{n}"), "Acme", 20, Related::default()).await;
    }
    let rule = app.add_rule("Quiet", &[("inactive_months", "12")]).await;
    activate(&app.admin, rule.id, true)
        .await
        .1
        .assert_status(303);
    let first_job = app.rule("Quiet").await.unwrap().last_job;
    if let Some(job) = first_job {
        app.wait_for_job(job.0).await;
    }
    let jobs_before = app.job_count().await;
    for n in 0..3 {
        customer(&app, &format!("Later{n}"), "Acme", 20, Related::default()).await;
    }
    // Make the rule due, then let four "instances" (own owner, own connection) try at once.
    app.db(|conn| {
        diesel::sql_query("UPDATE retention_runs SET last_run_at = NULL")
            .execute(conn)
            .unwrap()
    })
    .await;
    let barrier = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let (pool, state, barrier) = (app.pool.clone(), app.state.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                barrier.wait();
                run_due(
                    &mut conn,
                    &state,
                    &format!("instance-{n}"),
                    Some(Duration::from_secs(3600)),
                    Duration::from_secs(60),
                )
                .unwrap()
            })
        })
        .collect();
    let outcomes: Vec<(String, RunOutcome)> = threads
        .into_iter()
        .flat_map(|thread| thread.join().unwrap())
        .collect();
    let started = outcomes
        .iter()
        .filter(|(_, outcome)| matches!(outcome, RunOutcome::Started { .. }))
        .count();
    assert_eq!(started, 1, "{outcomes:?}");
    assert_eq!(app.job_count().await, jobs_before + 1);
    // Within the interval, nobody runs it again.
    let state = app.state.clone();
    let again = app
        .db(move |conn| {
            run_due(
                conn,
                &state,
                "late",
                Some(Duration::from_secs(3600)),
                Duration::from_secs(60),
            )
            .unwrap()
        })
        .await;
    assert!(again.is_empty(), "{again:?}");

    // The lease itself: held by one owner, refused to another until released or expired.
    let id = rule.id;
    let (a, b, b_after) = app
        .db(move |conn| {
            let a = claim(conn, id, "a", Duration::from_secs(60), None).unwrap();
            let b = claim(conn, id, "b", Duration::from_secs(60), None).unwrap();
            release(conn, id, "a").unwrap();
            let b_after = claim(conn, id, "b", Duration::from_millis(1), None).unwrap();
            (a, b, b_after)
        })
        .await;
    assert!(a && !b && b_after);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let expired = app
        .db(move |conn| claim(conn, id, "c", Duration::from_secs(60), None).unwrap())
        .await;
    assert!(expired, "an expired lease is taken over");
}

async fn stop_deletion_stops_a_rules_run(backend: Backend) {
    // No worker: the run's job waits, as a big one would be mid-way.
    let app = spawn_app_with_worker(backend, false).await;
    let quiet = [
        customer(
            &app,
            "One",
            "Acme",
            20,
            Related {
                notes: 1,
                ..Default::default()
            },
        )
        .await,
        customer(&app, "Two", "Acme", 20, Related::default()).await,
    ];
    let rule = app.add_rule("Quiet", &[]).await;
    activate(&app.admin, rule.id, true)
        .await
        .1
        .assert_status(303);
    let job = app.rule("Quiet").await.unwrap().last_job.unwrap();
    let before = app.row_counts().await;

    let stop = format!("/people/customers/deletions/{job}/stop");
    app.get(&stop).await.assert_status(200);
    app.post_form(&stop, &[]).await.assert_status(303);
    app.get(&format!("/people/customers/deletions/{job}"))
        .await
        .assert_contains("stopped");
    assert_eq!(
        app.row_counts().await,
        before,
        "stopped before its first batch"
    );
    for id in quiet {
        assert_eq!(app.row_counts_of(id).await.customers, 1);
    }
    let records = app.deletion_records().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].6, "Retention rule: Quiet");
    app.get("/people/customers/retention")
        .await
        .assert_contains("stopped after deleting 0 of 2 customers");

    // A stopped run is over: the next run starts again with who matches then.
    let outcomes = run_now(&app).await;
    let [(_, RunOutcome::Started { customers, .. })] = outcomes.as_slice() else {
        panic!("the next run started: {outcomes:?}");
    };
    assert_eq!(*customers, 2);
}
