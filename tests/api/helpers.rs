//! `spawn_app`: the real application on a random port against a fresh database of either
//! backend, plus helpers to arrange data and count rows directly in the database.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDateTime;
use customer_desk::accounts::{self, Role};
use customer_desk::customers;
use customer_desk::db::{self, now, DatabaseUrl, DbConn, DbPool};
use customer_desk::domain::customer_form::ValidCustomer;
use customer_desk::jobs::{Worker, WorkerSettings};
use customer_desk::maintenance::{Maintenance, MaintenanceSettings};
use customer_desk::passwords::CheckerSettings;
use customer_desk::schema::{
    chat_conversations, chat_messages, customers as customers_table, deletion_records, notes,
    ticket_messages, tickets,
};
use customer_desk::startup::{self, ServerSettings, SignInSettings};
use customer_desk::state::AppState;
use diesel::dsl::{exists, not};
use diesel::prelude::*;
use reqwest::cookie::{CookieStore, Jar};

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    /// PostgreSQL from `TEST_POSTGRES_URL` (a database the tests may create databases from).
    /// Without it the PostgreSQL variant of a test is skipped, except under CI, where a skip
    /// would hide a failure.
    pub fn postgres() -> Option<Self> {
        match std::env::var("TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(Self::Postgres(url)),
            _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("CI=true but TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI")
            }
            _ => {
                eprintln!("skipped: set TEST_POSTGRES_URL to run this test on PostgreSQL");
                None
            }
        }
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
                if let Ok(mut conn) = PgConnection::establish(admin_url) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut conn);
                }
            }
        }
    }
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
            let mut admin = PgConnection::establish(admin_url)
                .unwrap_or_else(|e| panic!("cannot reach TEST_POSTGRES_URL: {e}"));
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .expect("create a test database");
            let base = admin_url
                .rsplit_once('/')
                .map(|(base, _)| base)
                .expect("TEST_POSTGRES_URL ends with /DATABASE");
            (
                DatabaseUrl::Postgres(format!("{base}/{name}")),
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
    pub pool: DbPool,
    /// A browser signed in as the administrator [`ADMIN_EMAIL`]; `app.get(…)` and friends use it.
    pub admin: Browser,
    /// The app's state: writes made by a test directly must reach its caches and its worker.
    pub state: Arc<AppState>,
    /// Stopped (and its thread joined) when the app is dropped, before its database goes.
    _worker: Worker,
    /// The health probe and WAL keeper, stopped when the app is dropped.
    _maintenance: Maintenance,
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
    let pool =
        db::connect_pool_with(&url, 4, options.sqlite).expect("connect to the test database");
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
            ..Default::default()
        },
        maintenance: options.maintenance,
    };
    adjust(&mut settings);
    let running = startup::run(listener, pool.clone(), settings).expect("start the server");
    tokio::spawn(running.server);
    let address = format!("http://127.0.0.1:{port}");
    TestApp {
        admin: Browser::new(&address),
        address,
        pool,
        state: running.state,
        _worker: running.worker,
        _maintenance: running.maintenance,
        _database: database,
    }
}

