//! Metrics in the Prometheus text format, through the `metrics` facade. Nothing is recorded
//! unless `serve --metrics-bind` installed the recorder ([`install`]): the macros are then
//! no-ops, so the hooks below cost nothing when metrics are off. The text is served by
//! [`server`] on its own address, never on the app's. Every metric is listed in
//! docs/operations.md; labels never carry ids, names or query strings.

pub mod server;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::domain::deletion_counts::DeletionCounts;

pub const HTTP_REQUESTS: &str = "desk_http_requests_total";
pub const HTTP_DURATION: &str = "desk_http_request_duration_seconds";
pub const POOL_CONNECTIONS: &str = "desk_db_pool_connections";
pub const POOL_WAITING: &str = "desk_db_pool_waiting";
pub const DELETION_JOBS: &str = "desk_deletion_jobs";
pub const CUSTOMERS_DELETED: &str = "desk_customers_deleted_total";
pub const ROWS_DELETED: &str = "desk_rows_deleted_total";
pub const BATCH_DURATION: &str = "desk_deletion_batch_duration_seconds";
pub const SIGN_IN_REFUSED: &str = "desk_sign_in_refused_total";
pub const SESSIONS: &str = "desk_sessions";
pub const WAL_BYTES: &str = "desk_sqlite_wal_bytes";
pub const BACKUPS: &str = "desk_backups_total";
pub const WRITE_TURN_WAIT: &str = "desk_write_turn_wait_seconds";
pub const WRITE_TURN_HELD: &str = "desk_write_turn_held_seconds";

/// Whether [`install`] ran: without it the request middleware does not even look at the route.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// The route label of a request that matched no route (a 404): a fixed word, never the path.
pub const UNMATCHED: &str = "unmatched";

/// Latency buckets (seconds) for every `_seconds` histogram: pages take milliseconds, a
/// deletion batch up to seconds.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Buckets for SQLite's writers' line: a turn is held for a millisecond or two.
const TURN_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
];

/// Installs the process-wide recorder (once; `serve` calls it when `--metrics-bind` is set) and
/// describes every metric, so that the scrape shows HELP lines.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Prefix("desk_write_turn_".into()), TURN_BUCKETS)?
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)?
        .install_recorder()?;
    ENABLED.store(true, Ordering::Relaxed);
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route pattern and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by method and route pattern"
    );
    describe_gauge!(
        POOL_CONNECTIONS,
        "Database pool connections, by state (in_use, idle)"
    );
    describe_gauge!(
        POOL_WAITING,
        "Requests waiting for a database connection from the pool"
    );
    describe_gauge!(
        DELETION_JOBS,
        "Bulk deletion jobs not finished, by status (queued, running), in the database"
    );
    describe_counter!(
        CUSTOMERS_DELETED,
        "Customers deleted by this instance, by kind (single, bulk)"
    );
    describe_counter!(
        ROWS_DELETED,
        "Rows deleted with customers by this instance, by table"
    );
    describe_histogram!(
        BATCH_DURATION,
        metrics::Unit::Seconds,
        "Time of one bulk deletion batch (one transaction)"
    );
    describe_counter!(
        SIGN_IN_REFUSED,
        "Sign-ins refused, by reason (wrong_credentials, throttled, busy)"
    );
    describe_gauge!(SESSIONS, "Unexpired sessions in the session store");
    describe_gauge!(
        WAL_BYTES,
        "Size of the SQLite WAL file, sampled by the maintenance thread"
    );
    describe_counter!(
        BACKUPS,
        "Backups written before bulk deletions, by outcome (written, failed)"
    );
    describe_histogram!(
        WRITE_TURN_WAIT,
        metrics::Unit::Seconds,
        "SQLite: time a writer waited for its turn in the writers' line, by writer (request, session, deletion)"
    );
    describe_histogram!(
        WRITE_TURN_HELD,
        metrics::Unit::Seconds,
        "SQLite: time a writer held its turn (its write, including the wait for SQLite's lock), by writer"
    );
    Ok(handle)
}

/// Middleware: counts and times every request by method, route pattern (such as
/// `/people/customers/{id}`, never the path itself) and status.
pub async fn record_request<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    if !ENABLED.load(Ordering::Relaxed) {
        return next.call(request).await;
    }
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .match_pattern()
        .unwrap_or_else(|| UNMATCHED.to_owned());
    let response = next.call(request).await?;
    let status = response.status().as_u16().to_string();
    counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    histogram!(HTTP_DURATION, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    Ok(response)
}

/// The method as a label: the ones the app answers, and `other` for the rest, so that a client
/// inventing methods cannot create new series.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        _ => "other",
    }
}

/// Customers and their rows deleted, after the transaction that deleted them committed.
pub fn deleted(kind: &'static str, counts: &DeletionCounts) {
    counter!(CUSTOMERS_DELETED, "kind" => kind).increment(counts.customers.max(0) as u64);
    for (table, rows) in [
        ("tickets", counts.tickets),
        ("chat_conversations", counts.chats),
        ("notes", counts.notes),
    ] {
        counter!(ROWS_DELETED, "table" => table).increment(rows.max(0) as u64);
    }
}

/// One bulk deletion batch took this long.
pub fn batch_took(took: Duration) {
    histogram!(BATCH_DURATION).record(took.as_secs_f64());
}

/// A writer waited this long for its turn in SQLite's writers' line.
pub fn write_turn_waited(writer: &'static str, took: Duration) {
    histogram!(WRITE_TURN_WAIT, "writer" => writer).record(took.as_secs_f64());
}

/// A writer held its turn this long.
pub fn write_turn_held(writer: &'static str, took: Duration) {
    histogram!(WRITE_TURN_HELD, "writer" => writer).record(took.as_secs_f64());
}

/// A sign-in was refused with this status: 401 wrong credentials, 429 throttled (per address,
/// device or account), 503 the password checker was busy.
pub fn sign_in_refused(status: actix_web::http::StatusCode) {
    let reason = match status.as_u16() {
        401 => "wrong_credentials",
        429 => "throttled",
        503 => "busy",
        _ => return,
    };
    counter!(SIGN_IN_REFUSED, "reason" => reason).increment(1);
}

/// The SQLite WAL's size, as the maintenance thread found it.
pub fn wal_bytes(bytes: u64) {
    gauge!(WAL_BYTES).set(bytes as f64);
}

/// A backup before a bulk deletion was written, or failed.
pub fn backup(written: bool) {
    let outcome = if written { "written" } else { "failed" };
    counter!(BACKUPS, "outcome" => outcome).increment(1);
}

/// Held while a request waits for a connection from the pool: the waiting gauge counts it.
pub struct WaitingForConnection(());

impl WaitingForConnection {
    pub fn start() -> Self {
        gauge!(POOL_WAITING).increment(1.0);
        Self(())
    }
}

impl Drop for WaitingForConnection {
    fn drop(&mut self) {
        gauge!(POOL_WAITING).decrement(1.0);
    }
}
