//! What the base layout needs on every page: who is signed in, the session's CSRF token for its
//! forms, the one-time message, and on 5xx pages the request id.

use std::fmt;
use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use super::session::{Flash, TypedSession};
use super::{auth, AppError};
use crate::accounts::Agent;

/// Extracted by any handler that renders a page. Extracting it takes nothing from the session:
/// the flash message is taken when the page is rendered (`base.html` calls [`Layout::flash`]
/// once), so a handler that extracts a `Layout` and then redirects keeps the message.
#[derive(Clone, Default)]
pub struct Layout {
    pub user: Option<Agent>,
    /// Empty for anonymous visitors: reading it creates nothing.
    pub csrf_token: String,
    /// The request id, shown on 5xx error pages ("Reference: …") to match a report with the log.
    pub reference: Option<String>,
    session: Option<TypedSession>,
}

impl Layout {
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(Agent::is_admin)
    }

    /// The one-time message, taken as the page shows it (`flash_cookie.rs`).
    pub fn flash(&self) -> Option<Flash> {
        self.session.as_ref().and_then(TypedSession::take_flash)
    }
}

impl fmt::Debug for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Layout")
            .field("user", &self.user)
            .field("reference", &self.reference)
            .finish_non_exhaustive()
    }
}

impl FromRequest for Layout {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = TypedSession::of(request);
        ready(Ok(Self {
            user: request
                .extensions()
                .get::<auth::CurrentUser>()
                .map(|u| u.0.clone()),
            csrf_token: session.csrf_token().unwrap_or_default(),
            reference: None,
            session: Some(session),
        }))
    }
}
