//! actix-session's server-side store, kept in the application's own database so that it works on
//! both backends and is shared by every instance. The cookie carries only the opaque key.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::cookie::time::Duration;
use actix_web::web;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::{now, DbConn, DbPool};
use crate::schema::sessions;
use crate::tokens::random_token;

type SessionState = HashMap<String, String>;

/// A session's expiry is written again only when it moves by more than this, so that a busy
/// session does not write on every request.
const TTL_WRITE_GRANULARITY_SECONDS: i64 = 60;

#[derive(Clone)]
pub struct DbSessionStore {
    pool: DbPool,
}

impl DbSessionStore {
    pub fn new(pool: DbPool) -> Self {
        Self { pool }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let pool = self.pool.clone();
        let result = web::block(move || -> anyhow::Result<T> {
            let mut conn = pool.get()?;
            Ok(work(&mut conn)?)
        })
        .await;
        result.map_err(|e| anyhow::anyhow!("session store: {e}"))?
    }
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
        let state: Option<String> = self
            .run(move |conn| {
                sessions::table
                    .filter(sessions::session_key.eq(key))
                    .filter(sessions::expires_at.gt(now()))
                    .select(sessions::state)
                    .first(conn)
                    .optional()
            })
            .await
            .map_err(LoadError::Other)?;
        state
            .map(|s| serde_json::from_str(&s).map_err(|e| LoadError::Deserialization(e.into())))
            .transpose()
    }

    async fn save(&self, state: SessionState, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let body = serde_json::to_string(&state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key = new_key();
        let stored = key.as_ref().to_owned();
        let expires = expiry(ttl);
        self.run(move |conn| {
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
        let body =
            serde_json::to_string(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let key = session_key.as_ref().to_owned();
        let expires = expiry(ttl);
        let updated = self
            .run(move |conn| {
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
            // Expired or purged meanwhile: never revive an old key, start a new session.
            self.save(state, ttl).await.map_err(|e| match e {
                SaveError::Serialization(e) => UpdateError::Serialization(e),
                SaveError::Other(e) => UpdateError::Other(e),
            })
        }
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        let key = session_key.as_ref().to_owned();
        let expires = expiry(ttl);
        let stale_before = expires - TimeDelta::seconds(TTL_WRITE_GRANULARITY_SECONDS);
        self.run(move |conn| {
            // Read first: a write on every request would queue every page view behind the
            // single SQLite writer (and a bulk deletion's batches).
            let current: Option<NaiveDateTime> = sessions::table
                .filter(sessions::session_key.eq(&key))
                .select(sessions::expires_at)
                .first(conn)
                .optional()?;
            match current {
                Some(at) if at < stale_before && at > now() => diesel::update(
                    sessions::table
                        .filter(sessions::session_key.eq(&key))
                        .filter(sessions::expires_at.gt(now())),
                )
                .set(sessions::expires_at.eq(expires))
                .execute(conn),
                _ => Ok(0),
            }
        })
        .await?;
        Ok(())
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        let key = session_key.as_ref().to_owned();
        self.run(move |conn| {
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
