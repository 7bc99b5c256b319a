//! The metrics address (`serve --metrics-bind`): one small actix server with one worker that
//! answers `GET /metrics` with the Prometheus text, and nothing else. Gauges that live in the
//! database (jobs, sessions) and the pool's state are sampled at scrape time.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use diesel::dsl::count_star;
use diesel::prelude::*;
use metrics::gauge;
use metrics_exporter_prometheus::PrometheusHandle;

use super::{DELETION_JOBS, POOL_CONNECTIONS, SESSIONS};
use crate::db::{now, DbConn, DbPool};
use crate::jobs::JobStatus;
use crate::schema::{deletion_jobs, sessions};

/// How long a scrape waits for a database connection before it answers without the database's
/// gauges (they keep their last values): a busy pool must not make the scrape hang.
const SAMPLE_WAIT: Duration = Duration::from_secs(1);

struct Scrape {
    pool: DbPool,
    handle: PrometheusHandle,
}

pub fn serve(
    listener: TcpListener,
    pool: DbPool,
    handle: PrometheusHandle,
) -> std::io::Result<Server> {
    let scrape = web::Data::new(Scrape { pool, handle });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(scrape.clone())
            .route("/metrics", web::get().to(metrics))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

async fn metrics(scrape: web::Data<Scrape>) -> HttpResponse {
    let sampled = scrape.clone();
    // Database work off the async thread; a failure only leaves those gauges as they were.
    let _ = web::block(move || sample(&sampled.pool)).await;
    scrape.handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(scrape.handle.render())
}

fn sample(pool: &DbPool) {
    let state = pool.state();
    let idle = f64::from(state.idle_connections);
    gauge!(POOL_CONNECTIONS, "state" => "in_use").set(f64::from(state.connections) - idle);
    gauge!(POOL_CONNECTIONS, "state" => "idle").set(idle);
    let Ok(mut conn) = pool.get_timeout(SAMPLE_WAIT) else {
        return;
    };
    if let Ok((queued, running)) = unfinished_jobs(&mut conn) {
        gauge!(DELETION_JOBS, "status" => "queued").set(queued as f64);
        gauge!(DELETION_JOBS, "status" => "running").set(running as f64);
    }
    if let Ok(count) = sessions::table
        .filter(sessions::expires_at.gt(now()))
        .select(count_star())
        .get_result::<i64>(&mut conn)
    {
        gauge!(SESSIONS).set(count as f64);
    }
}

/// Jobs queued and running, in the database (so across every instance).
fn unfinished_jobs(conn: &mut DbConn) -> QueryResult<(i64, i64)> {
    let rows: Vec<(String, i64)> = deletion_jobs::table
        .filter(deletion_jobs::status.eq_any(JobStatus::UNFINISHED.map(JobStatus::as_str)))
        .group_by(deletion_jobs::status)
        .select((deletion_jobs::status, count_star()))
        .load(conn)?;
    let of = |status: JobStatus| {
        rows.iter()
            .filter(|(s, _)| s == status.as_str())
            .map(|(_, n)| *n)
            .sum::<i64>()
    };
    Ok((of(JobStatus::Queued), of(JobStatus::Running)))
}
