//! Middleware: a sign-in attempt from an address over its allowance is refused here, before the
//! session, the body and the sign-in form's cookie are read, and after a wait
//! (`LoginGuard::hold_refusal`), so that a flood of them costs as little as possible of what
//! signed-in people need. A browser holding a device cookie goes on
//! to the handler, which applies its own allowance; what this decided travels with the request.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use super::error::ErrorPage;
use super::login_guard::LoginGuard;

/// The per-address allowance as this middleware found it for a `POST /login`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressAllowance {
    /// `Some(seconds)`: over the limit (let through only for a device cookie).
    pub over_limit: Option<u64>,
}

/// "3 minutes": a wait in whole minutes, at least one.
pub fn minutes(seconds: u64) -> String {
    let minutes = seconds.div_ceil(60).max(1);
    format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
}

pub fn over_limit_message(seconds: u64) -> String {
    format!(
        "Too many sign-in attempts from your network. Try again in {}.",
        minutes(seconds)
    )
}

pub async fn refuse_over_limit(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let is_sign_in = request.method() == Method::POST && request.path() == "/login";
    let guard = request.app_data::<web::Data<LoginGuard>>().cloned();
    if let (true, Some(guard)) = (is_sign_in, guard) {
        let over_limit = guard.admit_client(request.request()).err();
        if let Some(seconds) = over_limit {
            if guard.device(request.request()).is_none() {
                // Held only when its body is a sign-in form's size: while it waits, the
                // connection's unread body sits in the server's buffers (a big body is refused
                // at once, and its connection closed).
                if small_body(&request) {
                    guard.hold_refusal().await;
                }
                let page = ErrorPage::for_status(
                    StatusCode::TOO_MANY_REQUESTS,
                    Some(over_limit_message(seconds)),
                );
                crate::telemetry::sign_in_refused(StatusCode::TOO_MANY_REQUESTS);
                let mut response = page.response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                // The body is left unread: close, so that its buffers go with the connection
                // (a kept-alive one would come straight back over the limit).
                response
                    .head_mut()
                    .set_connection_type(actix_web::http::ConnectionType::Close);
                return Ok(request.into_response(response));
            }
        }
        request
            .extensions_mut()
            .insert(AddressAllowance { over_limit });
    }
    Ok(next.call(request).await?.map_into_boxed_body())
}

/// A sign-in form is well under a kilobyte.
const SMALL_BODY: u64 = 2_048;

/// Whether the request says its body is at most [`SMALL_BODY`] (a chunked or unsized one is not).
fn small_body(request: &ServiceRequest) -> bool {
    request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|length| length <= SMALL_BODY)
}
