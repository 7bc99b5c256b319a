//! `spawn_app`: the real application on a random port against a fresh database of either
//! backend. Around it: [`browser`] (an HTTP client that behaves like a browser without
//! JavaScript), [`fixtures`] (arranging data), [`db_checks`] (counting rows directly in the
//! database), [`forms`] (reading forms out of pages), [`postgres`] (a throwaway server when
//! `TEST_POSTGRES_URL` is unset) and [`skips`] (tests that cannot run here, said out loud).

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use customer_desk::accounts::Role;
use customer_desk::db::{self, DatabaseUrl, DbConn, DbPool};
use customer_desk::jobs::{Worker, WorkerSettings};
use customer_desk::maintenance::{Maintenance, MaintenanceSettings};
use customer_desk::passwords::CheckerSettings;
use customer_desk::retention::{RetentionSettings, Scheduler};
use customer_desk::startup::{self, ServerSettings, SignInSettings};
use customer_desk::state::AppState;
use diesel::prelude::*;

mod browser;
mod db_checks;
mod fixtures;
mod forms;
mod postgres;
pub mod retention;
pub mod skips;

pub use browser::{raw_get, Browser, Page};
pub use db_checks::{inconsistent_rows, row_counts, RowCounts, TestCounts};
pub use fixtures::Related;
pub use forms::{bulk_confirmation_fields, confirmation_fields, flash_of, ListForm};

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// PostgreSQL from `TEST_POSTGRES_URL` (a server where the tests may create databases),
    /// else this test binary's throwaway server (see [`postgres`]) when PostgreSQL's server
    /// binaries are installed. With neither, the PostgreSQL variant of a test is skipped and
    /// counted ([`skips`]), except under CI, where a skip would hide a failure.
    pub fn postgres() -> Option<Self> {
        if let Some(url) = std::env::var("TEST_POSTGRES_URL")
            .ok()
            .filter(|url| !url.is_empty())
        {
            return Some(Self::Postgres(url));
        }
        if let Some(url) = postgres::throwaway_url() {
            return Some(Self::Postgres(url));
        }
        if skips::in_ci() {
            panic!("CI=true but TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI");
        }
        skips::skip(skips::Skip::Postgres);
        None
    }
}

/// Runs each listed `async fn(Backend)` as two tests: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(backend) = $crate::helpers::Backend::postgres() {
                        super::$name(backend).await;
                    }
                }
            }
        )*
    };
}

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

/// A database that exists for one test and is removed after it.
pub enum TestDatabase {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            Self::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Self::Postgres { admin_url, name } => {
                if let Ok(mut conn) = PgConnection::establish(&without_tls(admin_url)) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn);
                }
            }
        }
    }
}

/// The URL with `sslmode=disable`: the tests talk to a server on this machine, and libpq's TLS
/// (OpenSSL) cleaning up at process exit while a pool thread still closes a connection has
/// crashed the test binary after all its tests had passed.
fn without_tls(url: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
}

fn unique_name() -> String {
    format!(
        "cdtest_{}_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::Relaxed),
        fastrand::u32(..)
    )
}

pub fn fresh_database(backend: &Backend) -> (DatabaseUrl, TestDatabase) {
    let name = unique_name();
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{name}.sqlite3"));
            (
                DatabaseUrl::Sqlite(path.clone()),
                TestDatabase::Sqlite(path),
            )
        }
        Backend::Postgres(admin_url) => {
            let mut admin = PgConnection::establish(&without_tls(admin_url))
                .unwrap_or_else(|e| panic!("cannot reach TEST_POSTGRES_URL: {e}"));
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .expect("create a test database");
            let (path, query) = admin_url.split_once('?').unwrap_or((admin_url, ""));
            let base = path
                .rsplit_once('/')
                .map(|(base, _)| base)
                .expect("TEST_POSTGRES_URL ends with /DATABASE");
            let url = match query {
                "" => format!("{base}/{name}"),
                query => format!("{base}/{name}?{query}"),
            };
            (
                DatabaseUrl::Postgres(without_tls(&url)),
                TestDatabase::Postgres {
                    admin_url: admin_url.clone(),
                    name,
                },
            )
        }
    }
}

pub struct TestApp {
    pub address: String,
    /// The database as the binary's DATABASE_URL names it (for the command line).
    pub database_url: String,
    pub pool: DbPool,
    /// A browser signed in as the administrator [`ADMIN_EMAIL`]; `app.get(…)` and friends use it.
    pub admin: Browser,
    /// The app's state: writes made by a test directly must reach its caches and its worker.
    pub state: Arc<AppState>,
    /// Stopped (and its thread joined) when the app is dropped, before its database goes.
    _worker: Worker,
    /// The health probe and WAL keeper, stopped when the app is dropped.
    _maintenance: Maintenance,
    /// The retention scheduler (off unless a test turns it on), stopped when the app is dropped.
    _retention: Scheduler,
    _database: TestDatabase,
}

pub const ADMIN_EMAIL: &str = "ada.admin@desk.example";
pub const ADMIN_NAME: &str = "Ada Admin";
pub const PASSWORD: &str = "correct horse battery staple";

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with_worker(backend, true).await
}

/// `worker: false` runs no deletion worker, so that a test can drive jobs itself.
pub async fn spawn_app_with_worker(backend: Backend, worker: bool) -> TestApp {
    let app = spawn_app_without_sign_in(backend, worker).await;
    app.create_account(ADMIN_NAME, ADMIN_EMAIL, Role::Admin)
        .await;
    let admin = app.sign_in(ADMIN_EMAIL, PASSWORD).await;
    TestApp { admin, ..app }
}

