//! The operator's parts of the command line: `backup`, `restore-check`, the log format, and
//! `serve`'s metrics address and backups before bulk deletions.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use anyhow::Context;
use customer_desk::backup::{self, before_bulk::BackupBeforeBulk, check, BackupError};
use customer_desk::db::{self, DatabaseUrl, DbPool};
use customer_desk::telemetry;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// For people: one readable line per event.
    Text,
    /// For machines: one JSON object per line, with the request's span (request id, method,
    /// path) in every line of a request.
    Json,
}

/// The log format chosen at start (set once by `logging::init`).
pub static LOG_FORMAT: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

/// A line for the person starting the server (where it listens): printed as is in text mode,
/// and as a log event in JSON mode, so that every line of the output is JSON for a collector.
pub fn announce(line: &str) {
    match LOG_FORMAT.get() {
        Some(LogFormat::Json) => tracing::info!("{line}"),
        _ => println!("{line}"),
    }
}

/// `serve`'s operator options.
#[derive(clap::Args, Debug, Clone)]
pub struct OpsArgs {
    /// Serve Prometheus metrics at http://ADDR/metrics (off unless set; keep it private,
    /// e.g. 127.0.0.1:9464).
    #[arg(long, env = "METRICS_BIND")]
    pub metrics_bind: Option<String>,
    /// SQLite: before a bulk deletion of more than N customers starts, write a backup of the
    /// database (off unless set).
    #[arg(long, env = "BACKUP_BEFORE_BULK", value_name = "N")]
    pub backup_before_bulk: Option<i64>,
    /// Where those backups go (default: a `backups` directory next to the database file).
    #[arg(long, env = "BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
}

/// The metrics recorder and the metrics address's listener, when `--metrics-bind` is set.
pub struct Metrics {
    listener: TcpListener,
    handle: metrics_exporter_prometheus::PrometheusHandle,
}

impl Metrics {
    /// Installs the recorder (before the app starts, so that its first request is counted)
    /// and binds the address.
    pub fn start(args: &OpsArgs) -> anyhow::Result<Option<Self>> {
        let Some(bind) = &args.metrics_bind else {
            return Ok(None);
        };
        let listener = TcpListener::bind(bind)
            .with_context(|| format!("cannot listen on {bind} for metrics"))?;
        let handle = telemetry::install()?;
        let address = listener.local_addr()?;
        announce(&format!("Metrics on http://{address}/metrics"));
        if !address.ip().is_loopback() {
            // The metrics need no sign-in: counts of jobs, sessions and sign-in refusals.
            tracing::warn!(
                %address,
                "the metrics are served without sign-in on an address other machines may reach: keep it behind a firewall, or bind to 127.0.0.1"
            );
        }
        Ok(Some(Self { listener, handle }))
    }

    /// Starts serving them; call inside the actix system. The server stops with the process.
    pub fn serve(self, pool: DbPool) -> std::io::Result<actix_web::dev::ServerHandle> {
        let server = telemetry::server::serve(self.listener, pool, self.handle)?;
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Ok(handle)
    }
}

/// The worker's backup setting from `--backup-before-bulk` and `--backup-dir`.
pub fn backup_before_bulk(url: &DatabaseUrl, args: &OpsArgs) -> Option<BackupBeforeBulk> {
    let above = args.backup_before_bulk?;
    let DatabaseUrl::Sqlite(database) = url else {
        tracing::warn!("--backup-before-bulk works on SQLite only: ignored (use pg_dump)");
        return None;
    };
    let dir = args.backup_dir.clone().unwrap_or_else(|| {
        database
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("backups")
    });
    Some(BackupBeforeBulk {
        above: above.max(0),
        dir,
    })
}

/// `backup --to FILE`.
/// Exit status 0 when written, 2 when refused (PostgreSQL, or the file exists).
pub fn backup(url: &DatabaseUrl, to: &Path) -> anyhow::Result<i32> {
    if matches!(url, DatabaseUrl::Postgres(_)) {
        eprintln!("{}", backup::USE_PG_DUMP);
        return Ok(2);
    }
    let pool = db::connect_pool(url, 1)?;
    let mut conn = pool.get()?;
    match backup::write(&mut conn, to) {
        Ok(written) => {
            print!("{written}");
            Ok(0)
        }
        Err(
            error @ (BackupError::Exists(_) | BackupError::NotAFile(_) | BackupError::Postgres),
        ) => {
            eprintln!("{error}");
            Ok(2)
        }
        Err(error) => Err(error.into()),
    }
}

/// `restore-check FILE`: exit 0 when the copy passed, 1 when it did not.
pub fn restore_check(file: &Path) -> anyhow::Result<i32> {
    let report = check::restore_check(file)?;
    println!("{}\n{report}", file.display());
    Ok(if report.passed() { 0 } else { 1 })
}

/// `recount [--fix]`: the counts of tickets, chats and notes kept on each customer against the
/// rows there are. Exit status 0 when right (or fixed), 1 when some are wrong and not fixed.
pub fn recount(url: &DatabaseUrl, fix: bool) -> anyhow::Result<i32> {
    let pool = db::connect_pool(url, 1)?;
    let mut conn = pool.get()?;
    db::run_migrations(&mut conn)?;
    let report = if fix {
        customer_desk::deletion::recount_kept_counts(&mut conn)?
    } else {
        customer_desk::deletion::check_kept_counts(&mut conn)?
    };
    let said = if fix { "corrected" } else { "miscounted" };
    for (column, customers) in &report.miscounted {
        println!("{column}: {customers} customer(s) {said}");
    }
    Ok(match (report.total(), fix) {
        (0, _) => {
            println!("the kept counts are right");
            0
        }
        (n, true) => {
            println!("fixed {n} kept count(s)");
            0
        }
        (_, false) => {
            println!("run `customer-desk recount --fix` to set them to the rows there are");
            1
        }
    })
}
