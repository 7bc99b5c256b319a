//! `GET /healthz` (and HEAD): 200 "ok" when the database answers a read and the background
//! probe (see `maintenance.rs`) wrote recently; 503 naming what failed otherwise. It never
//! writes itself, so anonymous requests cannot make the server write.

use actix_web::{web, HttpResponse};

use crate::db::DbPool;
use crate::maintenance::{self, Health};

pub async fn healthz(pool: web::Data<DbPool>, health: web::Data<Health>) -> HttpResponse {
    let read = match super::with_conn(&pool, maintenance::probe_read).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("reads failing: {error}")),
        Err(error) => Err(format!("reads failing: {error}")),
    };
    match read.and_then(|()| health.writes()) {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ok\n"),
        Err(problem) => {
            tracing::warn!(problem, "health check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain; charset=utf-8")
                .insert_header((
                    actix_web::http::header::RETRY_AFTER,
                    super::error::RETRY_AFTER_SECONDS.to_string(),
                ))
                .body(format!("{problem}\n"))
        }
    }
}
