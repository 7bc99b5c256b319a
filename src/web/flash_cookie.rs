//! The one-time message ("Saved Ada Lovelace.") travels in a cookie of its own, encrypted with
//! the session key, not in the server-side session: in the session, every save wrote the session
//! twice more (the message set, then taken by the next page), and on SQLite each of those writes
//! waited for the one write lock like the save itself. The handler sets it and the page that
//! shows it takes it through [`super::TypedSession`], as before; this middleware reads the
//! cookie into the request, and writes it (or its removal, once taken) on the response.

use std::cell::RefCell;
use std::rc::Rc;

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, SET_COOKIE};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use super::session::Flash;

const COOKIE: &str = "desk_flash";

/// The key and cookie attributes of the flash cookie (one per app, as `app_data`).
#[derive(Clone)]
pub struct FlashCookies {
    pub key: Key,
    pub secure: bool,
}

/// A request's messages, shared by its `TypedSession`s (an `Rc` in its extensions: they cannot
/// keep the request itself, which actix needs to own alone when it routes it).
#[derive(Debug, Default)]
pub(super) struct FlashSlot {
    /// The message this request came with (its cookie), and whether a page took it.
    received: Option<Flash>,
    taken: bool,
    /// The message for the next page, set by this request.
    to_send: Option<Flash>,
}

/// The request's slot, once [`carry`] has put it there.
pub(super) type SharedSlot = Rc<RefCell<FlashSlot>>;

impl FlashSlot {
    /// The message this request came with, once.
    pub(super) fn take(&mut self) -> Option<Flash> {
        if self.taken {
            return None;
        }
        self.taken = self.received.is_some();
        self.received.clone()
    }

    pub(super) fn send(&mut self, flash: Flash) {
        self.to_send = Some(flash);
    }

    /// Neither the message received nor one set so far goes on: the cookie is removed.
    pub(super) fn forget(&mut self) {
        self.to_send = None;
        self.taken = self.received.is_some();
    }
}

pub async fn carry(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(config) = request.app_data::<web::Data<FlashCookies>>().cloned() else {
        return next.call(request).await;
    };
    let received = request.cookie(COOKIE).and_then(|cookie| {
        let mut jar = CookieJar::new();
        jar.add_original(cookie);
        // A cookie that does not decrypt (forged, or from another key) is no message.
        jar.private(&config.key)
            .get(COOKIE)
            .and_then(|cookie| serde_json::from_str::<Flash>(cookie.value()).ok())
    });
    let slot: SharedSlot = Rc::new(RefCell::new(FlashSlot {
        received,
        ..FlashSlot::default()
    }));
    request.extensions_mut().insert(slot.clone());
    let mut response = next.call(request).await?;
    let set = {
        let slot = slot.borrow();
        match (&slot.to_send, slot.taken) {
            (Some(flash), _) => Some(sealed(&config, flash)),
            (None, true) => Some(removal(&config)),
            (None, false) => None,
        }
    };
    if let Some(cookie) = set.and_then(|c| HeaderValue::from_str(&c.to_string()).ok()) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    Ok(response)
}

fn attributes(cookie: &mut Cookie<'static>, config: &FlashCookies) {
    cookie.set_path("/");
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(config.secure);
}

fn sealed(config: &FlashCookies, flash: &Flash) -> Cookie<'static> {
    let value = serde_json::to_string(flash).unwrap_or_default();
    let mut jar = CookieJar::new();
    let mut cookie = Cookie::new(COOKIE, value);
    attributes(&mut cookie, config);
    jar.private_mut(&config.key).add(cookie);
    jar.get(COOKIE)
        .cloned()
        .unwrap_or_else(|| Cookie::new(COOKIE, ""))
}

fn removal(config: &FlashCookies) -> Cookie<'static> {
    let mut cookie = Cookie::new(COOKIE, "");
    attributes(&mut cookie, config);
    cookie.make_removal();
    cookie
}
