//! Sign-in and sign-out.
//!
//! `POST /login`, in order: the CSRF and origin checks (`auth::verify_csrf`), the per-address
//! limit, a plausibility check of the credentials, one database visit that finds the account and
//! reserves the attempt in its throttle (only for emails that have an account), the password check
//! on the bounded [`PasswordChecker`] with no connection held, then a second visit to clear the
//! throttle after a success. Nothing is stored for an anonymous visitor until a sign-in succeeds.

use actix_web::cookie::Cookie;
use actix_web::http::{header, StatusCode};
use actix_web::{web, CustomizeResponder, Either, HttpRequest, HttpResponse, Responder};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::auth::{safe_next, sign_in, sign_out};
use super::login_flood::{minutes, over_limit_message, AddressAllowance};
use super::login_guard::LoginGuard;
use super::{see_other, with_db, AppError, Flash, Layout, TypedSession};
use crate::accounts::{self, Agent};
use crate::db::DbPool;
use crate::domain::first_value;
use crate::login_throttle::{self, Reservation, ThrottleKey};
use crate::passwords::{Lane, PasswordChecker};
use crate::tokens::random_token;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginTemplate {
    layout: Layout,
    csrf_token: String,
    email: String,
    next: String,
    error: Option<String>,
    signed_out: bool,
}

fn pairs(request: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(request.query_string()).unwrap_or_default()
}

/// The sign-in page with the headers it carries: its status, the login CSRF cookie when it is
/// new, `Retry-After` when refused for a while.
type LoginPage = CustomizeResponder<LoginTemplate>;

fn with_cookie(page: LoginPage, cookie: Option<Cookie<'static>>) -> LoginPage {
    match cookie {
        Some(cookie) => page.append_header((header::SET_COOKIE, cookie.to_string())),
        None => page,
    }
}

