//! actix-session's server-side store, kept in the application's own database so that it works on
//! both backends and is shared by every instance. The cookie carries only the opaque key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use actix_web::web;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::{now, on_own_connection, DbConn, DbPool, Moment, NoTurn, WriteTurns};
use crate::schema::sessions;
use crate::tokens::random_token;

type SessionState = HashMap<String, String>;

/// A session's expiry is written again only when it moves by more than this, so that a busy
/// session does not write on every request.
const TTL_WRITE_GRANULARITY_SECONDS: i64 = 60;

/// How long a session's write waits for its turn on SQLite (each writer ahead of it waits at
/// most SQLite's 5 s for the lock).
const SESSION_WRITE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// At most this many sessions' expiries are remembered between a request's load and its end.
const EXPIRIES_REMEMBERED: usize = 10_000;

#[derive(Clone)]
pub struct DbSessionStore {
    pool: DbPool,
    expiries: ExpiriesRead,
    /// On SQLite, writes of sessions take their turn with the instance's other writes (a
    /// tick's write of the selection is most of them).
    write_turns: Option<WriteTurns>,
}

/// Each session's expiry as its request's `load` read it, taken back by the same request's
/// `update_ttl` (or `update`, `delete`), so that deciding whether to extend it asks the database
/// nothing more: one query fewer on every page. Shared by the workers; a request that ends
/// without asking leaves its entry, so the map is emptied when it reaches
/// [`EXPIRIES_REMEMBERED`] (the next `update_ttl` then reads the expiry as before).
#[derive(Clone, Default)]
struct ExpiriesRead(Arc<Mutex<HashMap<String, NaiveDateTime>>>);

impl ExpiriesRead {
    fn remember(&self, key: &str, expires_at: NaiveDateTime) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= EXPIRIES_REMEMBERED {
            map.clear();
        }
        map.insert(key.to_owned(), expires_at);
    }

    fn take(&self, key: &str) -> Option<NaiveDateTime> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(key)
    }
}

impl DbSessionStore {
    pub fn new(pool: DbPool, write_turns: Option<WriteTurns>) -> Self {
        Self {
            pool,
            expiries: ExpiriesRead::default(),
            write_turns,
        }
    }

    /// [`Self::run`] for work that writes: on SQLite in its turn, on a writer's connection. A
    /// session's write carries a change already made or asked for (a tick, a save's flash), so
    /// it waits for its turn longer than a request's own write ([`SESSION_WRITE_PATIENCE`]).
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        self.write_within(SESSION_WRITE_PATIENCE, work)
            .await?
            .map_err(|e| anyhow::anyhow!("session store: {e}"))
    }

    /// [`Self::write`] waiting at most `patience` for the turn (`Ok(Err(NoTurn))` if it did not
    /// come).
    async fn write_within<T: Send + 'static>(
        &self,
        patience: std::time::Duration,
        work: impl FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
    ) -> anyhow::Result<Result<T, NoTurn>> {
        let Some(turns) = &self.write_turns else {
            return self.run(work).await.map(Ok);
        };
        // Written with the other sessions' writes queued meanwhile, in one turn.
        match turns.grouped().write(patience, work).await {
            Ok(written) => written.map(Ok),
            Err(NoTurn) => Ok(Err(NoTurn)),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        run_on(self.pool.clone(), work).await
    }
}

async fn run_on<T: Send + 'static>(
    pool: DbPool,
    work: impl FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
) -> anyhow::Result<T> {
    let result = web::block(move || -> anyhow::Result<T> {
        let mut conn = pool.get()?;
        Ok(work(&mut conn)?)
    })
    .await;
    result.map_err(|e| anyhow::anyhow!("session store: {e}"))?
}

fn expiry(ttl: &Duration) -> NaiveDateTime {
    now() + TimeDelta::seconds(ttl.whole_seconds())
}

fn new_key() -> SessionKey {
    SessionKey::try_from(random_token(32)).expect("64 hex characters make a valid session key")
}

