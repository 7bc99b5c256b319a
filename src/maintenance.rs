//! The background maintenance thread: a health probe that writes one tiny row every few seconds
//! (so that `/healthz` can report whether the database can be written without any request
//! writing), and on SQLite a WAL checkpoint with TRUNCATE when the WAL passes a bound or the
//! server is idle, so that the WAL stays bounded, and the search's FTS5 indexes in few segments,
//! a step at a time (`search_merge.rs`).

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::db::{DbConn, DbPool};
use crate::search_merge::SearchMerger;
use crate::state::AppState;
use crate::{login_throttle, session_store};

/// How the maintenance thread works.
#[derive(Debug, Clone)]
pub struct MaintenanceSettings {
    /// Time between two probes (and WAL checks).
    pub every: Duration,
    /// `/healthz` fails when the last successful write is older than this.
    pub stale_after: Duration,
    /// SQLite: checkpoint with TRUNCATE when the WAL file is larger than this.
    pub wal_bound_bytes: u64,
    /// SQLite: also checkpoint when no request came for this long and the WAL is not empty.
    pub idle_after: Duration,
    /// SQLite: the checkpoint's own busy timeout, short so that it never holds writers up long.
    pub checkpoint_busy_timeout: Duration,
}

impl Default for MaintenanceSettings {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(5),
            stale_after: Duration::from_secs(30),
            wal_bound_bytes: 64 * 1024 * 1024,
            idle_after: Duration::from_secs(60),
            checkpoint_busy_timeout: Duration::from_millis(100),
        }
    }
}

/// The outcome of the last probe, shared with `/healthz`.
#[derive(Debug, Default)]
pub struct Health {
    last: Mutex<Option<Probe>>,
    stale_after: Duration,
}

#[derive(Debug, Clone)]
struct Probe {
    at: Instant,
    error: Option<String>,
    last_success: Option<Instant>,
}

impl Health {
    pub fn new(stale_after: Duration) -> Self {
        Self {
            last: Mutex::new(None),
            stale_after,
        }
    }

    fn record(&self, outcome: Result<(), String>) {
        let mut last = crate::lock(&self.last);
        let previous_success = last.as_ref().and_then(|p| p.last_success);
        let now = Instant::now();
        *last = Some(match outcome {
            Ok(()) => Probe {
                at: now,
                error: None,
                last_success: Some(now),
            },
            Err(error) => Probe {
                at: now,
                error: Some(error),
                last_success: previous_success,
            },
        });
    }

    /// `Ok` when the last write succeeded recently, else what failed.
    pub fn writes(&self) -> Result<(), String> {
        let last = crate::lock(&self.last).clone();
        match last {
            None => Err("writes not checked yet".into()),
            Some(Probe {
                error: Some(error), ..
            }) => Err(format!("writes failing: {error}")),
            Some(probe) if probe.at.elapsed() > self.stale_after => Err(format!(
                "writes not checked for {} s",
                probe.at.elapsed().as_secs()
            )),
            Some(_) => Ok(()),
        }
    }
}

/// Reads nothing but checks that the database answers a read (what `/healthz` itself does).
pub fn probe_read(conn: &mut DbConn) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}

/// Writes the probe's row.
pub fn probe_write(conn: &mut DbConn) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO health_probe (id, checked_at) VALUES (1, CURRENT_TIMESTAMP) \
         ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
    )
    .execute(conn)
    .map(drop)
}