pub async fn login_form(
    request: HttpRequest,
    guard: web::Data<LoginGuard>,
    layout: Layout,
) -> Either<HttpResponse, LoginPage> {
    if layout.user.is_some() {
        return Either::Left(see_other("/people/customers"));
    }
    let pairs = pairs(&request);
    let next = first_value(&pairs, "next")
        .filter(|n| safe_next(n).is_some())
        .unwrap_or_default()
        .to_owned();
    let (csrf_token, cookie) = guard.login_csrf(&request);
    let template = LoginTemplate {
        layout,
        csrf_token,
        email: String::new(),
        next,
        error: None,
        signed_out: first_value(&pairs, "signed_out").is_some(),
    };
    Either::Right(with_cookie(template.customize(), cookie))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

const INVALID: &str = "That email and password don't match an account. Check both and try again.";

/// The sign-in form again, with a message, this status and, if given, `Retry-After`.
fn refuse(
    request: &HttpRequest,
    guard: &LoginGuard,
    layout: Layout,
    form: &LoginForm,
    status: StatusCode,
    error: String,
    retry_after: Option<u64>,
) -> Result<Either<HttpResponse, LoginPage>, AppError> {
    let (csrf_token, cookie) = guard.login_csrf(request);
    let template = LoginTemplate {
        layout,
        csrf_token,
        email: form.email.clone(),
        next: safe_next(&form.next).unwrap_or_default().to_owned(),
        error: Some(error),
        signed_out: false,
    };
    crate::telemetry::sign_in_refused(status);
    let mut page = template.customize().with_status(status);
    if let Some(seconds) = retry_after {
        page = page.insert_header((header::RETRY_AFTER, seconds.to_string()));
    }
    Ok(Either::Right(with_cookie(page, cookie)))
}

/// An account found for the email, and whether its throttle lets this attempt through.
type Found = Option<(Agent, String, ThrottleKey, Reservation)>;

// Extractors, one per argument: what the handler needs from the request and the app.
#[allow(clippy::too_many_arguments)]
pub async fn login(
    request: HttpRequest,
    pool: web::Data<DbPool>,
    checker: web::Data<PasswordChecker>,
    guard: web::Data<LoginGuard>,
    session: TypedSession,
    layout: Layout,
    form: web::Form<LoginForm>,
) -> Result<Either<HttpResponse, LoginPage>, AppError> {
    let form = form.into_inner();
    let answer = |layout, status, error: String, retry_after| {
        refuse(&request, &guard, layout, &form, status, error, retry_after)
    };
    let network_limited = |seconds: u64| {
        let error = over_limit_message(seconds);
        (StatusCode::TOO_MANY_REQUESTS, error, Some(seconds))
    };
    let device = guard.device(&request);
    // Over the per-address limit, only a browser that has signed in to this very account
    // before goes on (its own throttle still applies): a flood from the office's address must
    // not keep its people out (OWASP's device cookies).
    // Counted once, by the middleware that refused the others (login_flood.rs).
    let over_limit = match actix_web::HttpMessage::extensions(&request)
        .get::<AddressAllowance>()
        .copied()
    {
        Some(allowance) => allowance.over_limit,
        None => guard.admit_client(&request).err(),
    };
    match (over_limit, &device) {
        (Some(seconds), None) => {
            let (status, error, retry) = network_limited(seconds);
            return answer(layout, status, error, retry);
        }
        // Let through, but with the same allowance per device as per address: an account
        // holder signing in in a loop is not a way around the limit.
        (Some(_), Some((_, nonce))) => {
            if let Err(seconds) = guard.admit_device(nonce) {
                let (status, error, retry) = network_limited(seconds);
                return answer(layout, status, error, retry);
            }
        }
        (None, _) => {}
    }
    if !accounts::plausible_credentials(&form.email, &form.password) {
        return answer(layout, StatusCode::UNAUTHORIZED, INVALID.into(), None);
    }
    let email = form.email.clone();
    let found: Result<Found, ()> = with_db(&pool, move |conn| -> Result<_, AppError> {
        let Some((agent, hash)) = accounts::for_sign_in(conn, &email)? else {
            return Ok(if over_limit.is_some() {
                Err(())
            } else {
                Ok(None)
            });
        };
        let key = match device {
            Some((id, nonce)) if id == agent.id => ThrottleKey::Device(nonce),
            _ if over_limit.is_some() => return Ok(Err(())),
            _ => ThrottleKey::email(&email),
        };
        let reservation = login_throttle::reserve(conn, &key)?;
        Ok(Ok(Some((agent, hash, key, reservation))))
    })
    .await?;
    let Ok(found) = found else {
        let (status, error, retry) = network_limited(over_limit.unwrap_or(60));
        return answer(layout, status, error, retry);
    };
    // An email without an account is throttled the same way (in memory, nothing written), so
    // that a 429 does not tell which emails have one.
    let reservation = match &found {
        Some((_, _, _, reservation)) => *reservation,
        None => guard.unknown_emails.reserve(&form.email),
    };
    let (account, hash) = match (found, reservation) {
        (
            _,
            Reservation::Refused {
                retry_after_seconds,
            },
        ) => {
            let seconds = retry_after_seconds.unsigned_abs();
            let error = format!(
                "Too many failed sign-ins for this email. For your security, sign-in is paused: \
                 try again in {}.",
                minutes(seconds)
            );
            return answer(layout, StatusCode::TOO_MANY_REQUESTS, error, Some(seconds));
        }
        (Some((agent, hash, key, _)), Reservation::Allowed) => (Some((agent, key)), Some(hash)),
        // Unknown email: checked against a dummy hash all the same, and nothing is written.
        (None, Reservation::Allowed) => (None, None),
    };
    // A browser that signed in to this account before goes first when many are waiting.
    let lane = match &account {
        Some((_, ThrottleKey::Device(_))) => Lane::KnownDevice,
        _ => Lane::Anyone,
    };
    // No connection is held while the password is checked.
    let verified = match checker.verify(form.password.clone(), hash, lane).await {
        Ok(verified) => verified,
        Err(busy) => {
            // A flood would make this a line per request: debug only (the 503s are counted).
            tracing::debug!(error = %busy, "sign-in refused: password checker busy");
            // The attempt was never checked: give it back.
            match account {
                Some((_, key)) => {
                    with_db(&pool, move |conn| login_throttle::release(conn, &key)).await?
                }
                None => guard.unknown_emails.release(&form.email),
            }
            let error = "Many people are signing in right now. Try again in a moment.".into();
            return answer(layout, StatusCode::SERVICE_UNAVAILABLE, error, Some(1));
        }
    };
    let Some((agent, key)) = account.filter(|_| verified) else {
        return answer(layout, StatusCode::UNAUTHORIZED, INVALID.into(), None);
    };
    let nonce = match &key {
        ThrottleKey::Device(nonce) => nonce.clone(),
        ThrottleKey::Email(_) => random_token(16),
    };
    with_db(&pool, move |conn| login_throttle::clear(conn, &key)).await?;
    sign_in(&session, &agent)?;
    tracing::info!(agent = agent.id, "signed in");
    session.set_flash(Flash::success(format!("Signed in as {}.", agent.name)));
    let target = safe_next(&form.next).unwrap_or("/people/customers");
    let mut response = see_other(target);
    for cookie in [
        guard.device_cookie(agent.id, &nonce),
        guard.forget_login_csrf(),
    ] {
        response.add_cookie(&cookie).map_err(anyhow::Error::from)?;
    }
    Ok(Either::Left(response))
}

pub async fn logout(session: TypedSession) -> HttpResponse {
    sign_out(&session);
    see_other("/login?signed_out=1")
}
