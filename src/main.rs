//! `customer-desk`: serve the app, migrate the database, seed it with realistic data, or delete
//! customers by criteria, back up and check a database (`cli/`).

use std::net::TcpListener;
use std::time::Duration;

mod cli;

use anyhow::Context;
use clap::{Parser, Subcommand};
use customer_desk::accounts::{self, AccountError, Role};
use customer_desk::db::{self, DatabaseUrl};
use customer_desk::maintenance::MaintenanceSettings;
use customer_desk::retention::RetentionSettings;
use customer_desk::startup::{self, ServerSettings};
use customer_desk::tokens::random_token;
use customer_desk::{customers, jobs, seed};

const DEMO_CUSTOMERS: u64 = 2_000;

#[derive(Parser)]
#[command(
    name = "customer-desk",
    version,
    about = "People › Customers for a help desk"
)]
struct Cli {
    /// postgres://…, sqlite://PATH or a file path.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "customer-desk.sqlite3",
        global = true
    )]
    database_url: String,

    /// Log filter, such as info, debug or customer_desk=debug,actix_web=info.
    #[arg(long, env = "LOG_LEVEL", default_value = "info", global = true)]
    log_level: String,

    /// `text` for people, `json` (one object per line) for log collectors.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: cli::LogFormat,

    /// `serve`'s options also work without the word `serve`.
    #[command(flatten)]
    serve: ServeArgs,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the app (the default).
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate,
    /// Create an account. Reads the password from standard input when --password is absent.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: Option<String>,
        #[arg(long, value_enum)]
        role: Role,
        /// Shown in the header and in the deletion history (default: the email's local part).
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Add N deterministic, realistic customers with tickets, chats and notes.
    Seed {
        #[arg(long)]
        customers: u64,
        /// Seed of the random generator: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// `realistic` (varied data) or `bench` (the Django benchmark's exact shape).
        #[arg(long, value_enum, default_value_t = seed::Shape::Realistic)]
        shape: seed::Shape,
    },
    /// Delete the customers matching a search and filters (as the list's "All (N)"): without
    /// --yes, only say what would be deleted.
    Delete(cli::delete::DeleteArgs),
    /// SQLite: write a consistent copy of the (running) database to FILE and print its size
    /// and row counts. On PostgreSQL: says to use pg_dump, and exits 2.
    Backup {
        #[arg(long, value_name = "FILE")]
        to: std::path::PathBuf,
    },
    /// Check a copy of an SQLite database: integrity, orphans, migrations level, row counts.
    /// Exits 1 when the copy would not do.
    RestoreCheck { file: std::path::PathBuf },
    /// Check the counts of tickets, chats and notes kept on each customer (what a bulk
    /// confirmation shows) against the rows there are; with --fix, correct them. Exits 1 when
    /// some are wrong and not fixed.
    Recount {
        #[arg(long)]
        fix: bool,
    },
    /// Retention rules: list them, or run them now (for cron instead of `serve`'s schedule).
    Retention {
        #[command(subcommand)]
        command: cli::retention::RetentionCommand,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Seed 2,000 customers when the database is empty, and create admin@example.com and
    /// agent@example.com (printing their passwords once) when they do not exist.
    #[arg(long)]
    demo: bool,
    /// Hours without a request after which a session ends.
    #[arg(long, env = "SESSION_IDLE_HOURS", default_value_t = ServerSettings::DEFAULT_SESSION_IDLE_HOURS)]
    session_idle_hours: i64,
    /// Session cookie key (at least 64 bytes, e.g. `openssl rand -hex 64`); sessions do not
    /// survive a restart without one.
    #[arg(long, env = "SESSION_KEY", hide_env_values = true)]
    session_key: Option<String>,
    /// Mark cookies Secure: set when the site is served over HTTPS.
    #[arg(long, env = "SECURE_COOKIES")]
    secure_cookies: bool,
    /// HTTP worker threads (0 = one per core).
    #[arg(long, env = "WORKERS", default_value_t = 0)]
    workers: usize,
    /// Customers a bulk deletion deletes per transaction.
    #[arg(long, env = "DELETION_BATCH_SIZE", default_value_t = 500)]
    deletion_batch_size: i64,
    /// Rest between bulk deletion batches, in milliseconds (0: none).
    #[arg(long, env = "DELETION_PAUSE_MS", default_value_t = 0)]
    deletion_pause_ms: u64,
    /// Seconds after which a deletion job left by a stopped or crashed instance is taken over.
    #[arg(long, env = "JOB_LEASE_SECONDS", default_value_t = 15)]
    job_lease_seconds: u64,
    /// Run no deletion worker in this instance (another instance on the same database does).
    #[arg(long, env = "NO_DELETION_WORKER")]
    no_deletion_worker: bool,
    /// Database connections in the pool.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 8)]
    pool_size: u32,
    /// Threads that check sign-in passwords (argon2id, 19 MiB each; 0 = half the cores, at
    /// least one).
    #[arg(long, env = "LOGIN_HASH_THREADS", default_value_t = 0)]
    login_hash_threads: usize,
    /// Sign-in password checks that may wait for a thread; beyond that sign-in answers 503
    /// (0 = twice the threads).
    #[arg(long, env = "LOGIN_HASH_QUEUE", default_value_t = 0)]
    login_hash_queue: usize,
    /// Sign-in attempts per minute from one client address (IPv6: per /64); 0 = no limit.
    #[arg(long, env = "LOGIN_PER_MINUTE", default_value_t = 10)]
    login_per_minute: u32,
    /// Sign-in attempts one client address may make in a burst.
    #[arg(long, env = "LOGIN_BURST", default_value_t = 5)]
    login_burst: u32,
    /// Milliseconds an attempt over the per-address limit waits for its refusal (slows a flood
    /// client down to one attempt a wait per connection); 0 = answer at once.
    #[arg(long, env = "LOGIN_REFUSAL_DELAY_MS", default_value_t = 1000)]
    login_refusal_delay_ms: u64,
    /// A reverse proxy whose X-Forwarded-For is believed (repeat, or separate with commas).
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxy: Vec<std::net::IpAddr>,
    /// SQLite: the WAL file is checkpointed and truncated when it grows past this many MiB
    /// (and when the server is idle); also each connection's journal_size_limit.
    #[arg(long, env = "WAL_BOUND_MIB", default_value_t = 64)]
    wal_bound_mib: u64,
    /// How often each active retention rule runs: such as 24h, 90m or 1m (at least 1 minute).
    #[arg(long, env = "RETENTION_INTERVAL", default_value = "24h", value_parser = RetentionSettings::parse_interval)]
    retention_interval: Duration,
    /// Seconds between two writes of the health probe, which /healthz reports.
    #[arg(long, env = "HEALTH_PROBE_SECONDS", default_value_t = 5)]
    health_probe_seconds: u64,
    #[command(flatten)]
    ops: cli::OpsArgs,
}