/// A browser without JavaScript: a cookie jar, no automatic redirects, and the CSRF token of the
/// last page it saw, which it puts in the forms it posts (as a browser submitting that page's
/// form would).
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    base: String,
    csrf: Mutex<Option<String>>,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .build()
            .unwrap();
        Self {
            client,
            jar,
            base: base.to_owned(),
            csrf: Mutex::new(None),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The session cookie's value, if any.
    pub fn session_cookie(&self) -> Option<String> {
        let url = self.base.parse().unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .find_map(|c| c.strip_prefix("desk_session="))
            .map(str::to_owned)
    }

    fn remember_csrf(&self, page: &Page) {
        if let Some(token) = extract_csrf(&page.body) {
            *self.csrf.lock().unwrap() = Some(token);
        }
    }

    pub fn forget_csrf(&self) {
        *self.csrf.lock().unwrap() = None;
    }

    pub async fn csrf_token(&self) -> String {
        if let Some(token) = self.csrf.lock().unwrap().clone() {
            return token;
        }
        let page = self.get("/people/customers").await;
        if let Some(token) = extract_csrf(&page.body) {
            return token;
        }
        let login = self.get("/login").await;
        extract_csrf(&login.body).expect("the sign-in page has a CSRF token")
    }

    pub async fn get(&self, path: &str) -> Page {
        let page = read(self.client.get(self.url(path)).send().await.unwrap()).await;
        self.remember_csrf(&page);
        page
    }

    pub async fn get_htmx(&self, path: &str) -> Page {
        read(
            self.client
                .get(self.url(path))
                .header("HX-Request", "true")
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Posts the form with this session's CSRF token added.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let token = self.csrf_token().await;
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf_token", &token));
        self.post_form_as_is(path, &fields).await
    }

    /// Posts exactly these fields: no CSRF token unless given.
    pub async fn post_form_as_is(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let page = read(
            self.client
                .post(self.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(form).unwrap())
                .send()
                .await
                .unwrap(),
        )
        .await;
        self.remember_csrf(&page);
        page
    }

    /// Posts a raw body with the CSRF token in the header, as htmx does.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let token = self.csrf_token().await;
        read(
            self.client
                .post(self.url(path))
                .header("content-type", content_type)
                .header("X-CSRF-Token", token)
                .body(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

fn extract_csrf(body: &str) -> Option<String> {
    let marker = r#"name="csrf_token" value=""#;
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

/// A response read whole.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body:\n{}",
            self.body
        );
        self
    }

    pub fn assert_contains(&self, text: &str) -> &Self {
        assert!(
            self.body.contains(text),
            "expected {text:?} in the page; body:\n{}",
            self.body
        );
        self
    }

    pub fn assert_lacks(&self, text: &str) -> &Self {
        assert!(
            !self.body.contains(text),
            "did not expect {text:?} in the page; body:\n{}",
            self.body
        );
        self
    }

    /// A redirect to the sign-in page.
    pub fn assert_sign_in_redirect(&self) -> &Self {
        assert_eq!(
            self.status, 303,
            "expected a redirect; body:\n{}",
            self.body
        );
        let location = self.location.as_deref().unwrap_or_default();
        assert!(location.starts_with("/login"), "redirected to {location}");
        self
    }
}

async fn read(response: reqwest::Response) -> Page {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let location = headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.text().await.unwrap();
    Page {
        status,
        location,
        headers,
        body,
    }
}

/// Rows in each data table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RowCounts {
    pub customers: i64,
    pub tickets: i64,
    pub ticket_messages: i64,
    pub chats: i64,
    pub chat_messages: i64,
    pub notes: i64,
}

/// Something to give a customer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Related {
    pub tickets: usize,
    pub trashed_tickets: usize,
    pub messages_per_ticket: usize,
    pub chats: usize,
    pub messages_per_chat: usize,
    pub notes: usize,
}

impl TestApp {
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

