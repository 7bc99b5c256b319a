//! Who is asking, and may they: sign-in required everywhere but a few public paths, CSRF checked
//! on every state-changing request, and the `Admin` extractor that deletion routes require.
//! Each rule is written once here and applied to every route by `startup.rs`.

use std::future::{ready, Ready};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use super::login_guard::LoginGuard;
use super::{see_other, with_db, AppError, TypedSession};
use crate::accounts::{self, Agent};
use crate::db::DbPool;
use crate::state::AppState;
use crate::tokens::random_token;

pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// Reachable without signing in.
fn is_public(path: &str) -> bool {
    path == "/login" || path == "/healthz" || path == "/favicon.ico" || path.starts_with("/static/")
}

/// Needs no session at all: static files and the health check.
fn is_sessionless(path: &str) -> bool {
    path == "/healthz" || path.starts_with("/static/")
}

/// Middleware, just outside the session: static files and `/healthz` are answered without
/// their cookies, so that the session middleware does not read the session from the database
/// for them (a browser sends its session cookie with every stylesheet and script).
pub async fn skip_session_for_assets(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if is_sessionless(request.path()) {
        request
            .headers_mut()
            .remove(actix_web::http::header::COOKIE);
    }
    next.call(request).await
}

/// The signed-in person, put in the request by [`require_sign_in`].
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Agent);

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<CurrentUser>()
                .cloned()
                .ok_or_else(|| AppError::Forbidden("Sign in first.".into())),
        )
    }
}

/// A signed-in administrator: the only way a handler gets one is through this extractor, and
/// every deletion route takes it.
#[derive(Debug, Clone)]
pub struct Admin(pub Agent);

impl FromRequest for Admin {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = request.extensions().get::<CurrentUser>().cloned();
        ready(match user {
            Some(CurrentUser(agent)) if agent.is_admin() => Ok(Admin(agent)),
            _ => Err(AppError::Forbidden(
                "Only administrators can delete customers or see the deletion history.".into(),
            )),
        })
    }
}

/// Starts a signed-in session: a new key (no fixation) and a new CSRF token. An anonymous
/// visitor has no session token (the sign-in form has its own, cookie-based token: see
/// `login_guard.rs`), so an anonymous page view never writes a session.
pub fn sign_in(session: &TypedSession, agent: &Agent) -> Result<(), AppError> {
    session.sign_in(agent.id, random_token(32))
}

/// Ends the session everywhere: the server-side state is deleted, so an old cookie finds nothing.
pub fn sign_out(session: &TypedSession) {
    session.purge();
}

/// A local path to return to after sign-in; anything that could leave the site is dropped.
pub fn safe_next(next: &str) -> Option<&str> {
    super::local_address::checked(next)
}

/// Middleware: everything but the public paths needs a signed-in, still existing account.
pub async fn require_sign_in(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if is_public(request.path()) {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    let session = TypedSession::of_service(&request);
    let agent_id = session.agent_id();
    let agent = match agent_id {
        Some(id) => account(&request, id).await?,
        None => None,
    };
    match agent {
        Some(agent) => {
            request.extensions_mut().insert(CurrentUser(agent));
            Ok(next.call(request).await?.map_into_boxed_body())
        }
        None => {
            if agent_id.is_some() {
                // The account was removed: end its session.
                session.purge();
            }
            let location = if request.method() == Method::GET {
                let wanted = match request.query_string() {
                    "" => request.path().to_owned(),
                    query => format!("{}?{query}", request.path()),
                };
                format!(
                    "/login?{}",
                    serde_urlencoded::to_string([("next", wanted)]).unwrap_or_default()
                )
            } else {
                "/login".to_owned()
            };
            Ok(request
                .into_response(see_other(&location))
                .map_into_boxed_body())
        }
    }
}

/// The signed-in account: as read in the last two seconds for a GET or HEAD
/// ([`accounts::RecentAccounts`]), read now for any request that may change something.
async fn account(request: &ServiceRequest, id: i64) -> Result<Option<Agent>, AppError> {
    let recent = request.app_data::<web::Data<AppState>>();
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        if let Some(agent) = recent.and_then(|state| state.recent_accounts.get(id)) {
            return Ok(Some(agent));
        }
    }
    let Some(pool) = request.app_data::<web::Data<DbPool>>() else {
        return Ok(None);
    };
    let asked = std::time::Instant::now();
    let agent = with_db(pool, move |conn| accounts::find(conn, id)).await?;
    if let Some(state) = recent {
        state.recent_accounts.read(id, asked, agent.as_ref());
    }
    Ok(agent)
}

fn is_safe_method(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The CSRF token a request carries: the `X-CSRF-Token` header, or the `csrf_token` field of a
/// web form (the body is read, within its limit, and put back for the handler).
async fn provided_token(request: &mut ServiceRequest) -> Result<Option<String>, actix_web::Error> {
    let provided = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(super::input_check::is_urlencoded_type);
    if provided.is_some() || !is_form {
        return Ok(provided);
    }
    let body = request.extract::<web::Bytes>().await?;
    let provided = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == CSRF_FIELD))
        .map(|(_, v)| v);
    let (_, mut payload) = actix_http::h1::Payload::create(true);
    payload.unread_data(body);
    request.set_payload(payload.into());
    Ok(provided)
}

/// Middleware: a state-changing request must carry the session's CSRF token, in the
/// `X-CSRF-Token` header (htmx) or the `csrf_token` form field (plain forms). The sign-in form,
/// which has no session yet, must come from this site and carry the token of its signed
/// `desk_login_csrf` cookie instead (double submit).
pub async fn verify_csrf(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if is_safe_method(request.method()) {
        return Ok(next.call(request).await?.map_into_boxed_body());
    }
    let provided = match provided_token(&mut request).await {
        Ok(provided) => provided,
        Err(error) => return Ok(request.error_response(error).map_into_boxed_body()),
    };
    let valid = if request.path() == "/login" {
        request
            .app_data::<web::Data<LoginGuard>>()
            .is_some_and(|guard| {
                guard.same_origin(request.request())
                    && guard.login_csrf_matches(request.request(), provided.as_deref())
            })
    } else {
        let expected = TypedSession::of_service(&request).csrf_token();
        matches!((&expected, &provided),
            (Some(e), Some(p)) if constant_time_eq(e.as_bytes(), p.as_bytes()))
    };
    if valid {
        Ok(next.call(request).await?.map_into_boxed_body())
    } else {
        let error = AppError::Forbidden(
            "This form has expired or did not come from this site, so nothing was changed. \
             Go back, reload the page and try again."
                .into(),
        );
        Ok(request.error_response(error).map_into_boxed_body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_site() {
        assert_eq!(
            safe_next("/people/customers?page=2"),
            Some("/people/customers?page=2")
        );
        assert_eq!(safe_next("https://evil.example"), None);
        assert_eq!(safe_next("//evil.example"), None);
        assert_eq!(safe_next("/\\evil.example"), None);
        assert_eq!(safe_next("/ok\\..\\"), None);
        assert_eq!(safe_next("javascript:alert(1)"), None);
        assert_eq!(safe_next(""), None);
        assert_eq!(safe_next("/\nLocation: x"), None);
    }

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
