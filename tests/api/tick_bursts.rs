//! No tick is lost or miscounted: bursts of overlapping tick requests, as quick `x` presses send
//! them, against a server with two workers. Each request carries the whole page's boxes as the
//! browser saw them when it sent it (older than the last ones), and says which one box changed.

use tokio::task::JoinSet;

use crate::helpers::{spawn_app, Backend, ListForm, TestApp};
use crate::on_both_backends;

on_both_backends!(overlapping_ticks_all_count);

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
