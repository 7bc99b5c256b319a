//! What protects `POST /login` before any password is checked, without storing anything for
//! anonymous visitors: the sign-in form's CSRF token (a signed double-submit cookie, so that
//! showing the form writes no session), the same-origin checks, the per-client-address limit,
//! and the signed device cookie that names an account a browser has signed in to before.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::cookie::{time, Cookie, CookieJar, Key, SameSite};
use actix_web::http::header;
use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::login_throttle::UnknownEmails;

use crate::passwords::CheckerSettings;
use crate::tokens::random_token;

pub const LOGIN_CSRF_COOKIE: &str = "desk_login_csrf";
pub const DEVICE_COOKIE: &str = "desk_device";
/// A browser keeps its device cookie this long after its last sign-in.
const DEVICE_COOKIE_DAYS: i64 = 180;
/// How often the per-address state forgets addresses that are back to a full allowance.
const FORGET_EVERY: Duration = Duration::from_secs(30);

/// Limits on sign-in attempts (see the README, "Accounts and roles").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInSettings {
    /// Threads that check passwords, and how many checks may wait for one.
    pub checker: CheckerSettings,
    /// Sign-in attempts per minute from one client address (an IPv6 client: its /64); 0 turns
    /// the limit off.
    pub per_minute: u32,
    /// Attempts one address may make at once before the per-minute rate applies.
    pub burst: u32,
    /// Reverse proxies whose `X-Forwarded-For` (and `X-Forwarded-Host`) are believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// How long a refusal over the per-address limit waits before it is sent (see
    /// [`LoginGuard::hold_refusal`]).
    pub refusal_delay: Duration,
}

impl Default for SignInSettings {
    fn default() -> Self {
        Self {
            checker: CheckerSettings::default(),
            per_minute: 10,
            burst: 5,
            trusted_proxies: Vec::new(),
            refusal_delay: Duration::from_secs(1),
        }
    }
}

/// Refusals held at once at most; beyond it they are sent without waiting, so that the wait
/// never costs more than this many idle connections' buffers (each holds a body of at most
/// 2 KB: `login_flood::small_body`).
const MAX_HELD_REFUSALS: usize = 1_024;

type Limiter = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>;
type DeviceLimiter = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

pub struct LoginGuard {
    csrf_key: Key,
    device_key: Key,
    secure: bool,
    trusted_proxies: Vec<IpAddr>,
    limiter: Option<Limiter>,
    /// The same allowance per device cookie, for browsers let through over their address's.
    devices: Option<DeviceLimiter>,
    /// The per-account throttle's twin for emails without an account.
    pub unknown_emails: UnknownEmails,
    last_forgotten: Mutex<Instant>,
    refusal_delay: Duration,
    held_refusals: Arc<AtomicUsize>,
}

/// A key of its own for each cookie, derived from the session key.
fn derive(session_key: &Key, purpose: &str) -> Key {
    Key::derive_from(&[session_key.master(), purpose.as_bytes()].concat())
}

impl LoginGuard {
    pub fn new(session_key: &Key, secure_cookies: bool, settings: &SignInSettings) -> Self {
        let quota = NonZeroU32::new(settings.per_minute).map(|rate| {
            let burst = NonZeroU32::new(settings.burst).unwrap_or(NonZeroU32::MIN);
            Quota::per_minute(rate).allow_burst(burst)
        });
        let limiter = quota.map(RateLimiter::keyed);
        let devices = quota.map(RateLimiter::keyed);
        Self {
            csrf_key: derive(session_key, "desk_login_csrf"),
            device_key: derive(session_key, "desk_device"),
            secure: secure_cookies,
            trusted_proxies: settings.trusted_proxies.clone(),
            limiter,
            devices,
            unknown_emails: UnknownEmails::default(),
            last_forgotten: Mutex::new(Instant::now()),
            refusal_delay: settings.refusal_delay,
            held_refusals: Arc::default(),
        }
    }

