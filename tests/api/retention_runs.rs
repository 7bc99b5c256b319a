//! Retention rules' runs: who a run deletes (exactly who the same filters list, open tickets
//! kept, customers active again kept), the safety limit, the lease that lets one instance run a
//! rule, the scheduler, and the history naming the rule.

use std::time::Duration;

use customer_desk::domain::retention::RuleState;
use customer_desk::retention::run::{run_due, RunOutcome};
use customer_desk::retention::RetentionSettings;
use customer_desk::schema::tickets;
use diesel::prelude::*;

use crate::helpers::retention::{activate, matching_href, months_ago};
use crate::helpers::{
    spawn_app, spawn_signed_in_with_settings, Backend, ListForm, Related, TestApp,
};
use crate::on_both_backends;

const RULES: &str = "/people/customers/retention";

on_both_backends!(
    a_run_deletes_exactly_who_the_same_filters_list_and_keeps_open_tickets,
    a_customer_active_again_is_kept_by_the_next_run,
    the_safety_limit_pauses_a_run_and_deletes_nothing,
    the_scheduler_runs_each_active_rule_once_per_interval,
);

/// Runs every active rule now, as `customer-desk retention run` does.
pub(crate) async fn run_now(app: &TestApp) -> Vec<(String, RunOutcome)> {
    let state = app.state.clone();
    app.db(move |conn| run_due(conn, &state, "test", None, Duration::from_secs(60)).unwrap())
        .await
}

/// A customer of `organisation` last active `months` months ago, with `related`.
pub(crate) async fn customer(
    app: &TestApp,
    name: &str,
    organisation: &str,
    months: u32,
    related: Related,
) -> i64 {
    let email = format!(
        "{}@{}.example",
        name.to_lowercase(),
        organisation.to_lowercase()
    );
    let id = app.add_customer(name, "Test", &email, organisation).await;
    app.give(id, related).await;
    app.set_last_active(id, months_ago(months)).await;
    id
}

async fn set_ticket_status(app: &TestApp, customer: i64, status: &'static str) {
    app.db(move |conn| {
        diesel::update(tickets::table.filter(tickets::customer_id.eq(customer)))
            .set(tickets::status.eq(status))
            .execute(conn)
            .unwrap()
    })
    .await;
}

async fn a_run_deletes_exactly_who_the_same_filters_list_and_keeps_open_tickets(backend: Backend) {
    let app = spawn_app(backend).await;
    let one = Related {
        tickets: 1,
        messages_per_ticket: 2,
        chats: 1,
        messages_per_chat: 1,
        notes: 1,
        ..Default::default()
    };
    let bare = customer(&app, "Bare", "Acme", 30, Related::default()).await;
    let open = customer(&app, "Open", "Acme", 30, one).await;
    let solved = customer(&app, "Solved", "Acme", 30, one).await;
    set_ticket_status(&app, solved, "solved").await;
    let trashed = customer(
        &app,
        "Trashed",
        "Acme",
        30,
        Related {
            trashed_tickets: 1,
            ..one
        },
    )
    .await;
    let recent = customer(&app, "Recent", "Acme", 2, one).await;
    let other = customer(&app, "Other", "Globex", 30, one).await;
    let rule = app
        .add_rule(
            "Acme quiet",
            &[("inactive_months", "24"), ("organisation", "acme")],
        )
        .await;

    // The rule's "Matches now" link lists exactly the customers a run deletes.
    let list = app.get(RULES).await;
    list.assert_contains("3 customers");
    let listed = ListForm::from_page(&app.get(&matching_href(&list, rule.id)).await);
    let mut listed = listed.ids();
    listed.sort();
    assert_eq!(listed, vec![bare, solved, trashed]);

    let before = app.row_counts().await;
    let deleted_rows = [
        app.row_counts_of(bare).await,
        app.row_counts_of(solved).await,
        app.row_counts_of(trashed).await,
    ];
    let (_, activated) = activate(&app.admin, rule.id, true).await;
    activated.assert_status(303);
    let job = app.rule("Acme quiet").await.unwrap().last_job.unwrap();
    app.wait_for_job(job.0).await;

    let after = app.row_counts().await;
    let gone =
        |pick: fn(&crate::helpers::RowCounts) -> i64| deleted_rows.iter().map(pick).sum::<i64>();
    assert_eq!(after.customers, before.customers - 3);
    assert_eq!(after.tickets, before.tickets - gone(|r| r.tickets));
    assert_eq!(
        after.ticket_messages,
        before.ticket_messages - gone(|r| r.ticket_messages)
    );
    assert_eq!(after.chats, before.chats - gone(|r| r.chats));
    assert_eq!(
        after.chat_messages,
        before.chat_messages - gone(|r| r.chat_messages)
    );
    assert_eq!(after.notes, before.notes - gone(|r| r.notes));
    for kept in [open, recent, other] {
        assert_eq!(app.row_counts_of(kept).await.customers, 1);
        assert_eq!(app.row_counts_of(kept).await.tickets, 1);
    }
    assert_eq!(app.inconsistent_rows().await, 0);

    // The history names the rule.
    let records = app.deletion_records().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].0, "bulk");
    assert_eq!(records[0].1, 3);
    assert_eq!(records[0].6, "Retention rule: Acme quiet");
    app.get("/people/customers/deletions")
        .await
        .assert_contains("Retention rule: Acme quiet");

    // Without "keep customers with open tickets", the open one matches too.
    let everyone = app
        .add_rule(
            "Everyone quiet",
            &[("inactive_months", "24"), ("keep_open_tickets", "")],
        )
        .await;
    assert!(!everyone.criteria.keep_open_tickets);
    let preview = app
        .db(move |conn| {
            customer_desk::retention::preview(
                conn,
                &everyone,
                customer_desk::retention::run::today(),
            )
            .unwrap()
        })
        .await;
    assert_eq!(preview.bulk.confirmed.customers(), 2, "Open and Other");
}