    pub async fn create_account(&self, name: &str, email: &str, role: Role) -> i64 {
        let (name, email) = (name.to_owned(), email.to_owned());
        self.db(move |conn| {
            accounts::create(conn, &name, &email, PASSWORD, role)
                .unwrap()
                .id
        })
        .await
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

    pub async fn add_customer(&self, first: &str, last: &str, email: &str, org: &str) -> i64 {
        let customer = ValidCustomer {
            first_name: first.into(),
            last_name: last.into(),
            email: email.into(),
            phone: String::new(),
            organisation: org.into(),
            job_title: String::new(),
        };
        let state = self.state.clone();
        self.db(move |conn| customers::create(conn, &state, &customer).unwrap())
            .await
    }

    pub async fn add_customer_with(&self, first: &str, last: &str, related: Related) -> i64 {
        let email = format!("{}.{}.{}@example.com", first, last, fastrand::u32(..)).to_lowercase();
        let id = self.add_customer(first, last, &email, "Example Ltd").await;
        self.give(id, related).await;
        id
    }

    /// Inserts tickets (the first `trashed_tickets` of them in the trash), chats and notes.
    pub async fn give(&self, customer: i64, related: Related) {
        self.db(move |conn| insert_related(conn, customer, related))
            .await
    }

    /// Sets a customer's creation time (to make sorting by date deterministic).
    pub async fn set_created(&self, customer: i64, at: NaiveDateTime) {
        self.db(move |conn| {
            diesel::update(customers_table::table.find(customer))
                .set(customers_table::created_at.eq(at))
                .execute(conn)
                .unwrap()
        })
        .await;
    }

    pub async fn row_counts(&self) -> RowCounts {
        self.db(row_counts).await
    }

    /// Rows of one customer in each table (0 customers when it is gone).
    pub async fn row_counts_of(&self, customer: i64) -> RowCounts {
        self.db(move |conn| {
            let ticket_ids = tickets::table
                .filter(tickets::customer_id.eq(customer))
                .select(tickets::id);
            let chat_ids = chat_conversations::table
                .filter(chat_conversations::customer_id.eq(customer))
                .select(chat_conversations::id);
            RowCounts {
                customers: customers_table::table
                    .filter(customers_table::id.eq(customer))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                tickets: tickets::table
                    .filter(tickets::customer_id.eq(customer))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                ticket_messages: ticket_messages::table
                    .filter(ticket_messages::ticket_id.eq_any(ticket_ids))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                chats: chat_conversations::table
                    .filter(chat_conversations::customer_id.eq(customer))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                chat_messages: chat_messages::table
                    .filter(chat_messages::conversation_id.eq_any(chat_ids))
                    .count()
                    .get_result(conn)
                    .unwrap(),
                notes: notes::table
                    .filter(notes::customer_id.eq(customer))
                    .count()
                    .get_result(conn)
                    .unwrap(),
            }
        })
        .await
    }

    /// Child rows whose parent is gone, in every child table: must always be zero.
    pub async fn orphans(&self) -> i64 {
        self.db(orphans).await
    }

    /// (kind, customers, tickets, chats, notes, customer_ids, actor_name) of every deletion
    /// record, oldest first.
    pub async fn deletion_records(&self) -> Vec<(String, i64, i64, i64, i64, String, String)> {
        self.db(|conn| {
            deletion_records::table
                .order(deletion_records::id.asc())
                .select((
                    deletion_records::kind,
                    deletion_records::customers,
                    deletion_records::tickets,
                    deletion_records::chats,
                    deletion_records::notes,
                    deletion_records::customer_ids,
                    deletion_records::actor_name,
                ))
                .load(conn)
                .unwrap()
        })
        .await
    }
}

pub fn insert_related(conn: &mut DbConn, customer: i64, related: Related) {
    let at = now();
    for n in 0..related.tickets {
        let ticket: i64 = diesel::insert_into(tickets::table)
            .values((
                tickets::customer_id.eq(customer),
                tickets::subject.eq(format!("Ticket {n}")),
                tickets::status.eq("active"),
                tickets::trashed_at.eq((n < related.trashed_tickets).then_some(at)),
                tickets::created_at.eq(at),
            ))
            .returning(tickets::id)
            .get_result(conn)
            .unwrap();
        for m in 0..related.messages_per_ticket {
            diesel::insert_into(ticket_messages::table)
                .values((
                    ticket_messages::ticket_id.eq(ticket),
                    ticket_messages::body.eq(format!("Message {m}")),
                    ticket_messages::created_at.eq(at),
                ))
                .execute(conn)
                .unwrap();
        }
    }
    for _ in 0..related.chats {
        let chat: i64 = diesel::insert_into(chat_conversations::table)
            .values((
                chat_conversations::customer_id.eq(customer),
                chat_conversations::started_at.eq(at),
            ))
            .returning(chat_conversations::id)
            .get_result(conn)
            .unwrap();
        for m in 0..related.messages_per_chat {
            diesel::insert_into(chat_messages::table)
                .values((
                    chat_messages::conversation_id.eq(chat),
                    chat_messages::body.eq(format!("Chat message {m}")),
                    chat_messages::created_at.eq(at),
                ))
                .execute(conn)
                .unwrap();
        }
    }
    for n in 0..related.notes {
        diesel::insert_into(notes::table)
            .values((
                notes::customer_id.eq(customer),
                notes::body.eq(format!("Note {n}")),
                notes::created_at.eq(at),
            ))
            .execute(conn)
            .unwrap();
    }
}

/// Undoes the HTML escaping of an attribute value.
pub fn unescape(value: &str) -> String {
    value
        .replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
}

/// The value of the first `name="…" value="…"` input after `from` in the page.
pub fn input_value(body: &str, name: &str, from: usize) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = body[from..].find(&marker)? + from + marker.len();
    let end = body[start..].find('"')? + start;
    Some(unescape(&body[start..end]))
}

