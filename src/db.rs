//! Database access shared by every part of the app: one connection type over SQLite and
//! PostgreSQL, the pool, migrations, and a write transaction that behaves the same on both.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// One connection type, two backends: every query in the app is written once against this.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

pub type DbPool = Pool<ConnectionManager>;

/// The backend a connection speaks to, for the few queries written differently per backend
/// (the search uses each backend's own trigram index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn of(conn: &DbConn) -> Self {
        match conn {
            DbConn::Sqlite(_) => Self::Sqlite,
            DbConn::Pg(_) => Self::Postgres,
        }
    }
}
pub type PooledConn = PooledConnection<ConnectionManager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The versions of the SQLite migrations embedded in this binary, oldest first, as
/// `__diesel_schema_migrations` stores them (for `restore-check`).
pub fn embedded_sqlite_versions() -> Vec<String> {
    use diesel::migration::MigrationSource;
    let migrations: Vec<Box<dyn diesel::migration::Migration<diesel::sqlite::Sqlite>>> =
        MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
            .unwrap_or_default();
    let mut versions: Vec<String> = migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    versions.sort();
    versions
}

/// Where the data lives, decided from the URL's scheme (never by trial and error, so a wrong
/// PostgreSQL password is reported as such and not as an odd SQLite file name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// `postgres://…` or `postgresql://…`, `sqlite://PATH`, or a bare file path.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        let path = path.strip_prefix("sqlite:").unwrap_or(path);
        if path.is_empty() || path.contains(":memory:") {
            return Err(format!(
                "{url:?} is not a usable database: give postgres://…, sqlite://PATH or a file path"
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }

    /// The URL with any password blanked, for logs.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme_end), Some(at)) if at > scheme_end => {
                    let userinfo = &url[scheme_end + 3..at];
                    let user = userinfo.split(':').next().unwrap_or("");
                    format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                }
                _ => url.clone(),
            },
        }
    }
}

/// How SQLite connections are prepared (PostgreSQL ignores these).
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// How long a statement waits for another writer's lock before "database is locked".
    pub busy_timeout: Duration,
    /// `PRAGMA journal_size_limit`: the WAL is cut back to this size after each checkpoint.
    pub journal_size_limit_bytes: u64,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(5),
            journal_size_limit_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Opens connections of the backend named by the URL and prepares each one.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    sqlite: SqliteOptions,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self::with_options(url, SqliteOptions::default())
    }

    pub fn with_options(url: DatabaseUrl, sqlite: SqliteOptions) -> Self {
        Self { url, sqlite }
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())
                    .map_err(r2d2::Error::ConnectionError)?;
                // busy_timeout first: the other pragmas may already need to wait for a lock.
                // foreign_keys is per connection, and without it the cascades silently do
                // nothing. journal_size_limit keeps the WAL from staying large after a
                // checkpoint (the maintenance thread also truncates it, see maintenance.rs).
                // recursive_triggers: a REPLACE that removes a row fires its delete triggers
                // only with it, and the kept counts of tickets, chats and notes rely on them.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA recursive_triggers = ON;
                     PRAGMA journal_size_limit = {};",
                    self.sqlite.busy_timeout.as_millis(),
                    self.sqlite.journal_size_limit_bytes
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                // The app serves many small queries at once: one big query in parallel (a
                // listing rebuilt, a total recounted) would take every core from all others.
                conn.batch_execute("SET max_parallel_workers_per_gather = 0")
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Pg(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        R2D2Connection::is_broken(conn)
    }
}

/// Builds the pool, connecting once up front so that a bad URL or password fails at start with
/// the database's own message.
pub fn connect_pool(url: &DatabaseUrl, max_size: u32) -> anyhow::Result<DbPool> {
    connect_pool_with(url, max_size, SqliteOptions::default())
}

/// [`connect_pool`] with SQLite options of one's own.
pub fn connect_pool_with(
    url: &DatabaseUrl,
    max_size: u32,
    sqlite: SqliteOptions,
) -> anyhow::Result<DbPool> {
    let manager = ConnectionManager::with_options(url.clone(), sqlite);
    if let Err(error) = manager.connect() {
        anyhow::bail!(
            "cannot open the {} database {}: {error}",
            url.backend_name(),
            url.redacted()
        );
    }
    let pool = Pool::builder()
        .max_size(max_size)
        // A SQLite connection is a file handle that does not go stale: testing it with a query
        // on every checkout cost 6 % of page 1's CPU. A PostgreSQL one may have been cut.
        .test_on_check_out(matches!(url, DatabaseUrl::Postgres(_)))
        .connection_timeout(Duration::from_secs(10))
        .build(manager)?;
    Ok(pool)
}