fn main() -> anyhow::Result<()> {
    customer_desk::memory::limit_malloc_arenas();
    let cli = Cli::parse();
    cli::logging::init(&cli.log_level, cli.log_format)?;
    let url = DatabaseUrl::parse(&cli.database_url).map_err(anyhow::Error::msg)?;
    match cli.command {
        None => serve(&url, cli.serve),
        Some(Command::CreateUser {
            email,
            password,
            role,
            name,
        }) => {
            let password = match password {
                Some(password) => password,
                None => read_password()?,
            };
            let pool = db::connect_pool(&url, 1)?;
            let mut conn = pool.get()?;
            db::run_migrations(&mut conn)?;
            let agent = accounts::create(&mut conn, &name, &email, &password, role)?;
            println!(
                "Created {} <{}> ({})",
                agent.name,
                agent.email,
                role.as_str()
            );
            Ok(())
        }
        Some(Command::Serve(args)) => serve(&url, args),
        Some(Command::Delete(args)) => cli::delete::run(&url, args),
        Some(Command::Backup { to }) => std::process::exit(cli::backup(&url, &to)?),
        Some(Command::RestoreCheck { file }) => std::process::exit(cli::restore_check(&file)?),
        Some(Command::Recount { fix }) => std::process::exit(cli::recount(&url, fix)?),
        Some(Command::Migrate) => {
            let pool = db::connect_pool(&url, 1)?;
            let applied = db::run_migrations(&mut *pool.get()?)?;
            println!(
                "{}: {} migration(s) applied{}",
                url.redacted(),
                applied.len(),
                if applied.is_empty() {
                    " (up to date)".to_owned()
                } else {
                    format!(": {}", applied.join(", "))
                }
            );
            Ok(())
        }
        Some(Command::Seed {
            customers,
            seed: rng_seed,
            shape,
        }) => {
            let pool = db::connect_pool(&url, 1)?;
            let mut conn = pool.get()?;
            db::run_migrations(&mut conn)?;
            let report = seed::seed_shaped(&mut conn, customers, rng_seed, shape, true)?;
            println!("{report}");
            Ok(())
        }
        Some(Command::Retention { command }) => cli::retention::run(&url, command),
    }
}

