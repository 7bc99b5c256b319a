//! One state-changing request at a time per session (in this instance).
//!
//! actix-session loads a session's whole state before the handler and writes it back whole
//! after it, so two overlapping POSTs of one session (quick ticks that two workers serve at
//! once) would each start from the same state and the later save would drop the other's change.
//! This middleware, outside the session's, makes the POSTs of one session cookie take turns:
//! each loads the state its predecessor saved. GET and HEAD do not wait (they change nothing
//! but a flash). Several instances behind a load balancer do not share these turns; the
//! browser sends a page's selection requests one after the other anyway (`hx-sync`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error};
use tokio::sync::OwnedMutexGuard;

use crate::lock;

/// The name of the session cookie (set in `startup::run`).
pub const SESSION_COOKIE: &str = "desk_session";

/// A lock per session cookie that has a request in progress; entries go when unused.
#[derive(Debug, Default)]
pub struct SessionTurns {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Held while a request of the session runs; the next one goes when it is dropped.
struct Turn {
    key: String,
    turns: web::Data<SessionTurns>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl SessionTurns {
    async fn take(turns: web::Data<SessionTurns>, key: String) -> Turn {
        let entry = lock(&turns.locks).entry(key.clone()).or_default().clone();
        let guard = entry.lock_owned().await;
        Turn {
            key,
            turns,
            guard: Some(guard),
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.guard = None;
        let mut locks = lock(&self.turns.locks);
        // Only the map holds it now: nobody waits, so the entry can go.
        if locks
            .get(&self.key)
            .is_some_and(|entry| Arc::strong_count(entry) == 1)
        {
            locks.remove(&self.key);
        }
    }
}

/// Middleware: a non-GET request with a session cookie waits for the previous one of the same
/// session to have finished (its session state saved).
pub async fn one_at_a_time(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let changes = !matches!(*request.method(), Method::GET | Method::HEAD);
    let key = request
        .cookie(SESSION_COOKIE)
        .map(|cookie| cookie.value().to_owned());
    let turns = request.app_data::<web::Data<SessionTurns>>().cloned();
    let _turn = match (changes, key, turns) {
        (true, Some(key), Some(turns)) => Some(SessionTurns::take(turns, key).await),
        _ => None,
    };
    next.call(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn turns_are_taken_in_order_and_forgotten() {
        let turns = web::Data::new(SessionTurns::default());
        let first = SessionTurns::take(turns.clone(), "a".into()).await;
        let waiting = tokio::spawn(SessionTurns::take(turns.clone(), "a".into()));
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the second waits for the first");
        // Another session does not wait.
        drop(SessionTurns::take(turns.clone(), "b".into()).await);
        drop(first);
        drop(waiting.await.unwrap());
        assert!(lock(&turns.locks).is_empty());
    }
}