/// Applies the pending embedded migrations of the connection's backend; returns their names.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// A transaction that holds the write lock from its first statement.
///
/// On SQLite a plain `BEGIN` reads first and upgrades to a writer later, and that upgrade fails
/// at once with "database is locked" when another writer went first; `BEGIN IMMEDIATE` waits for
/// the lock (busy_timeout) instead. PostgreSQL uses row locks, so a plain `BEGIN` is right there.
pub fn write_transaction<T, E>(
    conn: &mut DbConn,
    work: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match work(conn) {
        Ok(value) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            <DbConn as Connection>::TransactionManager::rollback_transaction(conn)?;
            Err(error)
        }
    }
}

/// A read-only transaction whose reads all see the database as it was at its start (on SQLite,
/// a WAL read transaction; on PostgreSQL, REPEATABLE READ), begun by a first read. Inside a
/// transaction already, that one is used as it is.
#[must_use = "end it with Snapshot::end"]
pub struct Snapshot {
    began: bool,
}

/// Whether the connection is inside a transaction (whose reads may show an earlier state than
/// a new statement would).
pub fn in_transaction(conn: &mut DbConn) -> QueryResult<bool> {
    let depth = <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()?;
    Ok(depth.is_some())
}

impl Snapshot {
    pub fn begin(conn: &mut DbConn) -> QueryResult<Self> {
        if in_transaction(conn)? {
            return Ok(Self { began: false });
        }
        <DbConn as Connection>::TransactionManager::begin_transaction(conn)?;
        let first_read = match conn {
            DbConn::Pg(c) => c.batch_execute(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;
                 SELECT 1 FROM customers LIMIT 1",
            ),
            DbConn::Sqlite(c) => c.batch_execute("SELECT 1 FROM customers LIMIT 1"),
        };
        if let Err(error) = first_read {
            <DbConn as Connection>::TransactionManager::rollback_transaction(conn)?;
            return Err(error);
        }
        Ok(Self { began: true })
    }

    /// Whether the snapshot began here, after what was read before `begin` (false: it is the
    /// transaction already open, begun earlier).
    pub fn began(&self) -> bool {
        self.began
    }

    /// Ends the snapshot (nothing was written to the database, on SQLite at most to the
    /// connection's temporary tables, `customers/search_copies.rs`: a commit only ends it) and
    /// returns `read`.
    pub fn end<T>(self, conn: &mut DbConn, read: QueryResult<T>) -> QueryResult<T> {
        if self.began {
            match &read {
                Ok(_) => <DbConn as Connection>::TransactionManager::commit_transaction(conn)?,
                Err(_) => <DbConn as Connection>::TransactionManager::rollback_transaction(conn)?,
            }
        }
        read
    }
}

diesel::define_sql_function!(
    /// SQL lower(): case-insensitive matching that both backends index.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

diesel::define_sql_function!(
    /// SQL COALESCE of a nullable BIGINT (a function call keeps its statement cacheable, where a
    /// piece of literal SQL would not).
    fn coalesce(
        x: diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        y: diesel::sql_types::BigInt
    ) -> diesel::sql_types::BigInt);

/// `$body` with `$c` the backend's own connection (`SqliteConnection` or `PgConnection`), for the
/// queries every page asks. Diesel's `MultiConnection` writes a query's whole SQL on every walk
/// of it, the statement cache's safety check and the binding too, even when its statement is
/// kept (a tenth of page 1's instructions, callgrind); on the backend's own connection a kept
/// statement of static type is found by its type and only bound. `$body` is written once and
/// compiled for each backend.
macro_rules! on_own_connection {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($c) => $body,
            $crate::db::DbConn::Pg($c) => $body,
        }
    };
}
pub(crate) use on_own_connection;

mod in_ids;
pub use in_ids::{in_customer_ids, CustomersId, InIds};
mod grouped_writes;
mod moment;
mod text_query;
mod write_turns;
pub use grouped_writes::GroupedWrites;
pub use moment::Moment;
pub(crate) use text_query::text_query;
pub use write_turns::{NoTurn, WriteTurn, WriteTurns, Writer};

/// Timestamps are stored in UTC without a zone (the one timestamp type both backends share),
/// to the microsecond so that both backends hold the same value.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::microseconds(1)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_by_scheme() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u:p@h/db").unwrap(),
            DatabaseUrl::Postgres("postgres://u:p@h/db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/desk.db").unwrap(),
            DatabaseUrl::Sqlite("data/desk.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///abs/desk.db").unwrap(),
            DatabaseUrl::Sqlite("/abs/desk.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("desk.db").unwrap(),
            DatabaseUrl::Sqlite("desk.db".into())
        );
        assert!(DatabaseUrl::parse("").is_err());
        assert!(DatabaseUrl::parse("sqlite::memory:").is_err());
    }

    #[test]
    fn redaction_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://app:secret@db.local:5432/desk").unwrap();
        assert_eq!(url.redacted(), "postgres://app:***@db.local:5432/desk");
        assert!(!url.redacted().contains("secret"));
    }
}
