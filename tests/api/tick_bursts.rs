//! No tick is lost or miscounted: bursts of overlapping tick requests, as quick `x` presses send
//! them, against a server with two workers. Each request carries the whole page's boxes as the
//! browser saw them when it sent it (older than the last ones), and says which one box changed.

use tokio::task::JoinSet;

use crate::helpers::{spawn_app, Backend, ListForm, TestApp};
use crate::on_both_backends;

on_both_backends!(
    overlapping_ticks_all_count,
    all_keeps_picks_outside_the_search
);

/// Sends one htmx tick per (id, on) at once; `seen` is the page's ticked boxes as each request
/// carries them (a stale view: the browser had not yet seen the others' answers).
async fn burst(app: &TestApp, form: &ListForm, seen: &[i64], changes: &[(i64, bool)]) {
    let token = app.admin.csrf_token().await;
    let mut requests = JoinSet::new();
    for &(id, on) in changes {
        let mut fields = form.fields.clone();
        let mut ticked: Vec<i64> = seen.iter().copied().filter(|t| *t != id).collect();
        if on {
            ticked.push(id);
        }
        fields.extend(ticked.iter().map(|t| ("ids".to_owned(), t.to_string())));
        fields.push(("action".into(), "tick".into()));
        fields.push(("tick".into(), id.to_string()));
        let request = app
            .admin
            .client
            .post(app.admin.url("/people/customers/selection"))
            .header("HX-Request", "true")
            .header("X-CSRF-Token", token.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&fields).unwrap());
        requests.spawn(async move { request.send().await.unwrap().status().as_u16() });
    }
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
}

async fn ticked_now(app: &TestApp) -> (Vec<i64>, String) {
    let page = app.get("/people/customers").await;
    let mut ticked = ListForm::from_page(&page).ticked();
    ticked.sort();
    (ticked, page.body)
}

fn sorted(ids: &[i64]) -> Vec<i64> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}

async fn overlapping_ticks_all_count(backend: Backend) {
    let app = spawn_app(backend).await;
    app.add_many_customers(40, "Burst").await;
    let form = ListForm::from_page(&app.get("/people/customers").await);
    let ids = form.ids();
    assert_eq!(ids.len(), 40);

    for round in 0..3 {
        // Tick 24 rows at once, each request seeing none of the others.
        let on: Vec<(i64, bool)> = ids[..24].iter().map(|&id| (id, true)).collect();
        burst(&app, &form, &[], &on).await;
        let (ticked, body) = ticked_now(&app).await;
        assert_eq!(ticked, sorted(&ids[..24]), "round {round}");
        assert!(body.contains("24 selected"), "round {round}");

        // Untick 12 of them and tick 8 more, at once, each seeing the page before the burst.
        let mut changes: Vec<(i64, bool)> = ids[..12].iter().map(|&id| (id, false)).collect();
        changes.extend(ids[24..32].iter().map(|&id| (id, true)));
        burst(&app, &form, &ids[..24], &changes).await;
        let (ticked, body) = ticked_now(&app).await;
        assert_eq!(ticked, sorted(&ids[12..32]), "round {round}");
        assert!(body.contains("20 selected"), "round {round}");

        let cleared = ListForm::from_page(&app.get("/people/customers").await)
            .submit(&app.admin, Some(("action", "clear")))
            .await;
        cleared.assert_status(303);
    }
}

/// "All (N)" on a search keeps the customers picked before outside it, and says so.
async fn all_keeps_picks_outside_the_search(backend: Backend) {
    let app = spawn_app(backend).await;
    for n in 0..5 {
        app.add_customer(
            "Ann",
            &format!("Acme{n}"),
            &format!("ann{n}@acme.example"),
            "Acme",
        )
        .await;
    }
    let others: Vec<i64> = {
        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(
                app.add_customer(
                    "Bo",
                    &format!("Globex{n}"),
                    &format!("bo{n}@globex.example"),
                    "Globex",
                )
                .await,
            );
        }
        ids
    };
    // Two Globex customers and one Acme customer picked one by one.
    let mut form = ListForm::from_page(&app.get("/people/customers").await);
    let acme_one = form
        .ids()
        .into_iter()
        .find(|id| !others.contains(id))
        .unwrap();
    form.tick(others[0], true)
        .tick(others[1], true)
        .tick(acme_one, true);
    form.submit(&app.admin, None).await.assert_status(303);
    // Then All on the search "acme".
    let searched = app.get("/people/customers?q=acme").await;
    ListForm::from_page(&searched)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
    let page = app.get("/people/customers?q=acme").await;
    page.assert_contains("7 selected");
    page.assert_contains("5 matching “acme” and 2 others");
    let all = app.get("/people/customers").await;
    let mut ticked = ListForm::from_page(&all).ticked();
    ticked.sort();
    assert_eq!(ticked.len(), 7);
    assert!(ticked.contains(&others[0]) && ticked.contains(&others[1]));
    assert!(!ticked.contains(&others[2]));
}
