//! People who work the desk: accounts, roles, passwords and sign-in throttling. Knows nothing of
//! HTTP.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::customers::{lower, now};
use crate::db::{write_transaction, DbConn};
use crate::schema::{agents, login_failures};

/// Failed sign-ins for one email within [`THROTTLE_WINDOW_MINUTES`] before further attempts are
/// refused.
pub const MAX_FAILURES: i64 = 5;
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "admin" => Some(Self::Admin),
            "agent" => Some(Self::Agent),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Agent => "agent",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "Administrator",
            Self::Agent => "Agent",
        }
    }
}

/// A signed-in person, as the rest of the app sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
}

impl Agent {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(String),
    #[error("an account with the email {0} exists already")]
    EmailTaken(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown email or wrong password: deliberately one answer for both.
    #[error("the email and password do not match an account")]
    Invalid,
    #[error("too many failed sign-ins; try again in {retry_after_minutes} minutes")]
    Throttled { retry_after_minutes: i64 },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// A random token of `bytes` random bytes, hex-encoded (session keys, CSRF tokens, passwords).
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buffer);
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// argon2id with the crate's recommended parameters.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Verifying against this when the email is unknown makes both failures take as long.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("not a real password"))
}

fn row_to_agent((id, name, email, role): (i64, String, String, String)) -> Agent {
    Agent {
        id,
        name,
        email,
        // The CHECK constraint allows only the two; anything else gets the lesser role.
        role: Role::parse(&role).unwrap_or(Role::Agent),
    }
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Agent>> {
    agents::table
        .find(id)
        .select((agents::id, agents::name, agents::email, agents::role))
        .first(conn)
        .optional()
        .map(|row| row.map(row_to_agent))
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<Agent>> {
    agents::table
        .filter(lower(agents::email).eq(email.trim().to_lowercase()))
        .select((agents::id, agents::name, agents::email, agents::role))
        .first(conn)
        .optional()
        .map(|row| row.map(row_to_agent))
}

pub fn create(
    conn: &mut DbConn,
    name: &str,
    email: &str,
    password: &str,
    role: Role,
) -> Result<Agent, AccountError> {
    let email = email.trim();
    let name = name.trim();
    if !email.contains('@') || email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(AccountError::Invalid(format!(
            "{email:?} is not an email address"
        )));
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::Invalid(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    let name = if name.is_empty() {
        email.split('@').next().unwrap_or(email)
    } else {
        name
    };
    let hash = hash_password(password);
    write_transaction(conn, |conn| {
        if find_by_email(conn, email)?.is_some() {
            return Err(AccountError::EmailTaken(email.to_owned()));
        }
        let id = diesel::insert_into(agents::table)
            .values((
                agents::name.eq(name),
                agents::email.eq(email),
                agents::password_hash.eq(&hash),
                agents::role.eq(role.as_str()),
                agents::created_at.eq(now()),
            ))
            .returning(agents::id)
            .get_result(conn)?;
        Ok(Agent {
            id,
            name: name.to_owned(),
            email: email.to_owned(),
            role,
        })
    })
}

/// Checks an email and password. After [`MAX_FAILURES`] failures for an email within the window,
/// further attempts are refused without checking the password until the window has passed.
pub fn authenticate(conn: &mut DbConn, email: &str, password: &str) -> Result<Agent, SignInError> {
    let key = email.trim().to_lowercase();
    let at = now();
    let window_start = at - TimeDelta::minutes(THROTTLE_WINDOW_MINUTES);
    let recent: Vec<NaiveDateTime> = login_failures::table
        .filter(login_failures::email.eq(&key))
        .filter(login_failures::attempted_at.gt(window_start))
        .order(login_failures::attempted_at.asc())
        .select(login_failures::attempted_at)
        .load(conn)?;
    if recent.len() as i64 >= MAX_FAILURES {
        let oldest_relevant = recent[recent.len() - MAX_FAILURES as usize];
        let free_at = oldest_relevant + TimeDelta::minutes(THROTTLE_WINDOW_MINUTES);
        let minutes = ((free_at - at).num_seconds() + 59) / 60;
        return Err(SignInError::Throttled {
            retry_after_minutes: minutes.max(1),
        });
    }
    let stored: Option<((i64, String, String, String), String)> = agents::table
        .filter(lower(agents::email).eq(&key))
        .select((
            (agents::id, agents::name, agents::email, agents::role),
            agents::password_hash,
        ))
        .first(conn)
        .optional()?;
    let verified = match &stored {
        Some((_, hash)) => verify_password(password, hash),
        None => {
            verify_password(password, dummy_hash());
            false
        }
    };
    match stored {
        Some((row, _)) if verified => {
            diesel::delete(login_failures::table.filter(login_failures::email.eq(&key)))
                .execute(conn)?;
            Ok(row_to_agent(row))
        }
        _ => {
            diesel::insert_into(login_failures::table)
                .values((
                    login_failures::email.eq(&key),
                    login_failures::attempted_at.eq(at),
                ))
                .execute(conn)?;
            Err(SignInError::Invalid)
        }
    }
}

/// Forgets failed sign-ins older than the throttling window.
pub fn purge_old_failures(conn: &mut DbConn) -> QueryResult<usize> {
    let cutoff = now() - TimeDelta::minutes(THROTTLE_WINDOW_MINUTES);
    diesel::delete(login_failures::table.filter(login_failures::attempted_at.lt(cutoff)))
        .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery staple");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("Correct horse battery staple", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn tokens_are_random_hex() {
        let a = random_token(32);
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, random_token(32));
    }

    #[test]
    fn roles_parse() {
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("agent"), Some(Role::Agent));
        assert_eq!(Role::parse("root"), None);
    }
}
