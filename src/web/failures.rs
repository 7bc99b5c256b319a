//! Failures are honest: every request has an id and one log line, every failure becomes the
//! readable error page (with the usual headers, because it is a response, not an `Err`), and
//! failures where waiting helps (a locked, busy or full database, a lost connection) are 503
//! with `Retry-After`. See `startup.rs` for where each middleware sits.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

use super::error::ErrorPage;
use super::Layout;
use actix_web::FromRequest;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// What the database says when waiting and trying again may help, in lower case: SQLite's
/// lock, busy, full-disk and I/O errors, r2d2's pool timeout, a PostgreSQL connection that
/// is refused, lost or being shut down, and the writers' line full.
const TRANSIENT: &[&str] = &[
    "database is locked",
    "database table is locked",
    "database is busy",
    "database or disk is full",
    "disk i/o error",
    "timed out waiting for connection",
    "connection refused",
    "could not connect",
    "server closed the connection",
    "terminating connection",
    "the database system is shutting down",
    "the database system is starting up",
    "connection to server",
    "no connection to the server",
    "closed connection",
    // `db::NoTurn`: SQLite's writers' line is full (a session's write, from the session store).
    "other changes are being saved right now",
];

/// Whether an error message (with its causes) describes a failure worth retrying.
pub fn is_transient_message(message: &str) -> bool {
    let message = message.to_lowercase();
    TRANSIENT.iter().any(|m| message.contains(m))
}

/// Whether a Diesel error is worth retrying: a closed connection, or one of [`TRANSIENT`].
pub fn is_transient_db_error(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match error {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        Error::DatabaseError(_, info) => is_transient_message(info.message()),
        Error::BrokenTransactionManager => true,
        other => is_transient_message(&other.to_string()),
    }
}

/// Whether any error in an `anyhow` chain is worth retrying.
pub fn is_transient_chain(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<diesel::result::Error>()
            .is_some_and(is_transient_db_error)
            || cause.is::<diesel::r2d2::PoolError>()
            || is_transient_message(&cause.to_string())
    })
}

/// The status an `Err` from inside the app gets. Errors from actix-session (a session that
/// could not be loaded or written) are opaque 500s wrapping our store's error; their `Debug`
/// form carries the whole chain of causes, which names the database's failure.
pub fn status_of(error: &actix_web::Error) -> StatusCode {
    let status = error.as_response_error().status_code();
    if status.is_client_error() || status == StatusCode::SERVICE_UNAVAILABLE {
        status
    } else if is_transient_message(&format!("{error:?}")) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// The request's id, set by `tracing_actix_web::TracingLogger`.
pub fn request_id(request: &HttpRequest) -> Option<String> {
    request
        .extensions()
        .get::<RequestId>()
        .map(|id| id.to_string())
}

/// The root span of every request: its id, method and path. Never the query string: it may
/// hold a search for a person's name. Every log line of the request carries these fields.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.to_string())
            .unwrap_or_default();
        // At ERROR level so that the span (and its id) exists whatever the log filter.
        tracing::error_span!(
            "request",
            request_id = %id,
            method = %request.method(),
            path = request.path()
        )
    }

    fn on_request_end<B: MessageBody>(
        _span: Span,
        _outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        // The one line per request is written by `log_request`, which also knows the time.
    }
}