async fn a_customer_active_again_is_kept_by_the_next_run(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = customer(&app, "First", "Acme", 13, Related::default()).await;
    let rule = app.add_rule("Quiet", &[]).await;
    activate(&app.admin, rule.id, true)
        .await
        .1
        .assert_status(303);
    app.wait_for_job(app.rule("Quiet").await.unwrap().last_job.unwrap().0)
        .await;
    assert_eq!(app.row_counts_of(first).await.customers, 0);

    let quiet = customer(&app, "Quiet", "Acme", 13, Related::default()).await;
    let back = customer(&app, "Back", "Acme", 13, Related::default()).await;
    // Back writes in a live chat: active again.
    app.give(
        back,
        Related {
            chats: 1,
            messages_per_chat: 1,
            ..Default::default()
        },
    )
    .await;
    let outcomes = run_now(&app).await;
    let [(name, RunOutcome::Started { job, customers })] = outcomes.as_slice() else {
        panic!("one run started: {outcomes:?}");
    };
    assert_eq!((name.as_str(), *customers), ("Quiet", 1));
    app.wait_for_job(job.0).await;
    assert_eq!(app.row_counts_of(quiet).await.customers, 0);
    let kept = app.row_counts_of(back).await;
    assert_eq!((kept.customers, kept.chats, kept.chat_messages), (1, 1, 1));
    let records = app.deletion_records().await;
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.6 == "Retention rule: Quiet"));
}

async fn the_safety_limit_pauses_a_run_and_deletes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_customer("Busy", "Bee", "busy@example.com", "Acme")
        .await;
    let rule = app
        .add_rule("Limited", &[("max_customers", "2"), ("max_percent", "100")])
        .await;
    // Nobody matches when it is activated: active, nothing deleted.
    activate(&app.admin, rule.id, true)
        .await
        .1
        .assert_status(303);
    assert_eq!(app.rule("Limited").await.unwrap().state, RuleState::Active);
    assert_eq!(app.job_count().await, 0);

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
        customer(&app, "Three", "Acme", 20, Related::default()).await,
    ];
    let before = app.row_counts().await;
    let outcomes = run_now(&app).await;
    let [(_, RunOutcome::Paused { reason })] = outcomes.as_slice() else {
        panic!("the run paused: {outcomes:?}");
    };
    assert!(reason.contains("would delete 3 customers of 4"), "{reason}");
    assert_eq!(app.row_counts().await, before, "nothing deleted");
    assert_eq!(app.job_count().await, 0);
    let paused = app.rule("Limited").await.unwrap();
    assert_eq!(paused.state, RuleState::Paused);
    // A paused rule does not run again by itself.
    assert!(run_now(&app).await.is_empty());
    assert_eq!(app.row_counts().await, before);
    app.get(RULES)
        .await
        .assert_contains("Paused: This run would delete 3 customers of 4")
        .assert_contains("Review paused run");

    // An administrator confirms that run: it deletes what the confirmation showed.
    let (confirmation, confirmed) = activate(&app.admin, rule.id, true).await;
    confirmation
        .assert_contains("Confirm the paused run of Limited?")
        .assert_contains("Activating confirms this run anyway");
    confirmed.assert_status(303);
    let rule = app.rule("Limited").await.unwrap();
    assert_eq!(rule.state, RuleState::Active);
    app.wait_for_job(rule.last_job.unwrap().0).await;
    for id in quiet {
        assert_eq!(app.row_counts_of(id).await.customers, 0);
    }
    assert_eq!(app.row_counts().await.customers, 1);
}

async fn the_scheduler_runs_each_active_rule_once_per_interval(backend: Backend) {
    let app = spawn_signed_in_with_settings(backend, |settings| {
        settings.retention = RetentionSettings {
            poll: Duration::from_millis(100),
            ..RetentionSettings::every(Duration::from_secs(60))
        };
    })
    .await;
    let rule = app.add_rule("Quiet", &[]).await;
    activate(&app.admin, rule.id, true)
        .await
        .1
        .assert_status(303);
    let quiet = customer(&app, "Quiet", "Acme", 20, Related::default()).await;
    // It ran at activation: not again within the interval.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(app.job_count().await, 0);
    assert_eq!(app.row_counts_of(quiet).await.customers, 1);
    // A minute later (its last run moved back), the scheduler runs it.
    app.db(|conn| {
        diesel::sql_query(format!(
            "UPDATE retention_runs SET last_run_at = '{}'",
            (customer_desk::db::now() - chrono::TimeDelta::seconds(61)).format("%Y-%m-%d %H:%M:%S")
        ))
        .execute(conn)
        .unwrap()
    })
    .await;
    for _ in 0..100 {
        if app.row_counts_of(quiet).await.customers == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.row_counts_of(quiet).await.customers, 0);
    assert_eq!(app.job_count().await, 1);
    let records = app.deletion_records().await;
    assert_eq!(records[0].6, "Retention rule: Quiet");
}