impl SessionStore for DbSessionStore {
    async fn load(&self, session_key: &SessionKey) -> Result<Option<SessionState>, LoadError> {
        let key = session_key.as_ref().to_owned();
        // Every request of a signed-in person asks this (see `on_own_connection`).
        let row: Option<(String, Moment)> = self
            .run(move |conn| {
                on_own_connection!(conn, |own| sessions::table
                    .filter(sessions::session_key.eq(key))
                    .filter(sessions::expires_at.gt(now()))
                    .select((sessions::state, sessions::expires_at))
                    .first(own)
                    .optional())
            })
            .await
            .map_err(LoadError::Other)?;
        row.map(|(state, expires_at)| {
            let expires_at = NaiveDateTime::from(expires_at);
            self.expiries.remember(session_key.as_ref(), expires_at);
            serde_json::from_str(&state).map_err(|e| LoadError::Deserialization(e.into()))
        })
        .transpose()
    }

    async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let body = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key = new_key();
        let stored = key.as_ref().to_owned();
        let expires = expiry(ttl);
        self.write(move |conn| {
            diesel::insert_into(sessions::table)
                .values((
                    sessions::session_key.eq(stored),
                    sessions::state.eq(body),
                    sessions::expires_at.eq(expires),
                ))
                .execute(conn)
        })
        .await
        .map_err(SaveError::Other)?;
        Ok(key)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        state: SessionState,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        self.expiries.take(session_key.as_ref());
        let body =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let key = session_key.as_ref().to_owned();
        let expires = expiry(ttl);
        let updated = self
            .write(move |conn| {
                diesel::update(
                    sessions::table
                        .filter(sessions::session_key.eq(key))
                        .filter(sessions::expires_at.gt(now())),
                )
                .set((sessions::state.eq(body), sessions::expires_at.eq(expires)))
                .execute(conn)
            })
            .await
            .map_err(UpdateError::Other)?;
        if updated == 1 {
            Ok(session_key)
        } else {
            // Expired, signed out or purged meanwhile (by another request of this session, say
            // a sign-out in another tab): keep nothing of it. Saving its state under a new key
            // would sign the browser in again; the cookie gets a key that holds nothing.
            Ok(new_key())
        }
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        let key = session_key.as_ref().to_owned();
        let expires = expiry(ttl);
        let stale_before = expires - TimeDelta::seconds(TTL_WRITE_GRANULARITY_SECONDS);
        // Decide on the expiry read first (by this request's load, or now): a write on every
        // request would queue every page view behind the single SQLite writer (and a bulk
        // deletion's batches).
        let read_by_load = self.expiries.take(&key);
        if read_by_load.is_some_and(|at| at >= stale_before) {
            return Ok(());
        }
        // Whether it moves is read without a turn: a session used by several requests at once
        // (tabs, or a page and its htmx requests) finds the expiry its load read taken by
        // another, and most of those reads find it fresh.
        let current = match read_by_load {
            Some(at) => Some(at),
            None => {
                let key = key.clone();
                let read = self
                    .run(move |conn| {
                        sessions::table
                            .filter(sessions::session_key.eq(key))
                            .select(sessions::expires_at)
                            .first(conn)
                            .optional()
                    })
                    .await;
                match read {
                    Ok(at) => at,
                    // A page served is not failed for an expiry a later request moves.
                    Err(error) => {
                        tracing::warn!(%error, "session expiry not read");
                        return Ok(());
                    }
                }
            }
        };
        if !current.is_some_and(|at| at < stale_before && at > now()) {
            return Ok(());
        }
        // Only the expiry moves: a page that reads does not wait long for it, nor fail without
        // it (a later request moves it). Another request may have moved it meanwhile.
        let moved = self
            .write_within(WriteTurns::PATIENCE, move |conn| {
                diesel::update(
                    sessions::table
                        .filter(sessions::session_key.eq(&key))
                        .filter(sessions::expires_at.gt(now()))
                        .filter(sessions::expires_at.lt(stale_before)),
                )
                .set(sessions::expires_at.eq(expires))
                .execute(conn)
            })
            .await?;
        if let Err(NoTurn) = moved {
            tracing::warn!("session expiry not moved: the writers' line is full");
        }
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        self.expiries.take(session_key.as_ref());
        let key = session_key.as_ref().to_owned();
        self.write(move |conn| {
            diesel::delete(sessions::table.filter(sessions::session_key.eq(key))).execute(conn)
        })
        .await?;
        Ok(())
    }
}

/// Deletes expired sessions; returns how many.
pub fn purge_expired(conn: &mut DbConn) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now()))).execute(conn)
}