/// Middleware: one log line per request (status and milliseconds; the span adds the id,
/// method and path), and the `X-Request-Id` header.
pub async fn log_request(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(request.request());
    let mut response = match next.call(request).await {
        Ok(response) => response.map_into_boxed_body(),
        // `error_pages` turns errors into pages; this is only a safety net.
        Err(error) => {
            tracing::error!(error = %error, "request failed");
            ServiceResponse::new(detached_request(), error.error_response())
        }
    };
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    tracing::info!(
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    Ok(response)
}

/// Middleware, just outside the session middleware: an `Err` (a session that cannot be loaded
/// or written, or anything else that escaped a handler) becomes the readable error page, logged
/// with its cause, so that the headers and the request log apply to it; every 5xx page shows the
/// request id as its reference.
pub async fn error_pages(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let reference = request_id(request.request());
    match next.call(request).await {
        Ok(response) if response.status().is_server_error() && is_html(&response) => {
            Ok(with_reference(response.map_into_boxed_body(), reference))
        }
        Ok(response) => Ok(response.map_into_boxed_body()),
        Err(error) => {
            let status = status_of(&error);
            if status.is_client_error() {
                return Ok(ServiceResponse::new(
                    detached_request(),
                    error.error_response(),
                ));
            }
            let cause = log_text(&format!("{error:?}"));
            tracing::error!(status = status.as_u16(), error = cause, "request failed");
            let mut page = ErrorPage::for_status(status, None);
            page.layout.reference = reference;
            Ok(ServiceResponse::new(detached_request(), page.response()))
        }
    }
}

/// An error's causes for the log, on one line: without the backtrace that anyhow appends when
/// `RUST_BACKTRACE` is set, and at most 2,000 characters.
fn log_text(debug: &str) -> String {
    let causes = debug.split("Stack backtrace:").next().unwrap_or_default();
    causes
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(2_000)
        .collect()
}

/// A stand-in request for a response built from an `Err`: the request itself was moved into the
/// inner service, and holding a clone of it across routing is not allowed (the router needs the
/// only reference). The layers outside this one read only the response (the request id is
/// taken before the call, the span is the logger's), so nothing is lost.
fn detached_request() -> HttpRequest {
    actix_web::test::TestRequest::default().to_http_request()
}

fn is_html<B>(response: &ServiceResponse<B>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// The same 5xx page, rendered again with the reference; the original's headers are kept.
/// The headers of the response an error page replaces, but its body's: every cookie it set (the
/// session's, the message's), and the others once each.
fn keep_headers<B>(original: &HttpResponse<B>, page: &mut HttpResponse<BoxBody>) {
    let mut cookies_seen = false;
    for (name, value) in original.headers() {
        if name == header::CONTENT_TYPE || name == header::CONTENT_LENGTH {
            continue;
        }
        if name == header::SET_COOKIE {
            if !cookies_seen {
                page.headers_mut().remove(header::SET_COOKIE);
                cookies_seen = true;
            }
            page.headers_mut().append(name.clone(), value.clone());
        } else {
            page.headers_mut().insert(name.clone(), value.clone());
        }
    }
}

fn with_reference(
    response: ServiceResponse<BoxBody>,
    reference: Option<String>,
) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let (request, original) = response.into_parts();
    let mut page = ErrorPage::for_status(status, None);
    page.layout.reference = reference;
    let mut new = page.response();
    keep_headers(&original, &mut new);
    ServiceResponse::new(request, new)
}

/// Middleware, just inside the sign-in middleware: an error page for a signed-in person keeps
/// the signed-in header (their name, Deletion history, Sign out), as every other page does.
pub async fn error_pages_signed_in(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(request).await?.map_into_boxed_body();
    let Some(mut page) = response.response().extensions().get::<ErrorPage>().cloned() else {
        return Ok(response);
    };
    let Ok(mut layout) = Layout::extract(response.request()).into_inner() else {
        return Ok(response);
    };
    if layout.user.is_none() {
        return Ok(response);
    }
    layout.reference = page.layout.reference.take();
    page.layout = layout;
    let (request, original) = response.into_parts();
    let mut new = page.response();
    keep_headers(&original, &mut new);
    Ok(ServiceResponse::new(request, new))
}

/// Middleware: HEAD is answered as GET wherever GET is (actix-http sends the headers of a HEAD
/// response, with the length of its body, and never the body itself).
pub async fn head_as_get(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if request.method() == Method::HEAD {
        request.head_mut().method = Method::GET;
    }
    next.call(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_are_recognised() {
        for message in [
            "database is locked",
            "Failed to save session: Caused by: database or disk is full",
            "disk I/O error",
            "Timed out waiting for connection",
            "connection to server at \"127.0.0.1\", port 5432 failed: Connection refused",
            "FATAL: terminating connection due to administrator command",
        ] {
            assert!(is_transient_message(message), "{message}");
        }
        for message in [
            "UNIQUE constraint failed: customers.email",
            "FOREIGN KEY constraint failed",
            "template failed",
        ] {
            assert!(!is_transient_message(message), "{message}");
        }
    }

    #[test]
    fn wrapped_database_errors_are_classified_too() {
        use diesel::result::{DatabaseErrorKind, Error};
        let locked = Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("database is locked".to_owned()),
        );
        assert!(is_transient_db_error(&locked));
        let wrapped = anyhow::Error::from(locked).context("cannot store the selection");
        assert!(is_transient_chain(&wrapped));
        let unique = Error::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate key".to_owned()),
        );
        assert!(!is_transient_chain(&anyhow::Error::from(unique)));
        let closed = Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("server closed".to_owned()),
        );
        assert!(is_transient_db_error(&closed));
    }
}
