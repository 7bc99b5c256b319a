//! "Stop deletion" on a running bulk deletion, over HTTP like a browser without JavaScript. The
//! batches are run by the test itself as a worker of another instance would (the app serving
//! the pages runs none), so that the stop lands exactly after the first batch; one test uses
//! the app's own worker, slowed down.

use std::time::Duration;

use customer_desk::accounts::Role;
use customer_desk::jobs::{self, JobId, Step, WorkerSettings};
use customer_desk::schema::{deletion_job_stops, deletion_jobs, deletion_records};
use diesel::prelude::*;

use crate::bulk_deletion::confirm_and_submit;
use crate::helpers::{
    spawn_app_with_settings, spawn_app_with_worker, Backend, Browser, ListForm, Related, RowCounts,
    TestApp, ADMIN_EMAIL, ADMIN_NAME, PASSWORD,
};
use crate::on_both_backends;

on_both_backends!(
    stopping_after_the_first_batch_keeps_every_customer_not_reached,
    stopping_twice_a_finished_job_or_a_queued_one_changes_nothing_more,
    only_administrators_with_the_token_can_stop,
    the_app_worker_stops_after_its_batch,
);

const DATA: Related = Related {
    tickets: 2,
    trashed_tickets: 1,
    messages_per_ticket: 2,
    chats: 1,
    messages_per_chat: 2,
    notes: 1,
};

/// What each of these customers has, in every related table.
const WHOLE: RowCounts = RowCounts {
    customers: 1,
    tickets: 2,
    ticket_messages: 4,
    chats: 1,
    chat_messages: 2,
    notes: 1,
};

const BATCH: i64 = 7;

fn settings() -> WorkerSettings {
    WorkerSettings {
        batch_size: BATCH,
        lease: Duration::from_secs(60),
        ..Default::default()
    }
}

/// `count` customers of `org`, each with DATA, selected with "All" and confirmed: the job.
async fn job_of(app: &TestApp, org: &str, count: usize) -> (JobId, Vec<i64>) {
    let mut ids = Vec::new();
    for n in 0..count {
        let id = app
            .add_customer(
                &format!("Given{n:02}"),
                &format!("{org}{n:02}"),
                &format!("{}{n}@{}.example", org.to_lowercase(), org.to_lowercase()),
                org,
            )
            .await;
        app.give(id, DATA).await;
        ids.push(id);
    }
    let search = app.get(&format!("/people/customers?q={org}")).await;
    ListForm::from_page(&search)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
    (JobId(confirm_and_submit(app).await), ids)
}

/// Runs one batch of `job` as worker `owner` (claiming it first if `claim`).
async fn batch(app: &TestApp, job: JobId, owner: &'static str, claim: bool) -> Step {
    let state = app.state.clone();
    app.db(move |conn| {
        if claim {
            assert_eq!(
                jobs::claim(conn, owner, settings().lease).unwrap(),
                Some(job)
            );
        }
        jobs::run_batch(conn, &state, job, owner, &settings()).unwrap()
    })
    .await
}

async fn status(app: &TestApp, job: JobId) -> String {
    app.db(move |conn| {
        deletion_jobs::table
            .find(job.0)
            .select(deletion_jobs::status)
            .first(conn)
            .unwrap()
    })
    .await
}

/// (customers, tickets, confirmed_customers, stopped) of every record, oldest first.
async fn records(app: &TestApp) -> Vec<(i64, i64, i64, bool)> {
    app.db(|conn| {
        deletion_records::table
            .order(deletion_records::id.asc())
            .select((
                deletion_records::customers,
                deletion_records::tickets,
                deletion_records::confirmed_customers,
                deletion_records::stopped,
            ))
            .load(conn)
            .unwrap()
    })
    .await
}

fn stop_path(job: JobId) -> String {
    format!("/people/customers/deletions/{job}/stop")
}

