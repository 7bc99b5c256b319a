//! `customer-desk`: serve the app, migrate the database, or seed it with realistic data.

use std::net::TcpListener;

use anyhow::Context;
use clap::{Parser, Subcommand};
use customer_desk::db::{self, DatabaseUrl};
use customer_desk::startup::{self, ServerSettings};
use customer_desk::{customers, seed};

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

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the app (the default).
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate,
    /// Add N deterministic, realistic customers with tickets, chats and notes.
    Seed {
        #[arg(long)]
        customers: u64,
        /// Seed of the random generator: the same seed gives the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(clap::Args, Default)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Seed 2,000 customers when the database is empty.
    #[arg(long)]
    demo: bool,
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
    /// Database connections in the pool.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 8)]
    pool_size: u32,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log_level)
                .context("--log-level / LOG_LEVEL is not a valid filter")?,
        )
        .with_target(false)
        .init();
    let url = DatabaseUrl::parse(&cli.database_url).map_err(anyhow::Error::msg)?;
    match cli.command {
        None => serve(
            &url,
            ServeArgs {
                bind: "127.0.0.1:8080".into(),
                pool_size: 8,
                ..ServeArgs::default()
            },
        ),
        Some(Command::Serve(args)) => serve(&url, args),
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
        }) => {
            let pool = db::connect_pool(&url, 1)?;
            let mut conn = pool.get()?;
            db::run_migrations(&mut conn)?;
            let report = seed::seed(&mut conn, customers, rng_seed, true)?;
            println!("{report}");
            Ok(())
        }
    }
}

fn serve(url: &DatabaseUrl, args: ServeArgs) -> anyhow::Result<()> {
    let pool = db::connect_pool(url, args.pool_size.max(1))?;
    {
        let mut conn = pool.get()?;
        let applied = db::run_migrations(&mut conn)?;
        if !applied.is_empty() {
            tracing::info!(migrations = applied.join(", "), "migrated");
        }
        if args.demo && customers::count_matching(&mut conn, &Default::default())? == 0 {
            tracing::info!(
                customers = DEMO_CUSTOMERS,
                "empty database: seeding demo data"
            );
            seed::seed(&mut conn, DEMO_CUSTOMERS, 1, false)?;
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
    let listener =
        TcpListener::bind(&args.bind).with_context(|| format!("cannot listen on {}", args.bind))?;
    let address = listener.local_addr()?;
    let settings = ServerSettings {
        session_key,
        secure_cookies: args.secure_cookies,
        workers: args.workers,
    };
    println!(
        "Customer Desk on {} ({}): http://{address}/people/customers",
        url.redacted(),
        url.backend_name()
    );
    actix_web::rt::System::new().block_on(async move {
        // actix-web stops gracefully on SIGINT and SIGTERM: it stops accepting, lets requests
        // in flight finish (30 s at most), then returns here.
        startup::run(listener, pool, settings)?.await
    })?;
    tracing::info!("stopped");
    Ok(())
}
