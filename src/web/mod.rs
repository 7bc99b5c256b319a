//! The HTTP side: thin handlers that parse requests into domain types, call the domain, and
//! render templates. Nothing here decides what a deletion takes with it.

pub mod assets;
pub mod auth;
pub mod customers;
pub mod deletions;
pub mod error;
pub mod failures;
pub mod health;
pub mod input_check;
pub mod local_address;
pub mod login;
pub mod login_guard;
pub mod selection;

use std::future::{ready, Ready};

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::accounts::Agent;
use crate::db::{DbConn, DbPool};
pub use error::AppError;

/// Runs database work on the blocking thread pool, never on the async workers.
pub async fn with_db<T, F>(pool: &web::Data<DbPool>, work: F) -> Result<T, AppError>
where
    F: FnOnce(&mut DbConn) -> T + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    web::block(move || -> Result<T, AppError> {
        let mut conn = pool.get()?;
        Ok(work(&mut conn))
    })
    .await?
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum FlashKind {
    Success,
    Error,
}

impl FlashKind {
    pub fn css_class(&self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Error => "error",
        }
    }
}

/// A one-time message shown on the page a POST redirects to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flash {
    pub kind: FlashKind,
    pub text: String,
    /// A name in `text` (a customer's), shown isolated (`<bdi>`) so that right-to-left text in
    /// it cannot reorder the message around it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

const FLASH_KEY: &str = "flash";

impl Flash {
    pub fn success(text: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Success,
            text: text.into(),
            name: None,
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Error,
            text: text.into(),
            name: None,
        }
    }

    /// Marks `name`, which occurs in the text, as a name to isolate when shown.
    pub fn naming(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The text before the name, the name, and the text after it (all the text before when
    /// there is no name in it).
    pub fn parts(&self) -> (&str, Option<&str>, &str) {
        let found = self
            .name
            .as_deref()
            .filter(|n| !n.is_empty())
            .and_then(|n| self.text.find(n).map(|at| (at, n.len())));
        match found {
            Some((at, len)) => (
                &self.text[..at],
                Some(&self.text[at..at + len]),
                &self.text[at + len..],
            ),
            None => (&self.text, None, ""),
        }
    }

    /// Kept for the next page; a session that cannot be written only loses the message.
    pub fn set(self, session: &Session) {
        if let Err(error) = session.insert(FLASH_KEY, self) {
            tracing::warn!(%error, "could not store the flash message");
        }
    }

    pub fn take(session: &Session) -> Option<Self> {
        // `remove` marks the session changed even when the key is absent, and a changed
        // session is written back: check first, so that a page view writes nothing.
        if !session.contains_key(FLASH_KEY) {
            return None;
        }
        session.remove_as::<Self>(FLASH_KEY).and_then(Result::ok)
    }
}

/// What the base layout needs on every page: the one-time message, who is signed in, and the
/// session's CSRF token for its forms (empty for anonymous visitors: reading it creates nothing). Extracted from the request by any handler that renders a page.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub flash: Option<Flash>,
    pub user: Option<Agent>,
    pub csrf_token: String,
    /// The request id, shown on 5xx error pages ("Reference: …") to match a report with the log.
    pub reference: Option<String>,
}

impl Layout {
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(Agent::is_admin)
    }
}

impl FromRequest for Layout {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = request.get_session();
        ready(Ok(Self {
            flash: Flash::take(&session),
            user: request
                .extensions()
                .get::<auth::CurrentUser>()
                .map(|u| u.0.clone()),
            csrf_token: auth::csrf_token(&session),
            reference: None,
        }))
    }
}

/// 303 See Other: the browser follows a POST with a GET, so a reload never re-submits.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, local_address::ascii(location)))
        .finish()
}

pub fn html(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// Whether htmx made the request (and so wants a fragment, not a page).
pub fn is_htmx(request: &HttpRequest) -> bool {
    request.headers().contains_key("HX-Request")
}

pub fn render<T: askama::Template>(template: &T) -> Result<String, AppError> {
    template
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template failed: {e}")))
}

/// A customer id from the path: digits only; one too large to exist is simply not found.
pub fn parse_customer_id(raw: &str) -> Result<i64, AppError> {
    parse_id(raw, "customer")
}

/// An id from the path (`what`: "customer", "deletion"): digits only; one too large to exist is
/// simply not found.
pub fn parse_id(raw: &str, what: &str) -> Result<i64, AppError> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::BadRequest(format!(
            "“{}” is not a {what} id: ids are whole numbers.",
            raw.chars().take(40).collect::<String>()
        )));
    }
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(AppError::NotFound(format!(
            "There is no {what} with this id."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids() {
        assert_eq!(parse_customer_id("42").unwrap(), 42);
        assert!(matches!(
            parse_customer_id("abc"),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse_customer_id("-1"),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse_customer_id(""),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse_customer_id("1234567890123456789012345"),
            Err(AppError::NotFound(_))
        ));
        assert!(matches!(parse_customer_id("0"), Err(AppError::NotFound(_))));
    }
}
