//! What you confirm is what is deleted, exactly: a set that swapped members with equal id sums,
//! data added between the confirmation and the submit, data arriving while the job runs, and two
//! tabs of one confirmation.

use customer_desk::jobs::{Worker, WorkerSettings};

use crate::bulk_deletion::job_id;
use crate::helpers::{
    bulk_confirmation_fields, spawn_app, spawn_app_with_worker, Backend, ListForm, Page, Related,
    TestApp,
};
use crate::on_both_backends;
use crate::small_deletion::finished_in_request;

on_both_backends!(
    a_swap_with_equal_id_sums_is_told_apart,
    data_added_after_the_confirmation_is_confirmed_again,
    data_arriving_while_the_job_runs_goes_with_its_customer_and_is_reported,
    two_tabs_of_one_confirmation_start_one_job,
    a_second_tab_submitted_later_finds_the_first_deletion,
);

const SOME: Related = Related {
    tickets: 2,
    trashed_tickets: 1,
    messages_per_ticket: 1,
    chats: 1,
    messages_per_chat: 1,
    notes: 1,
};

const A_TICKET: Related = Related {
    tickets: 1,
    trashed_tickets: 0,
    messages_per_ticket: 1,
    chats: 0,
    messages_per_chat: 0,
    notes: 0,
};

const A_NOTE: Related = Related {
    tickets: 0,
    trashed_tickets: 0,
    messages_per_ticket: 0,
    chats: 0,
    messages_per_chat: 0,
    notes: 1,
};

/// The fingerprint this product used before: count, sum of ids and a sum of a linear mix.
fn old_fingerprint(ids: &[i64]) -> (usize, i64, i64) {
    let mix = |id: i64| ((id as i128 * 2_654_435_761) % 1_000_000_007) as i64;
    (
        ids.len(),
        ids.iter().sum(),
        ids.iter().map(|&id| mix(id)).sum(),
    )
}

async fn set_organisation(app: &TestApp, id: i64, organisation: &str) {
    app.post_form(
        &format!("/people/customers/{id}/edit"),
        &[
            ("first_name", "Given"),
            ("last_name", &format!("Person{id}")),
            ("email", &format!("person{id}@example.com")),
            ("organisation", organisation),
        ],
    )
    .await
    .assert_status(303);
}

/// Selects every customer matching `q` and returns the confirmation's fields, ticked.
async fn select_all_and_confirm(app: &TestApp, q: &str) -> Vec<(String, String)> {
    let search = app.get(&format!("/people/customers?q={q}")).await;
    ListForm::from_page(&search)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
    confirmation_fields(app).await
}

async fn confirmation_fields(app: &TestApp) -> Vec<(String, String)> {
    let confirmation = app.get("/people/customers/selection/delete").await;
    confirmation.assert_status(200);
    let mut fields = bulk_confirmation_fields(&confirmation);
    fields.push(("understood".into(), "yes".into()));
    fields
}

async fn submit(app: &TestApp, fields: &[(String, String)]) -> Page {
    app.admin
        .post_fields("/people/customers/selection/delete", fields)
        .await
}

/// The attack of the review: two customers move out of an "All matching" search and two others
/// in, with the same count and id sum (and the same old fingerprint), between the confirmation
/// and the submit. The confirmation named the first two; nothing may be deleted.
async fn a_swap_with_equal_id_sums_is_told_apart(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ids = Vec::new();
    for n in 0..12 {
        let id = app
            .add_customer(
                "Given",
                &format!("Person{n}"),
                &format!("seed{n}@example.com"),
                "Elsewhere",
            )
            .await;
        ids.push(id);
    }
    // Two disjoint pairs that the old fingerprint cannot tell apart.
    let mut swap = None;
    'search: for a in 0..ids.len() {
        for b in a + 1..ids.len() {
            for c in 0..ids.len() {
                for d in c + 1..ids.len() {
                    let distinct = ![a, b].contains(&c) && ![a, b].contains(&d);
                    let (shown, swapped) = ([ids[a], ids[b]], [ids[c], ids[d]]);
                    if distinct && old_fingerprint(&shown) == old_fingerprint(&swapped) {
                        swap = Some((shown, swapped));
                        break 'search;
                    }
                }
            }
        }
    }
    let (shown, swapped) = swap.expect("consecutive ids have colliding pairs");
    for id in shown {
        set_organisation(&app, id, "Collide Ltd").await;
    }
    let fields = select_all_and_confirm(&app, "collide").await;
    assert!(fields.contains(&("count".into(), "2".into())));

    // Meanwhile (an agent could do this): the shown two move out, two others move in.
    for id in shown {
        set_organisation(&app, id, "Elsewhere").await;
    }
    for id in swapped {
        set_organisation(&app, id, "Collide Ltd").await;
    }
    let before = app.row_counts().await;
    submit(&app, &fields)
        .await
        .assert_status(409)
        .assert_contains("nothing was deleted")
        .assert_contains(&format!("Given Person{}", swapped[0]));
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.job_count().await, 0);
    for id in shown.into_iter().chain(swapped) {
        assert_eq!(app.row_counts_of(id).await.customers, 1);
    }
}

