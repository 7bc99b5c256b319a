//! `GET /healthz`: 200 when the database answers, 503 when it does not.

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;

use crate::db::DbPool;

pub async fn healthz(pool: web::Data<DbPool>) -> HttpResponse {
    let checked = super::with_db(&pool, |conn| conn.batch_execute("SELECT 1")).await;
    match checked {
        Ok(Ok(())) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ok\n"),
        Ok(Err(error)) => unavailable(&error.to_string()),
        Err(error) => unavailable(&error.to_string()),
    }
}

fn unavailable(error: &str) -> HttpResponse {
    tracing::error!(error, "health check failed");
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain; charset=utf-8")
        .body("database unavailable\n")
}