/// The running thread; stops (and is joined) when dropped.
pub struct Maintenance {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Maintenance {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Maintenance {
    /// Probes once before returning (so that `/healthz` is right from the first request),
    /// then starts the thread.
    pub fn spawn(
        pool: DbPool,
        settings: MaintenanceSettings,
        health: Arc<Health>,
        state: Arc<AppState>,
    ) -> Self {
        health.record(probe(&pool));
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("maintenance".into())
            .spawn(move || {
                let mut wal = WalKeeper::default();
                let mut search = SearchMerger::default();
                let mut requests = state.arrivals.requests_received();
                let mut quiet_since = Instant::now();
                loop {
                    match stopped.recv_timeout(settings.every) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                    health.record(probe(&pool));
                    let now_requests = state.arrivals.requests_received();
                    if now_requests != requests {
                        requests = now_requests;
                        quiet_since = Instant::now();
                    }
                    let idle = quiet_since.elapsed() >= settings.idle_after;
                    wal.keep_bounded(&pool, &settings, idle);
                    if wal.is_sqlite() {
                        merge_search(&pool, &mut search);
                    }
                }
            })
            .expect("start the maintenance thread");
        Self {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

/// The purger thread: every 10 minutes it forgets expired sessions and sign-in throttling
/// windows that have passed. Stops (and is joined) when dropped.
pub struct Purger {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Purger {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Purger {
    pub const EVERY: Duration = Duration::from_secs(600);

    pub fn spawn(pool: DbPool) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("purger".into())
            .spawn(move || loop {
                match stopped.recv_timeout(Self::EVERY) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                purge(&pool);
            })
            .expect("start the purger thread");
        Self {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

fn purge(pool: &DbPool) {
    let purged = pool
        .get()
        .map_err(anyhow::Error::from)
        .and_then(|mut conn| {
            let sessions = session_store::purge_expired(&mut conn)?;
            login_throttle::purge_expired(&mut conn)?;
            Ok(sessions)
        });
    match purged {
        Ok(0) => {}
        Ok(sessions) => tracing::info!(sessions, "purged expired sessions"),
        Err(error) => tracing::warn!(error = format!("{error:#}"), "purge failed"),
    }
}

fn merge_search(pool: &DbPool, search: &mut SearchMerger) {
    let merged = pool
        .get()
        .map_err(anyhow::Error::from)
        .and_then(|mut conn| Ok(search.step(&mut conn)?));
    if let Err(error) = merged {
        tracing::warn!(
            error = format!("{error:#}"),
            "merging the search indexes failed"
        );
    }
}

fn probe(pool: &DbPool) -> Result<(), String> {
    let outcome = pool
        .get()
        .map_err(|e| e.to_string())
        .and_then(|mut conn| probe_write(&mut conn).map_err(|e| e.to_string()));
    if let Err(error) = &outcome {
        tracing::warn!(error, "health probe: the database cannot be written");
    }
    outcome
}

/// SQLite's WAL file, found once from the database's own file name.
#[derive(Default)]
struct WalKeeper {
    database: Option<Option<PathBuf>>,
}

impl WalKeeper {
    /// Known after the first `keep_bounded`.
    fn is_sqlite(&self) -> bool {
        matches!(self.database, Some(Some(_)))
    }

    fn keep_bounded(&mut self, pool: &DbPool, settings: &MaintenanceSettings, idle: bool) {
        if self.database.is_none() {
            // Asked again next tick if the pool or the query fails, rather than taken for
            // PostgreSQL (which would end the WAL bound and the search merging for good).
            let Ok(mut conn) = pool.get() else {
                return;
            };
            let file = sqlite_file(&mut conn);
            if matches!(*conn, DbConn::Sqlite(_)) && file.is_none() {
                return;
            }
            self.database = Some(file);
        }
        let Some(Some(database)) = &self.database else {
            return;
        };
        let mut wal = database.clone().into_os_string();
        wal.push("-wal");
        let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        crate::telemetry::wal_bytes(size);
        if size > settings.wal_bound_bytes || (idle && size > 0) {
            match checkpoint(database, settings.checkpoint_busy_timeout) {
                Ok(()) => tracing::debug!(wal_bytes = size, "WAL checkpointed and truncated"),
                Err(error) => tracing::info!(error, "WAL checkpoint postponed"),
            }
        }
    }
}

/// The main database file of an SQLite connection; `None` on PostgreSQL.
fn sqlite_file(conn: &mut DbConn) -> Option<PathBuf> {
    #[derive(QueryableByName)]
    struct File {
        #[diesel(sql_type = diesel::sql_types::Text)]
        file: String,
    }
    let DbConn::Sqlite(_) = conn else {
        return None;
    };
    diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .get_result::<File>(conn)
        .ok()
        .filter(|f| !f.file.is_empty())
        .map(|f| PathBuf::from(f.file))
}

/// `PRAGMA wal_checkpoint(TRUNCATE)` on a connection of its own with a short busy timeout.
pub fn checkpoint(database: &std::path::Path, busy_timeout: Duration) -> Result<(), String> {
    #[derive(QueryableByName)]
    struct Outcome {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        busy: i32,
    }
    let mut conn =
        SqliteConnection::establish(&database.to_string_lossy()).map_err(|e| e.to_string())?;
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {};",
        busy_timeout.as_millis()
    ))
    .map_err(|e| e.to_string())?;
    let outcome = diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
        .get_result::<Outcome>(&mut conn)
        .map_err(|e| e.to_string())?;
    match outcome.busy {
        0 => Ok(()),
        _ => Err("the database was busy".into()),
    }
}