/// The customers list's selection form as a browser without JavaScript would submit it.
#[derive(Debug, Clone)]
pub struct ListForm {
    pub fields: Vec<(String, String)>,
    /// Row checkboxes on the page, and whether each is ticked.
    pub rows: Vec<(i64, bool)>,
}

impl ListForm {
    pub fn from_page(page: &Page) -> Self {
        let body = &page.body;
        let form = body
            .find(r#"id="selection-form""#)
            .expect("the page has the selection form");
        let fields = ["csrf_token", "q", "return_to", "page_ids"]
            .iter()
            .map(|name| {
                (
                    name.to_string(),
                    input_value(body, name, form).unwrap_or_default(),
                )
            })
            .collect();
        let mut rows = Vec::new();
        let mut at = form;
        let marker = r#"class="row-check" name="ids" value=""#;
        while let Some(found) = body[at..].find(marker) {
            let start = at + found + marker.len();
            let end = start + body[start..].find('"').unwrap();
            let id: i64 = body[start..end].parse().unwrap();
            let tag_end = start + body[start..].find('>').unwrap();
            rows.push((id, body[start..tag_end].contains(" checked")));
            at = tag_end;
        }
        Self { fields, rows }
    }

    pub fn ids(&self) -> Vec<i64> {
        self.rows.iter().map(|(id, _)| *id).collect()
    }

    pub fn ticked(&self) -> Vec<i64> {
        self.rows
            .iter()
            .filter(|(_, t)| *t)
            .map(|(id, _)| *id)
            .collect()
    }

    pub fn tick(&mut self, id: i64, on: bool) -> &mut Self {
        let row = self
            .rows
            .iter_mut()
            .find(|(r, _)| *r == id)
            .expect("row on the page");
        row.1 = on;
        self
    }

    /// Submits with the given submit button (`("action", "all")`, `("goto", "?page=2")`, …).
    pub async fn submit(&self, browser: &Browser, button: Option<(&str, &str)>) -> Page {
        let mut fields: Vec<(&str, &str)> = self
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let ticked: Vec<String> = self.ticked().iter().map(i64::to_string).collect();
        for id in &ticked {
            fields.push(("ids", id));
        }
        if let Some(button) = button {
            fields.push(button);
        }
        browser
            .post_form_as_is("/people/customers/selection", &fields)
            .await
    }
}

/// The hidden fields of the bulk confirmation form on a page.
pub fn bulk_confirmation_fields(page: &Page) -> Vec<(String, String)> {
    let form = page
        .body
        .find(r#"action="/people/customers/selection/delete""#)
        .expect("the page has the bulk confirmation form");
    [
        "csrf_token",
        "token",
        "version",
        "count",
        "digest",
        "tickets",
        "tickets_in_trash",
        "chats",
        "notes",
    ]
    .iter()
    .map(|name| {
        (
            name.to_string(),
            input_value(&page.body, name, form).expect("hidden field"),
        )
    })
    .collect()
}

impl TestApp {
    /// Waits until a deletion job is done (the app's worker runs it); returns its id.
    pub async fn wait_for_job(&self, job: i64) {
        use customer_desk::schema::deletion_jobs;
        for _ in 0..400 {
            let status: String = self
                .db(move |conn| {
                    deletion_jobs::table
                        .find(job)
                        .select(deletion_jobs::status)
                        .first(conn)
                        .unwrap()
                })
                .await;
            if status == "done" {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("deletion job {job} did not finish");
    }

    pub async fn job_count(&self) -> i64 {
        use customer_desk::schema::deletion_jobs;
        self.db(|conn| deletion_jobs::table.count().get_result(conn).unwrap())
            .await
    }

    /// Inserts `count` bare customers of one organisation in one statement (fast, for size tests).
    pub async fn add_many_customers(&self, count: i64, organisation: &'static str) {
        self.db(move |conn| {
            diesel::sql_query(format!(
                "INSERT INTO customers (first_name, last_name, email, phone, organisation, \
                 job_title, created_at, updated_at) \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
                 SELECT 'Many', 'Person' || i, '{organisation}' || i || '@many.example', '', \
                 '{organisation}', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM n"
            ))
            .execute(conn)
            .unwrap()
        })
        .await;
    }
}

/// Rows in each data table.
pub fn row_counts(conn: &mut DbConn) -> RowCounts {
    RowCounts {
        customers: customers_table::table.count().get_result(conn).unwrap(),
        tickets: tickets::table.count().get_result(conn).unwrap(),
        ticket_messages: ticket_messages::table.count().get_result(conn).unwrap(),
        chats: chat_conversations::table.count().get_result(conn).unwrap(),
        chat_messages: chat_messages::table.count().get_result(conn).unwrap(),
        notes: notes::table.count().get_result(conn).unwrap(),
    }
}

/// Child rows whose parent is gone, in every child table.
pub fn orphans(conn: &mut DbConn) -> i64 {
    let tickets: i64 = tickets::table
        .filter(not(exists(
            customers_table::table.filter(customers_table::id.eq(tickets::customer_id)),
        )))
        .count()
        .get_result(conn)
        .unwrap();
    let ticket_messages: i64 = ticket_messages::table
        .filter(not(exists(
            tickets::table.filter(tickets::id.eq(ticket_messages::ticket_id)),
        )))
        .count()
        .get_result(conn)
        .unwrap();
    let chats: i64 = chat_conversations::table
        .filter(not(exists(customers_table::table.filter(
            customers_table::id.eq(chat_conversations::customer_id),
        ))))
        .count()
        .get_result(conn)
        .unwrap();
    let chat_messages: i64 = chat_messages::table
        .filter(not(exists(chat_conversations::table.filter(
            chat_conversations::id.eq(chat_messages::conversation_id),
        ))))
        .count()
        .get_result(conn)
        .unwrap();
    let notes: i64 = notes::table
        .filter(not(exists(
            customers_table::table.filter(customers_table::id.eq(notes::customer_id)),
        )))
        .count()
        .get_result(conn)
        .unwrap();
    tickets + ticket_messages + chats + chat_messages + notes
}

/// Counting for a database with no app of ours around it.
pub struct TestCounts {
    pub pool: DbPool,
}

impl TestCounts {
    pub fn row_counts(&self) -> RowCounts {
        row_counts(&mut self.pool.get().unwrap())
    }

    pub fn orphans(&self) -> i64 {
        orphans(&mut self.pool.get().unwrap())
    }
}