/// Settings a test can change: SQLite's busy timeout and WAL limit, the maintenance thread.
#[derive(Default, Clone)]
pub struct TestOptions {
    pub sqlite: db::SqliteOptions,
    pub maintenance: MaintenanceSettings,
}

/// The app with no account and an anonymous browser.
pub async fn spawn_app_without_sign_in(backend: Backend, worker: bool) -> TestApp {
    spawn_app_with_options(backend, worker, TestOptions::default()).await
}

/// The app with no account, with test settings changed by `adjust` before it starts.
pub async fn spawn_app_with_settings(
    backend: Backend,
    worker: bool,
    adjust: impl FnOnce(&mut ServerSettings),
) -> TestApp {
    spawn(backend, worker, TestOptions::default(), adjust).await
}

/// Like [`spawn_app`] (signed in as the administrator), with server settings changed by `adjust`.
pub async fn spawn_signed_in_with_settings(
    backend: Backend,
    adjust: impl FnOnce(&mut ServerSettings),
) -> TestApp {
    let app = spawn(backend, true, TestOptions::default(), adjust).await;
    app.create_account(ADMIN_NAME, ADMIN_EMAIL, Role::Admin)
        .await;
    let admin = app.sign_in(ADMIN_EMAIL, PASSWORD).await;
    TestApp { admin, ..app }
}

/// Like [`spawn_app`] (signed in as the administrator), with settings of the test's own.
pub async fn spawn_signed_in_with_options(backend: Backend, options: TestOptions) -> TestApp {
    let app = spawn_app_with_options(backend, true, options).await;
    app.create_account(ADMIN_NAME, ADMIN_EMAIL, Role::Admin)
        .await;
    let admin = app.sign_in(ADMIN_EMAIL, PASSWORD).await;
    TestApp { admin, ..app }
}

/// The app with no account and an anonymous browser, with settings of the test's own.
pub async fn spawn_app_with_options(
    backend: Backend,
    worker: bool,
    options: TestOptions,
) -> TestApp {
    spawn(backend, worker, options, |_| {}).await
}

async fn spawn(
    backend: Backend,
    worker: bool,
    options: TestOptions,
    adjust: impl FnOnce(&mut ServerSettings),
) -> TestApp {
    let (url, database) = fresh_database(&backend);
    let pool = db::connect_pool_with(&url, 4, options.sqlite.clone())
        .expect("connect to the test database");
    db::run_migrations(&mut pool.get().unwrap()).expect("migrate the test database");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a random port");
    let port = listener.local_addr().unwrap().port();
    let mut settings = ServerSettings {
        session_key: actix_web::cookie::Key::generate(),
        secure_cookies: false,
        workers: 2,
        session_idle: actix_web::cookie::time::Duration::hours(8),
        worker: WorkerSettings {
            enabled: worker,
            batch_size: 7,
            poll: std::time::Duration::from_millis(50),
            ..Default::default()
        },
        // Every test signs in from 127.0.0.1: no per-address limit unless a test sets one, and
        // a queue long enough for the concurrent sign-ins some tests make.
        sign_in: SignInSettings {
            checker: CheckerSettings {
                threads: 2,
                queue: 32,
            },
            per_minute: 0,
            // Refusals over the per-address limit wait (a flood is slowed down), less than by
            // default so that the tests of the limit stay quick.
            refusal_delay: std::time::Duration::from_millis(300),
            ..Default::default()
        },
        maintenance: options.maintenance,
        // Rules run only in the tests that turn the scheduler on (or call it themselves).
        retention: RetentionSettings {
            enabled: false,
            ..Default::default()
        },
        write_turns: db::WriteTurns::connect(&url, options.sqlite.clone())
            .expect("connect the writers"),
    };
    adjust(&mut settings);
    let running = startup::run(listener, pool.clone(), settings).expect("start the server");
    tokio::spawn(running.server);
    let address = format!("http://127.0.0.1:{port}");
    let database_url = match &url {
        DatabaseUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    TestApp {
        admin: Browser::new(&address),
        address,
        database_url,
        pool,
        _worker: running.worker,
        state: running.state,
        _maintenance: running.maintenance,
        _retention: running.retention,
        _database: database,
    }
}

impl TestApp {
    /// The app with `admin` as its signed-in browser (for apps started without one).
    pub fn with_browser(app: TestApp, admin: Browser) -> TestApp {
        TestApp { admin, ..app }
    }

    /// The database file, on SQLite.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match &self._database {
            TestDatabase::Sqlite(path) => Some(path.clone()),
            TestDatabase::Postgres { .. } => None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Page {
        self.admin.get(path).await
    }

    pub async fn get_htmx(&self, path: &str) -> Page {
        self.admin.get_htmx(path).await
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.admin.post_form(path, form).await
    }

    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        self.admin.post_raw(path, content_type, body).await
    }

    /// A new browser, signed in with these credentials.
    pub async fn sign_in(&self, email: &str, password: &str) -> Browser {
        let browser = Browser::new(&self.address);
        browser.get("/login").await.assert_status(200);
        let signed_in = browser
            .post_form("/login", &[("email", email), ("password", password)])
            .await;
        signed_in.assert_status(303);
        // Signing in starts a new session with a new token, as the next page would show.
        browser.forget_csrf();
        browser
    }

    /// Runs database work for arranging or checking a test, off the async runtime.
    pub async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConn) -> T + Send + 'static,
    ) -> T {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || work(&mut pool.get().unwrap()))
            .await
            .unwrap()
    }
}