    /// Waits before an over-limit refusal is sent. A flood client sends its next attempt as
    /// soon as it has the answer: refused at once, 256 connections made 2,800 attempts a second
    /// and took the cores from signed-in pages; held a second, each connection makes one. The
    /// wait costs a timer, no thread or connection from the pool.
    pub async fn hold_refusal(&self) {
        struct Held(Arc<AtomicUsize>);
        impl Drop for Held {
            // Also when the client goes away during the wait.
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        if self.refusal_delay.is_zero() {
            return;
        }
        let held = Held(self.held_refusals.clone());
        if held.0.fetch_add(1, Ordering::SeqCst) < MAX_HELD_REFUSALS {
            actix_web::rt::time::sleep(self.refusal_delay).await;
        }
    }

    fn is_trusted_peer(&self, request: &HttpRequest) -> bool {
        request
            .peer_addr()
            .is_some_and(|peer| self.trusted_proxies.contains(&peer.ip()))
    }

    /// The client's address: the peer's, or, when the peer is a trusted proxy, the rightmost
    /// `X-Forwarded-For` hop that is not a trusted proxy.
    pub fn client_address(&self, request: &HttpRequest) -> Option<IpAddr> {
        let peer = request.peer_addr()?.ip();
        if !self.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(address) if self.trusted_proxies.contains(&address) => continue,
                Ok(address) => return Some(address),
                // Not written by our proxy: the client is unknown; count it as the proxy.
                Err(_) => return Some(peer),
            }
        }
        Some(peer)
    }

    /// Counts an attempt for the client's address; `Err(seconds)` when over the limit.
    pub fn admit_client(&self, request: &HttpRequest) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if let Ok(mut last) = self.last_forgotten.try_lock() {
            if last.elapsed() >= FORGET_EVERY {
                // Keys back to a full allowance are indistinguishable from new ones.
                limiter.retain_recent();
                limiter.shrink_to_fit();
                if let Some(devices) = &self.devices {
                    devices.retain_recent();
                    devices.shrink_to_fit();
                }
                *last = Instant::now();
            }
        }
        let Some(address) = self.client_address(request) else {
            return Ok(());
        };
        limiter.check_key(&rate_key(address)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Counts an attempt of a browser holding a device cookie (`nonce`) that its address's
    /// allowance would refuse; `Err(seconds)` when that device is over the same allowance too.
    pub fn admit_device(&self, nonce: &str) -> Result<(), u64> {
        let Some(devices) = &self.devices else {
            return Ok(());
        };
        devices.check_key(&nonce.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Rejects a cross-site request: `Sec-Fetch-Site: cross-site`, or an `Origin` other than
    /// this host.
    pub fn same_origin(&self, request: &HttpRequest) -> bool {
        let headers = request.headers();
        if headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
        {
            return false;
        }
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        let Some(origin_host) = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map(|(_, host)| host.trim_end_matches('/'))
        else {
            return false; // "null" and anything unreadable
        };
        let mut hosts = vec![headers.get(header::HOST).and_then(|v| v.to_str().ok())];
        if self.is_trusted_peer(request) {
            hosts.push(
                headers
                    .get("x-forwarded-host")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').next())
                    .map(str::trim),
            );
        }
        hosts
            .into_iter()
            .flatten()
            .any(|host| host.eq_ignore_ascii_case(origin_host))
    }

    /// The sign-in form's CSRF token: the one in the browser's valid cookie, or a new one with
    /// the cookie to set.
    pub fn login_csrf(&self, request: &HttpRequest) -> (String, Option<Cookie<'static>>) {
        if let Some(token) = signed_value(&self.csrf_key, request, LOGIN_CSRF_COOKIE) {
            return (token, None);
        }
        let token = random_token(32);
        let cookie = Cookie::build(LOGIN_CSRF_COOKIE, token.clone())
            .path("/login")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Strict)
            .finish();
        (token, Some(sign(&self.csrf_key, cookie)))
    }

    /// Whether `provided` (the form's field) equals the token in the signed cookie.
    pub fn login_csrf_matches(&self, request: &HttpRequest, provided: Option<&str>) -> bool {
        match (
            signed_value(&self.csrf_key, request, LOGIN_CSRF_COOKIE),
            provided,
        ) {
            (Some(expected), Some(provided)) => {
                super::auth::constant_time_eq(expected.as_bytes(), provided.as_bytes())
            }
            _ => false,
        }
    }

    /// Removes the sign-in form's cookie (after signing in).
    pub fn forget_login_csrf(&self) -> Cookie<'static> {
        let mut cookie = Cookie::build(LOGIN_CSRF_COOKIE, "").path("/login").finish();
        cookie.make_removal();
        cookie
    }

    /// The account id and nonce of the browser's valid device cookie.
    pub fn device(&self, request: &HttpRequest) -> Option<(i64, String)> {
        let value = signed_value(&self.device_key, request, DEVICE_COOKIE)?;
        let (id, nonce) = value.split_once('.')?;
        Some((id.parse().ok()?, nonce.to_owned()))
    }

    /// The device cookie naming `agent_id`, set after a successful sign-in.
    pub fn device_cookie(&self, agent_id: i64, nonce: &str) -> Cookie<'static> {
        let cookie = Cookie::build(DEVICE_COOKIE, format!("{agent_id}.{nonce}"))
            .path("/login")
            .http_only(true)
            .secure(self.secure)
            .same_site(SameSite::Lax)
            .max_age(time::Duration::days(DEVICE_COOKIE_DAYS))
            .finish();
        sign(&self.device_key, cookie)
    }
}

fn signed_value(key: &Key, request: &HttpRequest, name: &str) -> Option<String> {
    let mut jar = CookieJar::new();
    jar.add_original(request.cookie(name)?);
    jar.signed(key).get(name).map(|c| c.value().to_owned())
}

fn sign(key: &Key, cookie: Cookie<'static>) -> Cookie<'static> {
    let name = cookie.name().to_owned();
    let mut jar = CookieJar::new();
    jar.signed_mut(key).add(cookie);
    jar.get(&name).cloned().expect("the cookie was just added")
}

/// The key an address is limited by: IPv4 addresses one by one, IPv6 clients by their /64 (one
/// customer usually gets a whole /64).
pub fn rate_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests;
