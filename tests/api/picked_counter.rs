//! The counter's "N selected" of picked customers is kept between page views
//! (`cache/picked.rs`): it must still be exact after every write through the app, and show a
//! deletion by another process within `PickedCounts::LIFE`.

use customer_desk::cache::PickedCounts;
use customer_desk::schema::customers;
use diesel::prelude::*;

use crate::helpers::{spawn_app, Backend, ListForm, TestApp};
use crate::on_both_backends;

on_both_backends!(picked_count_follows_deletions_and_edits);

async fn counter(app: &TestApp) -> String {
    let page = app.get("/people/customers").await;
    page.assert_status(200);
    let body = &page.body;
    let at = body
        .find("selection-count")
        .expect("the list shows the selection counter");
    let end = body[at..].find("</strong>").map_or(at, |e| at + e);
    body[at..end]
        .rsplit('>')
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn picked_count_follows_deletions_and_edits(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let id = app
            .add_customer(
                "Pia",
                &format!("Picked{n}"),
                &format!("p{n}@picked.example"),
                "Pk",
            )
            .await;
        ids.push(id);
    }
    let mut form = ListForm::from_page(&app.get("/people/customers").await);
    for id in &ids[..4] {
        form.tick(*id, true);
    }
    form.submit(&app.admin, None).await.assert_status(303);
    assert_eq!(counter(&app).await, "4 selected");
    // Counted again or kept, the same.
    assert_eq!(counter(&app).await, "4 selected");

    // An edit of a picked customer keeps them picked and existing.
    app.post_form(
        &format!("/people/customers/{}/edit", ids[1]),
        &[
            ("first_name", "Pia"),
            ("last_name", "Renamed"),
            ("email", "renamed@picked.example"),
            ("organisation", "Pk"),
        ],
    )
    .await
    .assert_status(303);
    assert_eq!(counter(&app).await, "4 selected");

    // Deleting a customer who is not picked changes nothing; deleting a picked one shows at once.
    app.delete_customer(ids[4]).await;
    assert_eq!(counter(&app).await, "4 selected");
    app.delete_customer(ids[1]).await;
    assert_eq!(counter(&app).await, "3 selected");
    assert_eq!(counter(&app).await, "3 selected");

    // Another process (here the test's own connection) deletes a picked customer: the app's
    // write log never hears of it. The count just taken is used again (which shows it is kept:
    // counted afresh it would read 2), and shows the deletion once its life is over.
    let gone = ids[2];
    app.db(move |conn| {
        diesel::delete(customers::table.find(gone))
            .execute(conn)
            .unwrap()
    })
    .await;
    assert_eq!(counter(&app).await, "3 selected");
    tokio::time::sleep(PickedCounts::LIFE + std::time::Duration::from_millis(200)).await;
    assert_eq!(counter(&app).await, "2 selected");
}
