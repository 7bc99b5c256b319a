//! Everything the app keeps in a visitor's session, behind one typed wrapper: the signed-in
//! agent, the CSRF token of the session's forms, the one-time message (kept in a cookie of its
//! own: `flash_cookie.rs`) and the administrator's selection. No other module knows a session
//! key.

use std::future::{ready, Ready};

use actix_session::{Session, SessionExt};
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use serde::{Deserialize, Serialize};

use super::flash_cookie::SharedSlot;
use super::AppError;
use crate::domain::selection::Selection;

const AGENT_KEY: &str = "agent_id";
const CSRF_KEY: &str = "csrf";
const FLASH_KEY: &str = "flash";
const SELECTION_KEY: &str = "selection";
const LIST_KEY: &str = "list";

/// The session with typed getters and setters; cheap to clone (it shares the request's state).
#[derive(Clone)]
pub struct TypedSession(Session, Option<SharedSlot>);

impl TypedSession {
    pub fn of(request: &HttpRequest) -> Self {
        Self(request.get_session(), request.extensions().get().cloned())
    }

    pub fn of_service(request: &ServiceRequest) -> Self {
        Self(request.get_session(), request.extensions().get().cloned())
    }

    /// The signed-in agent's id, if any.
    pub fn agent_id(&self) -> Option<i64> {
        self.0.get::<i64>(AGENT_KEY).ok().flatten()
    }

    /// The session's CSRF token, which [`Self::sign_in`] sets; `None` for anonymous visitors,
    /// so that reading it never creates a session.
    pub fn csrf_token(&self) -> Option<String> {
        self.0.get::<String>(CSRF_KEY).ok().flatten()
    }

    /// Starts a signed-in session: a new key (no fixation), the agent and a new CSRF token.
    pub fn sign_in(&self, agent_id: i64, csrf_token: String) -> Result<(), AppError> {
        // Nothing of a session before this sign-in (another account's selection, say) carries
        // over.
        self.0.clear();
        self.0.renew();
        self.0
            .insert(AGENT_KEY, agent_id)
            .and_then(|_| self.0.insert(CSRF_KEY, csrf_token))
            .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot write the session: {e}")))
    }

    /// Ends the session everywhere: the server-side state is deleted, so an old cookie finds
    /// nothing; a message not yet shown goes too.
    pub fn purge(&self) {
        self.0.purge();
        if let Some(slot) = &self.1 {
            slot.borrow_mut().forget();
        }
    }

    /// Kept for the next page: in its cookie, written on this response (in the session if
    /// the request did not pass `flash_cookie::carry`; a session that cannot be written only
    /// loses the message).
    pub fn set_flash(&self, flash: Flash) {
        if let Some(slot) = &self.1 {
            slot.borrow_mut().send(flash);
        } else if let Err(error) = self.0.insert(FLASH_KEY, flash) {
            tracing::warn!(%error, "could not store the flash message");
        }
    }

    /// The one-time message this request came with, taken: only a page that shows it takes it
    /// (its cookie is removed on this response).
    pub fn take_flash(&self) -> Option<Flash> {
        if let Some(slot) = &self.1 {
            // Messages are only ever set for a signed-in session: one that arrives without it
            // was left by someone whose session ended (signed out, or expired on a shared
            // computer), and is not for whoever comes next. It goes unshown.
            if self.agent_id().is_none() {
                slot.borrow_mut().forget();
                return None;
            }
            if let Some(flash) = slot.borrow_mut().take() {
                return Some(flash);
            }
        }
        // A message kept in the session (by an earlier version, or outside `carry`). `remove` marks the session
        // changed even when the key is absent, and a changed session is written back: check
        // first, so that a page view writes nothing.
        if !self.0.contains_key(FLASH_KEY) {
            return None;
        }
        self.0.remove_as::<Flash>(FLASH_KEY).and_then(Result::ok)
    }

    /// The administrator's selection (empty when there is none or it cannot be read).
    pub fn selection(&self) -> Selection {
        self.0
            .get::<Selection>(SELECTION_KEY)
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// The list page (a local address) the selection was last changed on: where Cancel and a
    /// finished deletion go back to, with its search, filters, sort and page size.
    pub fn list(&self) -> Option<String> {
        self.0.get::<String>(LIST_KEY).ok().flatten()
    }

    /// Kept with the selection; a session that cannot be written only loses the way back.
    pub fn set_list(&self, address: &str) {
        if self.list().as_deref() == Some(address) {
            return;
        }
        if let Err(error) = self.0.insert(LIST_KEY, address) {
            tracing::warn!(%error, "could not store the list address");
        }
    }

    pub fn set_selection(&self, selection: &Selection) -> Result<(), AppError> {
        self.0
            .insert(SELECTION_KEY, selection)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot store the selection: {e}")))
    }
}

impl FromRequest for TypedSession {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::of(request)))
    }
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
    /// A link after the text ("Details" of a deletion), a local path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<FlashLink>,
}

/// A link shown after a flash message's text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FlashLink {
    pub href: String,
    pub text: String,
}

impl Flash {
    pub fn success(text: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Success,
            text: text.into(),
            name: None,
            link: None,
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Self {
            kind: FlashKind::Error,
            text: text.into(),
            name: None,
            link: None,
        }
    }

    /// Marks `name`, which occurs in the text, as a name to isolate when shown.
    pub fn naming(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Adds a link after the text.
    pub fn linking(mut self, href: impl Into<String>, text: impl Into<String>) -> Self {
        self.link = Some(FlashLink {
            href: href.into(),
            text: text.into(),
        });
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
}
