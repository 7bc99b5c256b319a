//! Sign-in throttling: at most [`MAX_ATTEMPTS`] password checks per key within
//! [`WINDOW_MINUTES`]. Each attempt reserves its place with one atomic upsert before the password
//! is checked, so concurrent attempts cannot all slip past a check; a success clears the key.
//! Knows nothing of HTTP.
//!
//! The key is `email:<lowercased email>` for a browser the account has never signed in from, or
//! `device:<nonce>` for a browser holding that account's device cookie (OWASP "device cookies"):
//! failing from elsewhere then locks out unknown browsers only, never the owner's own.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::dsl::case_when;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel::upsert::excluded;

use crate::db::{now, DbConn};
use crate::schema::login_throttle;

/// Password checks allowed per key within the window.
pub const MAX_ATTEMPTS: i64 = 5;
pub const WINDOW_MINUTES: i64 = 15;

/// What a sign-in attempt is throttled by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleKey {
    /// A browser without a device cookie for the account.
    Email(String),
    /// A browser that signed in to the account before (the nonce of its device cookie).
    Device(String),
}

impl ThrottleKey {
    pub fn email(email: &str) -> Self {
        Self::Email(email.trim().to_lowercase())
    }

    fn as_key(&self) -> String {
        match self {
            Self::Email(email) => format!("email:{email}"),
            Self::Device(nonce) => format!("device:{nonce}"),
        }
    }
}

/// The outcome of [`reserve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The password may be checked.
    Allowed,
    /// Too many attempts: refuse without checking, for this many more seconds.
    Refused { retry_after_seconds: i64 },
}

/// Counts one attempt for `key` and says whether its password may be checked. Atomic on both
/// backends: the upsert takes the row's lock (PostgreSQL) or the database's write lock (SQLite),
/// so that N concurrent attempts get the counts 1..=N.
pub fn reserve(conn: &mut DbConn, key: &ThrottleKey) -> QueryResult<Reservation> {
    let at = now();
    let key_text = key.as_key();
    // `ON CONFLICT` is not available through the two-backend connection type: the same
    // statement is built for each backend's own connection.
    macro_rules! upsert {
        ($conn:expr) => {{
            let expired = login_throttle::window_start.le(at - TimeDelta::minutes(WINDOW_MINUTES));
            diesel::insert_into(login_throttle::table)
                .values((
                    login_throttle::throttle_key.eq(&key_text),
                    login_throttle::window_start.eq(at),
                    login_throttle::attempts.eq(1_i64),
                ))
                .on_conflict(login_throttle::throttle_key)
                .do_update()
                .set((
                    login_throttle::window_start.eq(case_when(
                        expired,
                        excluded(login_throttle::window_start),
                    )
                    .otherwise(login_throttle::window_start)),
                    login_throttle::attempts.eq(case_when(expired, 1_i64.into_sql::<BigInt>())
                        .otherwise(login_throttle::attempts + 1_i64)),
                ))
                .returning((login_throttle::attempts, login_throttle::window_start))
                .get_result::<(i64, NaiveDateTime)>($conn)
        }};
    }
    let (attempts, window_start) = match conn {
        DbConn::Sqlite(conn) => upsert!(conn)?,
        DbConn::Pg(conn) => upsert!(conn)?,
    };
    if attempts <= MAX_ATTEMPTS {
        return Ok(Reservation::Allowed);
    }
    let free_at = window_start + TimeDelta::minutes(WINDOW_MINUTES);
    Ok(Reservation::Refused {
        retry_after_seconds: (free_at - at).num_seconds().max(1),
    })
}

/// Gives back an attempt that was reserved but never checked (the checker was busy).
pub fn release(conn: &mut DbConn, key: &ThrottleKey) -> QueryResult<()> {
    diesel::update(
        login_throttle::table
            .filter(login_throttle::throttle_key.eq(key.as_key()))
            .filter(login_throttle::attempts.gt(0_i64)),
    )
    .set(login_throttle::attempts.eq(login_throttle::attempts - 1_i64))
    .execute(conn)?;
    Ok(())
}

/// A successful sign-in starts the key afresh.
pub fn clear(conn: &mut DbConn, key: &ThrottleKey) -> QueryResult<()> {
    diesel::delete(login_throttle::table.filter(login_throttle::throttle_key.eq(key.as_key())))
        .execute(conn)?;
    Ok(())
}

/// Forgets keys whose window has passed.
pub fn purge_expired(conn: &mut DbConn) -> QueryResult<usize> {
    let cutoff = now() - TimeDelta::minutes(WINDOW_MINUTES);
    diesel::delete(login_throttle::table.filter(login_throttle::window_start.le(cutoff)))
        .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_and_emails_lowercased() {
        assert_eq!(
            ThrottleKey::email(" Ada@Desk.Example ").as_key(),
            "email:ada@desk.example"
        );
        assert_eq!(ThrottleKey::Device("ab12".into()).as_key(), "device:ab12");
    }
}