async fn stopping_after_the_first_batch_keeps_every_customer_not_reached(backend: Backend) {
    let app = spawn_app_with_worker(backend, false).await;
    let (job, ids) = job_of(&app, "Stopco", 20).await;
    let bystander = app
        .add_customer("Not", "Selected", "not@selected.example", "Other")
        .await;
    app.give(bystander, DATA).await;
    assert_eq!(
        batch(&app, job, "other-instance", true).await,
        Step::Progressed { processed: BATCH }
    );

    let progress = app.get(&format!("/people/customers/deletions/{job}")).await;
    progress
        .assert_contains("Deleting 20 customers…")
        .assert_contains("7 of 20 customers deleted")
        .assert_contains(&format!(r#"href="{}""#, stop_path(job)));
    app.get(&stop_path(job))
        .await
        .assert_status(200)
        .assert_contains("Stop this deletion?")
        .assert_contains("Customers already deleted stay deleted.");
    app.get_htmx(&stop_path(job))
        .await
        .assert_status(200)
        .assert_contains("<dialog");
    let stopped = app.post_form(&stop_path(job), &[]).await;
    stopped.assert_status(303);
    assert_eq!(
        stopped.location.as_deref(),
        Some(format!("/people/customers/deletions/{job}").as_str())
    );
    let stopping = app.get(&format!("/people/customers/deletions/{job}")).await;
    stopping
        .assert_contains("Stopping: the deletion ends after its current batch.")
        .assert_contains(&format!(
            "Stop requested by {ADMIN_NAME}: the deletion ends after its current batch."
        ))
        .assert_lacks(&format!(r#"href="{}""#, stop_path(job)));
    // The htmx poll takes the button away (out of band) once a stop is asked.
    app.get_htmx(&format!("/people/customers/deletions/{job}"))
        .await
        .assert_contains(r#"id="job-stop""#)
        .assert_contains(r#"hx-swap-oob="true""#);
    assert_eq!(status(&app, job).await, "running");

    // The worker's next batch ends the job instead of deleting.
    let before = app.row_counts().await;
    assert_eq!(
        batch(&app, job, "other-instance", false).await,
        Step::Stopped
    );
    assert_eq!(app.row_counts().await, before);
    assert_eq!(
        batch(&app, job, "other-instance", false).await,
        Step::LostLease
    );
    assert_eq!(status(&app, job).await, "stopped");
    assert_eq!(
        app.db(|conn| jobs::claim(conn, "anyone", settings().lease).unwrap())
            .await,
        None
    );

    // The first batch is gone with everything; every customer not reached is whole.
    for (n, id) in ids.iter().enumerate() {
        let expected = if (n as i64) < BATCH {
            RowCounts::default()
        } else {
            WHOLE
        };
        assert_eq!(app.row_counts_of(*id).await, expected, "customer {n}");
    }
    assert_eq!(app.row_counts_of(bystander).await, WHOLE);
    assert_eq!(app.inconsistent_rows().await, 0);
    assert_eq!(records(&app).await, vec![(7, 14, 20, true)]);
    let done = app.get(&format!("/people/customers/deletions/{job}")).await;
    done.assert_contains("Deletion stopped")
        .assert_contains("Stopped: 7 of 20 customers deleted; 13 kept.")
        .assert_lacks(&format!(r#"href="{}""#, stop_path(job)));
    app.get("/people/customers/deletions")
        .await
        .assert_contains("Bulk, stopped: 7 of 20");

    // The customers not reached are no longer held: they can be selected and deleted again.
    let again = app.get("/people/customers?q=stopco").await;
    again.assert_contains("All (13)");
}

async fn stopping_twice_a_finished_job_or_a_queued_one_changes_nothing_more(backend: Backend) {
    let app = spawn_app_with_worker(backend, false).await;

    // A queued job no worker has started stops at once, with nothing deleted.
    let (queued, queued_ids) = job_of(&app, "Queued", 3).await;
    let before = app.row_counts().await;
    app.post_form(&stop_path(queued), &[])
        .await
        .assert_status(303);
    app.get(&format!("/people/customers/deletions/{queued}"))
        .await
        .assert_contains("Deletion stopped.")
        .assert_contains("Stopped: 0 of 3 customers deleted; 3 kept.");
    assert_eq!(status(&app, queued).await, "stopped");
    assert_eq!(app.row_counts().await, before);
    for id in &queued_ids {
        assert_eq!(app.row_counts_of(*id).await, WHOLE);
    }
    assert_eq!(records(&app).await, vec![(0, 0, 3, true)]);

    // Twice: a clear message, nothing more changes.
    app.post_form(&stop_path(queued), &[])
        .await
        .assert_status(303);
    app.get(&format!("/people/customers/deletions/{queued}"))
        .await
        .assert_contains("This deletion was already stopped; nothing more changed.");
    assert_eq!(records(&app).await.len(), 1);
    let stops: i64 = app
        .db(|conn| deletion_job_stops::table.count().get_result(conn).unwrap())
        .await;
    assert_eq!(stops, 1);

    // A finished job: nothing to stop, nothing changes.
    let (finished, _) = job_of(&app, "Finished", 3).await;
    assert_eq!(
        batch(&app, finished, "worker", true).await,
        Step::Progressed { processed: 3 }
    );
    assert_eq!(batch(&app, finished, "worker", false).await, Step::Finished);
    let after_finish = app.row_counts().await;
    app.post_form(&stop_path(finished), &[])
        .await
        .assert_status(303);
    app.get(&format!("/people/customers/deletions/{finished}"))
        .await
        .assert_contains("This deletion had already finished, so there was nothing to stop.")
        .assert_contains("Deletion finished");
    assert_eq!(status(&app, finished).await, "done");
    assert_eq!(app.row_counts().await, after_finish);
    assert_eq!(records(&app).await, vec![(0, 0, 3, true), (3, 6, 3, false)]);
    app.get(&stop_path(finished))
        .await
        .assert_status(200)
        .assert_contains("There is nothing to stop.");

    // A job whose worker died mid-job (its lease ran out) is stopped at once.
    let (orphaned, _) = job_of(&app, "Orphaned", 10).await;
    assert_eq!(
        batch(&app, orphaned, "dead-worker", true).await,
        Step::Progressed { processed: BATCH }
    );
    app.db(move |conn| {
        let past = customer_desk::db::now() - chrono::TimeDelta::seconds(1);
        diesel::update(deletion_jobs::table.find(orphaned.0))
            .set(deletion_jobs::lease_until.eq(Some(past)))
            .execute(conn)
            .unwrap()
    })
    .await;
    app.post_form(&stop_path(orphaned), &[])
        .await
        .assert_status(303);
    assert_eq!(status(&app, orphaned).await, "stopped");
    assert_eq!(
        batch(&app, orphaned, "dead-worker", false).await,
        Step::LostLease
    );
    assert_eq!(records(&app).await.last(), Some(&(7, 14, 10, true)));

    // No such job.
    app.post_form("/people/customers/deletions/999999/stop", &[])
        .await
        .assert_status(404);
}

async fn only_administrators_with_the_token_can_stop(backend: Backend) {
    let app = spawn_app_with_worker(backend, false).await;
    let (job, _) = job_of(&app, "Guarded", 3).await;
    app.create_account("Alan Agent", "alan.agent@desk.example", Role::Agent)
        .await;
    let agent = app.sign_in("alan.agent@desk.example", PASSWORD).await;
    agent.get(&stop_path(job)).await.assert_status(403);
    agent
        .post_form(&stop_path(job), &[])
        .await
        .assert_status(403);
    // The administrator without the CSRF token, or with another session's.
    app.admin
        .post_form_as_is(&stop_path(job), &[])
        .await
        .assert_status(403);
    let token = agent.csrf_token().await;
    app.admin
        .post_form_as_is(&stop_path(job), &[("csrf_token", &token)])
        .await
        .assert_status(403);
    // Anonymous: refused (sent to sign in).
    let anonymous = Browser::new(&app.address)
        .post_form_as_is(&stop_path(job), &[])
        .await;
    assert!(
        [303, 403].contains(&anonymous.status),
        "{}",
        anonymous.status
    );
    assert_eq!(status(&app, job).await, "queued");
    let stops: i64 = app
        .db(|conn| deletion_job_stops::table.count().get_result(conn).unwrap())
        .await;
    assert_eq!(stops, 0);
    // Malformed ids: a readable 400.
    app.post_form("/people/customers/deletions/abc/stop", &[])
        .await
        .assert_status(400);
}

/// The app's own worker, slowed down to rest between batches, stops after the batch in which
/// the stop arrives.
async fn the_app_worker_stops_after_its_batch(backend: Backend) {
    let app = spawn_app_with_settings(backend, true, |settings| {
        settings.worker.batch_size = BATCH;
        settings.worker.pause = Duration::from_millis(400);
    })
    .await;
    app.create_account(ADMIN_NAME, ADMIN_EMAIL, Role::Admin)
        .await;
    let admin = app.sign_in(ADMIN_EMAIL, PASSWORD).await;
    let app = TestApp::with_browser(app, admin);
    let (job, ids) = job_of(&app, "Slowco", 30).await;
    // Wait for the first batch, then stop.
    for _ in 0..200 {
        let processed: i64 = app
            .db(move |conn| {
                deletion_jobs::table
                    .find(job.0)
                    .select(deletion_jobs::processed)
                    .first(conn)
                    .unwrap()
            })
            .await;
        if processed > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.post_form(&stop_path(job), &[]).await.assert_status(303);
    for _ in 0..200 {
        if status(&app, job).await == "stopped" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status(&app, job).await, "stopped");
    let record = records(&app).await;
    assert_eq!(record.len(), 1);
    let deleted = record[0].0;
    assert!(
        deleted > 0 && deleted < 30 && deleted % BATCH == 0,
        "deleted {deleted}"
    );
    for (n, id) in ids.iter().enumerate() {
        let expected = if (n as i64) < deleted {
            RowCounts::default()
        } else {
            WHOLE
        };
        assert_eq!(app.row_counts_of(*id).await, expected, "customer {n}");
    }
    assert_eq!(app.inconsistent_rows().await, 0);
}