fn serve(url: &DatabaseUrl, args: ServeArgs) -> anyhow::Result<()> {
    customer_desk::slow_queries::log_slow_queries();
    let metrics = cli::Metrics::start(&args.ops)?;
    let wal_bound = args.wal_bound_mib.max(1) * 1024 * 1024;
    let sqlite = db::SqliteOptions {
        journal_size_limit_bytes: wal_bound,
        ..Default::default()
    };
    let pool = db::connect_pool_with(url, args.pool_size.max(1), sqlite.clone())?;
    {
        let mut conn = pool.get()?;
        let applied = db::run_migrations(&mut conn)?;
        if !applied.is_empty() {
            tracing::info!(migrations = applied.join(", "), "migrated");
        }
        if args.demo {
            if customers::count_matching(&mut conn, &Default::default())? == 0 {
                tracing::info!(
                    customers = DEMO_CUSTOMERS,
                    "empty database: seeding demo data"
                );
                // On a connection of its own, closed afterwards: seeding sets bulk-load
                // pragmas (synchronous = OFF, a 256 MiB cache) that must not reach the
                // connections that serve requests.
                let seeding = db::connect_pool_with(url, 1, sqlite.clone())?;
                seed::seed(&mut *seeding.get()?, DEMO_CUSTOMERS, 1, false)?;
            }
            for (name, email, role) in [
                ("Demo Administrator", "admin@example.com", Role::Admin),
                ("Demo Agent", "agent@example.com", Role::Agent),
            ] {
                let password = random_token(9);
                match accounts::create(&mut conn, name, email, &password, role) {
                    Ok(_) => println!("Demo {}: {email} / {password}", role.label().to_lowercase()),
                    Err(AccountError::EmailTaken(_)) => {}
                    Err(error) => return Err(error.into()),
                }
            }
        }
    }
    let session_key = match args.session_key.as_deref() {
        Some(key) if key.len() >= 64 => actix_web::cookie::Key::derive_from(key.as_bytes()),
        Some(_) => anyhow::bail!("SESSION_KEY must be at least 64 characters long"),
        None => {
            tracing::warn!("no SESSION_KEY set: using a random one, so sessions end at restart");
            actix_web::cookie::Key::generate()
        }
    };
    let metrics_pool = pool.clone();
    let listener =
        TcpListener::bind(&args.bind).with_context(|| format!("cannot listen on {}", args.bind))?;
    let address = listener.local_addr()?;
    let settings = ServerSettings {
        session_key,
        secure_cookies: args.secure_cookies,
        workers: args.workers,
        session_idle: actix_web::cookie::time::Duration::hours(args.session_idle_hours.max(1)),
        worker: jobs::WorkerSettings {
            enabled: !args.no_deletion_worker,
            batch_size: args.deletion_batch_size.clamp(1, 5_000),
            pause: Duration::from_millis(args.deletion_pause_ms),
            lease: Duration::from_secs(args.job_lease_seconds.max(1)),
            backup_before_bulk: cli::backup_before_bulk(url, &args.ops),
            ..Default::default()
        },
        sign_in: sign_in_settings(&args),
        maintenance: MaintenanceSettings {
            every: Duration::from_secs(args.health_probe_seconds.max(1)),
            stale_after: Duration::from_secs(args.health_probe_seconds.max(1) * 3 + 15),
            wal_bound_bytes: wal_bound,
            ..Default::default()
        },
        retention: RetentionSettings::every(args.retention_interval),
        write_turns: db::WriteTurns::connect(url, sqlite)?,
    };
    cli::announce(&format!(
        "Customer Desk on {} ({}): http://{address}/people/customers",
        url.redacted(),
        url.backend_name()
    ));
    actix_web::rt::System::new().block_on(async move {
        // actix-web stops gracefully on SIGINT and SIGTERM: it stops accepting, lets requests
        // in flight finish (30 s at most), then returns here; the deletion worker then finishes
        // its current batch.
        let startup::Running {
            server,
            worker,
            maintenance,
            purger,
            retention,
            state: _,
        } = startup::run(listener, pool, settings)?;
        let metrics = metrics.map(|m| m.serve(metrics_pool)).transpose()?;
        let stopped = server.await;
        if let Some(metrics) = metrics {
            metrics.stop(false).await;
        }
        drop(retention);
        drop(worker);
        drop(maintenance);
        drop(purger);
        stopped
    })?;
    tracing::info!("stopped");
    Ok(())
}

fn sign_in_settings(args: &ServeArgs) -> startup::SignInSettings {
    let threads = match args.login_hash_threads {
        0 => customer_desk::passwords::CheckerSettings::default_threads(),
        n => n,
    };
    let queue = match args.login_hash_queue {
        0 => 2 * threads,
        n => n,
    };
    startup::SignInSettings {
        checker: customer_desk::passwords::CheckerSettings { threads, queue },
        per_minute: args.login_per_minute,
        burst: args.login_burst.max(1),
        trusted_proxies: args.trusted_proxy.clone(),
        refusal_delay: std::time::Duration::from_millis(args.login_refusal_delay_ms),
    }
}

/// Reads a password from standard input (one line), so that it stays out of the shell history.
fn read_password() -> anyhow::Result<String> {
    use std::io::BufRead;
    eprint!("Password: ");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(!password.is_empty(), "no password given on standard input");
    Ok(password)
}
