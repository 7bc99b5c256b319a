//! People who work the desk: accounts, roles and passwords (hashing and checking are in
//! `passwords.rs`, sign-in throttling in `login_throttle.rs`). Knows nothing of HTTP.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::db::{lower, now, write_transaction, DbConn};
pub use crate::passwords::hash_password;
use crate::schema::agents;

pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
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

/// Accounts as read in the last [`RecentAccounts::FOR`], for requests that only read: a page
/// then asks the database one question fewer. Accounts change in another process (the command
/// line), which cannot tell this one; so a request that changes anything reads its account
/// again, and an account removed or made an agent can change nothing after that, though it may
/// still see pages for that long.
#[derive(Debug, Default)]
pub struct RecentAccounts(Mutex<HashMap<i64, Read>>);

/// What the database said of an account, asked at `asked` (`None`: no such account).
#[derive(Debug)]
struct Read {
    asked: Instant,
    agent: Option<Agent>,
}

impl RecentAccounts {
    pub const FOR: Duration = Duration::from_secs(2);
    /// Cleared when it holds this many (only signed-in accounts are put in).
    const AT_MOST: usize = 10_000;

    /// The account, if it was read less than [`Self::FOR`] ago and existed then.
    pub fn get(&self, id: i64) -> Option<Agent> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&id)
            .filter(|read| read.asked.elapsed() < Self::FOR)
            .and_then(|read| read.agent.clone())
    }

    /// What the database said about account `id` when asked at `asked` (taken before the
    /// query): an answer older than the one kept is dropped, so a slow reader cannot put back
    /// an account that a later one found removed or changed.
    pub fn read(&self, id: i64, asked: Instant, agent: Option<&Agent>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(&id).is_some_and(|kept| kept.asked > asked) {
            return;
        }
        if map.len() >= Self::AT_MOST {
            map.clear();
        }
        let agent = agent.cloned();
        map.insert(id, Read { asked, agent });
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

/// The account an email signs in to (case-insensitive), with its password hash: what a sign-in
/// needs from the database before checking the password away from it.
pub fn for_sign_in(conn: &mut DbConn, email: &str) -> QueryResult<Option<(Agent, String)>> {
    agents::table
        .filter(lower(agents::email).eq(email.trim().to_lowercase()))
        .select((
            (agents::id, agents::name, agents::email, agents::role),
            agents::password_hash,
        ))
        .first(conn)
        .optional()
        .map(|found| found.map(|(row, hash)| (row_to_agent(row), hash)))
}

/// Whether an email and password could be sign-in credentials at all (no control characters,
/// an email of at most 254 bytes, a password of at most 1,024): anything else is refused without
/// asking the database.
pub fn plausible_credentials(email: &str, password: &str) -> bool {
    let clean = |s: &str| !s.chars().any(char::is_control);
    !email.trim().is_empty()
        && email.len() <= 254
        && password.len() <= 1024
        && clean(email)
        && clean(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implausible_credentials() {
        assert!(plausible_credentials("ada@desk.example", "any password"));
        assert!(!plausible_credentials("a\0b", "x"));
        assert!(!plausible_credentials("ada@desk.example", "pass\nword"));
        assert!(!plausible_credentials(&"a".repeat(255), "x"));
        assert!(!plausible_credentials(
            "ada@desk.example",
            &"x".repeat(1025)
        ));
        assert!(!plausible_credentials("  ", "x"));
    }

    #[test]
    fn roles_parse() {
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("agent"), Some(Role::Agent));
        assert_eq!(Role::parse("root"), None);
    }
}
