//! Static files and `/healthz` never read the session store, even when the browser sends its
//! session cookie (it does with every stylesheet and script): with the sessions table gone,
//! they still answer, while a page that needs the session cannot.

use crate::helpers::{spawn_app, Backend};
use crate::on_both_backends;

on_both_backends!(assets_and_health_do_not_read_the_session);

async fn assets_and_health_do_not_read_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/people/customers").await.assert_status(200);
    app.db(|conn| {
        use diesel::RunQueryDsl;
        diesel::sql_query("ALTER TABLE sessions RENAME TO sessions_gone")
            .execute(conn)
            .unwrap();
    })
    .await;
    // The signed-in browser (its session cookie is sent with every request).
    app.get("/static/app.css").await.assert_status(200);
    app.get("/healthz").await.assert_status(200);
    let page = app.get("/people/customers").await;
    assert!(
        page.status >= 500,
        "the list needs the session store: {}",
        page.status
    );
}