/// A ticket and a note added to selected customers after the confirmation was shown: the counts
/// are part of what was confirmed, so nothing is deleted and the new numbers are shown.
async fn data_added_after_the_confirmation_is_confirmed_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let id = app
            .add_customer(
                "Given",
                &format!("Initech{n}"),
                &format!("i{n}@initech.example"),
                "Initech",
            )
            .await;
        app.give(id, SOME).await;
        ids.push(id);
    }
    let fields = select_all_and_confirm(&app, "initech").await;
    assert!(fields.contains(&("tickets".into(), "6".into())));

    app.give(ids[0], A_TICKET).await;
    app.give(ids[1], A_NOTE).await;
    let before = app.row_counts().await;
    submit(&app, &fields)
        .await
        .assert_status(409)
        .assert_contains("nothing was deleted")
        .assert_contains(
            "7 tickets (3 in the trash), 3 live chat conversations and 4 notes will be \
             permanently deleted",
        );
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.job_count().await, 0);

    // Confirmed again with the new numbers: exactly that goes (in the request: one batch).
    let submitted = submit(&app, &confirmation_fields(&app).await).await;
    let finished = finished_in_request(&app, &submitted).await;
    assert_eq!(
        finished.flash,
        "Deleted 3 customers with 7 tickets, 3 live chat conversations and 4 notes. View details"
    );
    let job = finished.job;
    let after = app.row_counts().await;
    assert_eq!(after.customers, 0);
    assert_eq!(after.tickets, 0);
    assert_eq!(after.notes, 0);
    assert_eq!(app.inconsistent_rows().await, 0);
    let record = &app.deletion_records().await[0];
    assert_eq!((record.1, record.2, record.3, record.4), (3, 7, 3, 4));
    app.get(&format!("/people/customers/deletions/{job}"))
        .await
        .assert_lacks("after the confirmation");
}

/// Data that arrives for a customer already frozen into a job goes with that customer (never a
/// half-deleted customer), and the summary says so.
async fn data_arriving_while_the_job_runs_goes_with_its_customer_and_is_reported(backend: Backend) {
    let app = spawn_app_with_worker(backend, false).await;
    let mut ids = Vec::new();
    for n in 0..2 {
        let id = app
            .add_customer(
                "Given",
                &format!("Hooli{n}"),
                &format!("h{n}@hooli.example"),
                "Hooli",
            )
            .await;
        app.give(id, SOME).await;
        ids.push(id);
    }
    let fields = select_all_and_confirm(&app, "hooli").await;
    let job = job_id(&submit(&app, &fields).await);
    // The job is frozen and queued (no worker yet): a ticket arrives for one of its customers.
    app.give(ids[1], A_TICKET).await;
    let worker = Worker::spawn(
        app.pool.clone(),
        WorkerSettings {
            batch_size: 1,
            poll: std::time::Duration::from_millis(20),
            ..Default::default()
        },
        app.state.clone(),
    );
    app.wait_for_job(job).await;
    drop(worker);
    for id in &ids {
        let left = app.row_counts_of(*id).await;
        assert_eq!(
            (
                left.customers,
                left.tickets,
                left.ticket_messages,
                left.notes
            ),
            (0, 0, 0, 0)
        );
    }
    assert_eq!(app.inconsistent_rows().await, 0);
    assert_eq!(app.deletion_records().await[0].2, 5);
    app.get(&format!("/people/customers/deletions/{job}"))
        .await
        .assert_status(200)
        .assert_contains("Deleted 2 customers with 5 tickets")
        .assert_contains("including 1 ticket created after the confirmation");
}

/// Two tabs of one confirmation submitted at the same moment: one job, one record; the other
/// tab is told that these customers were already deleted and where.
async fn two_tabs_of_one_confirmation_start_one_job(backend: Backend) {
    let app = spawn_app(backend).await;
    for n in 0..10 {
        let id = app
            .add_customer(
                "Given",
                &format!("Umbrella{n}"),
                &format!("u{n}@umbrella.example"),
                "Umbrella",
            )
            .await;
        app.give(id, SOME).await;
    }
    let first_tab = select_all_and_confirm(&app, "umbrella").await;
    let second_tab = confirmation_fields(&app).await;
    assert_ne!(first_tab, second_tab, "each tab has its own one-time token");
    let (a, b) = tokio::join!(submit(&app, &first_tab), submit(&app, &second_tab));
    let (started, refused) = if a.status == 303 { (a, b) } else { (b, a) };
    let job = job_id(&started);
    refused
        .assert_status(409)
        .assert_contains("These customers were already deleted")
        .assert_contains(&format!("href=\"/people/customers/deletions/{job}\""));
    app.wait_for_job(job).await;
    assert_eq!(app.job_count().await, 1);
    let records = app.deletion_records().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].1, 10);
}

/// The second tab submitted after the first deletion has finished: no second job, no
/// "Bulk, 0 customers" record.
async fn a_second_tab_submitted_later_finds_the_first_deletion(backend: Backend) {
    let app = spawn_app(backend).await;
    for n in 0..3 {
        app.add_customer(
            "Given",
            &format!("Soylent{n}"),
            &format!("s{n}@soylent.example"),
            "Soylent",
        )
        .await;
    }
    let first_tab = select_all_and_confirm(&app, "soylent").await;
    let second_tab = confirmation_fields(&app).await;
    let job = finished_in_request(&app, &submit(&app, &first_tab).await)
        .await
        .job;
    submit(&app, &second_tab)
        .await
        .assert_status(409)
        .assert_contains("These customers were already deleted")
        .assert_contains(&format!("href=\"/people/customers/deletions/{job}\""));
    assert_eq!(app.job_count().await, 1);
    assert_eq!(app.deletion_records().await.len(), 1);
}
