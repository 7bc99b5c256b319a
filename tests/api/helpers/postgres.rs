//! A throwaway PostgreSQL server for the PostgreSQL variants when `TEST_POSTGRES_URL` is unset,
//! so that a plain `cargo test` covers both backends wherever Debian's server binaries
//! (`/usr/lib/postgresql/<version>/bin/{initdb,pg_ctl}`) are installed.
//!
//! One cluster per test binary, started by the first PostgreSQL test: `initdb` into a temporary
//! directory (trust authentication, no fsync), `pg_ctl start` listening on a free port of
//! 127.0.0.1 only, with its socket in that directory. When the binary exits, an `atexit`
//! handler stops it and removes the directory. A cluster left by a killed test binary (its
//! process gone) is stopped and removed by the next run. PostgreSQL refuses to run as root, so
//! as root both commands run as the `postgres` user (`runuser`), which owns the directory.

use std::ffi::CString;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::skips::at_exit;

const PREFIX: &str = "cdtest-pg-";

/// The server's binaries and its directory, for the exit handler.
static STARTED: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
/// The admin URL of the cluster, or `None` without server binaries.
static URL: OnceLock<Option<String>> = OnceLock::new();

/// The admin URL of this test binary's throwaway cluster, started on first use; `None` when
/// PostgreSQL's server binaries are not installed.
pub fn throwaway_url() -> Option<String> {
    URL.get_or_init(|| server_binaries().map(|bin| start(&bin)))
        .clone()
}

/// `TEST_POSTGRES_BIN` if set (a directory with `initdb` and `pg_ctl`, e.g. on another
/// distribution; empty for no throwaway server), else the newest
/// `/usr/lib/postgresql/<version>/bin` that has both.
fn server_binaries() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("TEST_POSTGRES_BIN") {
        let bin = PathBuf::from(dir);
        return (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some(bin);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").exists() && bin.join("pg_ctl").exists()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// The `postgres` user's uid and gid when running as root (PostgreSQL will not run as root).
fn run_as() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let name = CString::new("postgres").unwrap();
    // SAFETY: a valid C string; the result is read at once, before any other getpw* call.
    let user = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(
        !user.is_null(),
        "running as root, and there is no postgres user to run PostgreSQL as"
    );
    // SAFETY: checked non-null above.
    unsafe { Some(((*user).pw_uid, (*user).pw_gid)) }
}

/// A command for a PostgreSQL binary, as the `postgres` user when we are root.
fn command(bin: &Path, program: &str) -> Command {
    let program = bin.join(program);
    if run_as().is_some() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn start(bin: &Path) -> String {
    remove_abandoned(bin);
    let dir = std::env::temp_dir().join(format!("{PREFIX}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).expect("create the throwaway cluster's directory");
    if let Some((uid, gid)) = run_as() {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("give it to postgres");
    }
    let data = dir.join("data");
    let mut initdb = command(bin, "initdb");
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8"])
        .args(["--locale=C.UTF-8", "--no-sync"]);
    run(initdb, "initdb of the throwaway PostgreSQL cluster");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("find a free port")
        .port();
    STARTED.set((bin.to_owned(), dir.clone())).unwrap();
    at_exit(stop_at_exit);
    let mut pg_ctl = command(bin, "pg_ctl");
    pg_ctl
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("server.log"))
        .arg("-o")
        .arg(format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -F",
            dir.display()
        ))
        .args(["-w", "start"]);
    run(pg_ctl, "starting the throwaway PostgreSQL cluster");
    format!("postgres://postgres@127.0.0.1:{port}/postgres")
}

fn stop(bin: &Path, dir: &Path) {
    if dir.join("data/postmaster.pid").exists() {
        let _ = command(bin, "pg_ctl")
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
    let _ = std::fs::remove_dir_all(dir);
}

extern "C" fn stop_at_exit() {
    if let Some((bin, dir)) = STARTED.get() {
        stop(bin, dir);
    }
}

/// Clusters of test binaries that were killed before they could stop theirs.
fn remove_abandoned(bin: &Path) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)) else {
            continue;
        };
        if !Path::new("/proc").join(pid).exists() {
            stop(bin, &entry.path());
        }
    }
}
