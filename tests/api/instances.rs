//! The real binary as an operator runs it: `Instance` starts `customer-desk serve` on a free
//! port with the given environment, keeps its standard output and error in files, and is
//! killed (SIGKILL) when dropped. Also the CLI steps to prepare a database, a signed-in
//! browser, and the bulk deletion of everything, as the crash and operations tests need them.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use customer_desk::db::{DatabaseUrl, DbPool};
use customer_desk::schema::deletion_jobs;
use diesel::prelude::*;

use crate::helpers::{bulk_confirmation_fields, Browser, ListForm};

pub const BIN: &str = env!("CARGO_BIN_EXE_customer-desk");
pub const ADMIN: &str = "ops@desk.example";
pub const ADMIN_PASSWORD: &str = "operations test password";

pub fn url_string(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
        DatabaseUrl::Postgres(url) => url.clone(),
    }
}

/// Runs a CLI command against the database; panics unless it succeeds.
pub fn run(url: &str, args: &[&str]) -> std::process::Output {
    let output = Command::new(BIN)
        .env("DATABASE_URL", url)
        .env("LOG_LEVEL", "warn")
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    output
}

/// Seeds `customers` and creates the administrator [`ADMIN`].
pub fn prepare(url: &str, customers: u64) {
    run(url, &["seed", "--customers", &customers.to_string()]);
    run(
        url,
        &[
            "create-user",
            "--email",
            ADMIN,
            "--password",
            ADMIN_PASSWORD,
            "--role",
            "admin",
        ],
    );
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Instance {
    pub child: Child,
    pub base: String,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl Instance {
    /// `serve` on a free port with these environment variables and extra arguments; returns
    /// once `/healthz` answers 200.
    pub async fn start(url: &str, env: &[(&str, &str)], args: &[&str]) -> Self {
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let logs = std::env::temp_dir().join(format!(
            "cd-instance-{}-{port}-{}",
            std::process::id(),
            fastrand::u32(..)
        ));
        let (stdout, stderr) = (logs.with_extension("out"), logs.with_extension("err"));
        let mut command = Command::new(BIN);
        command
            .env("DATABASE_URL", url)
            .env("LOG_LEVEL", "warn")
            .env("SESSION_KEY", "k".repeat(64))
            .env("LOGIN_PER_MINUTE", "0");
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(args)
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let instance = Self {
            child,
            base,
            stdout,
            stderr,
        };
        instance.wait_until_up().await;
        instance
    }

    async fn wait_until_up(&self) {
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(response) = client.get(format!("{}/healthz", self.base)).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the server did not come up: {}",
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        );
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and wait for it to be gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM (a graceful stop), and wait for the process to end.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: a signal to our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        self.child.wait().unwrap()
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn stdout_text(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// A browser signed in as [`ADMIN`] on this instance.
    pub async fn sign_in(&self) -> Browser {
        let browser = Browser::new(&self.base);
        browser.get("/login").await.assert_status(200);
        browser
            .post_form("/login", &[("email", ADMIN), ("password", ADMIN_PASSWORD)])
            .await
            .assert_status(303);
        browser.forget_csrf();
        browser
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.stdout);
        let _ = std::fs::remove_file(&self.stderr);
    }
}

/// Selects every customer and submits the bulk confirmation; returns the job's id.
pub async fn delete_everyone(browser: &Browser, customers: i64) -> i64 {
    let list = browser.get("/people/customers").await;
    ListForm::from_page(&list)
        .submit(browser, Some(("action", "all")))
        .await
        .assert_status(303);
    let confirmation = browser.get("/people/customers/selection/delete").await;
    confirmation.assert_contains(&format!("Permanently delete {customers} customers?"));
    let mut fields = bulk_confirmation_fields(&confirmation);
    fields.push(("understood".into(), "yes".into()));
    let submitted = browser
        .post_fields("/people/customers/selection/delete", &fields)
        .await;
    submitted.assert_status(303);
    submitted
        .location
        .as_deref()
        .and_then(|l| l.strip_prefix("/people/customers/deletions/"))
        .and_then(|id| id.parse().ok())
        .expect("a job page")
}

/// (status, processed, total, lease owner) of the job.
pub fn job_state(pool: &DbPool, job: i64) -> (String, i64, i64, Option<String>) {
    deletion_jobs::table
        .find(job)
        .select((
            deletion_jobs::status,
            deletion_jobs::processed,
            deletion_jobs::total,
            deletion_jobs::lease_owner,
        ))
        .first(&mut pool.get().unwrap())
        .unwrap()
}

/// Waits (at most `limit`) until the job is done.
pub async fn wait_until_done(pool: &DbPool, job: i64, limit: Duration) {
    let started = Instant::now();
    while job_state(pool, job).0 != "done" {
        assert!(
            started.elapsed() < limit,
            "the job did not finish: {:?}",
            job_state(pool, job)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
