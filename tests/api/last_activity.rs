//! A customer's last activity is never before their creation, whoever writes either column;
//! lists of inactive customers sorted by creation rely on it (their page is read from the
//! creation index starting at the filter's day) and list exactly whom SQL lists, in its order.

use chrono::NaiveDateTime;
use customer_desk::schema::customers;
use diesel::prelude::*;

use crate::helpers::{spawn_app, Backend, ListForm, TestApp};
use crate::on_both_backends;

on_both_backends!(
    last_activity_never_precedes_creation,
    inactive_customers_sorted_by_creation_are_whom_sql_lists,
);

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
}

async fn created_and_active(app: &TestApp, id: i64) -> (NaiveDateTime, NaiveDateTime) {
    app.db(move |conn| {
        customers::table
            .find(id)
            .select((customers::created_at, customers::last_active_at))
            .first(conn)
            .unwrap()
    })
    .await
}

async fn last_activity_never_precedes_creation(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .add_customer("Ada", "Allen", "ada@acme.example", "Acme")
        .await;
    // Another system writes the column back before the creation: it stays at the creation.
    app.db(move |conn| {
        diesel::update(customers::table.find(id))
            .set(customers::last_active_at.eq(at("2001-01-01 00:00:00")))
            .execute(conn)
            .unwrap()
    })
    .await;
    let (created, active) = created_and_active(&app, id).await;
    assert_eq!(active, created);
    // Both written at once, activity before creation: the creation wins.
    app.db(move |conn| {
        diesel::update(customers::table.find(id))
            .set((
                customers::created_at.eq(at("2020-06-01 00:00:00")),
                customers::last_active_at.eq(at("2020-01-01 00:00:00")),
            ))
            .execute(conn)
            .unwrap()
    })
    .await;
    assert_eq!(
        created_and_active(&app, id).await,
        (at("2020-06-01 00:00:00"), at("2020-06-01 00:00:00"))
    );
    // A later activity is kept as written.
    app.db(move |conn| {
        diesel::update(customers::table.find(id))
            .set(customers::last_active_at.eq(at("2021-01-01 00:00:00")))
            .execute(conn)
            .unwrap()
    })
    .await;
    assert_eq!(
        created_and_active(&app, id).await.1,
        at("2021-01-01 00:00:00")
    );
}

async fn inactive_customers_sorted_by_creation_are_whom_sql_lists(backend: Backend) {
    let app = spawn_app(backend).await;
    // Forty customers created a day apart through 2020, each last active 0–59 days after.
    app.add_many_customers(40, "Dated").await;
    app.db(|conn| {
        let ids: Vec<i64> = customers::table
            .select(customers::id)
            .order(customers::id)
            .load(conn)
            .unwrap();
        for (n, id) in ids.into_iter().enumerate() {
            let created = at("2020-01-01 12:00:00") + chrono::Duration::days(n as i64);
            let active = created + chrono::Duration::days((n as i64 * 37) % 60);
            diesel::update(customers::table.find(id))
                .set((
                    customers::created_at.eq(created),
                    customers::last_active_at.eq(active),
                ))
                .execute(conn)
                .unwrap();
        }
    })
    .await;
    let until = at("2020-02-01 00:00:00");
    for (sort, newest_first) in [("created", true), ("-created", false)] {
        let expected: Vec<i64> = app
            .db(move |conn| {
                let rows = customers::table
                    .filter(customers::last_active_at.lt(until))
                    .select(customers::id);
                if newest_first {
                    rows.order((customers::created_at.desc(), customers::id.desc()))
                        .load(conn)
                } else {
                    rows.order((customers::created_at.asc(), customers::id.asc()))
                        .load(conn)
                }
                .unwrap()
            })
            .await;
        assert!(expected.len() > 5 && expected.len() < 40, "{expected:?}");
        let page = app
            .get(&format!(
                "/people/customers?active_before=2020-02-01&sort={sort}"
            ))
            .await;
        page.assert_status(200);
        assert_eq!(ListForm::from_page(&page).ids(), expected, "sort={sort}");
    }
}
