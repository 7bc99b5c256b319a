//! Tests that cannot run here pass without running: the test harness cannot mark a test as
//! skipped at run time. So that such an "ok" is not mistaken for a run, every skip is counted
//! and, when the test binary exits, one line per reason says how many were skipped and why.
//! Under `CI=true` a skip is a failure instead (see [`in_ci`]).

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

pub enum Skip {
    /// A PostgreSQL variant, with neither `TEST_POSTGRES_URL` nor PostgreSQL's server binaries.
    Postgres,
    /// A browser test, without chromium and chromedriver.
    Browser,
}

static POSTGRES: AtomicUsize = AtomicUsize::new(0);
static BROWSER: AtomicUsize = AtomicUsize::new(0);
static REPORT_AT_EXIT: Once = Once::new();

/// Under CI nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Counts one skipped test, reported when the test binary exits.
pub fn skip(what: Skip) {
    REPORT_AT_EXIT.call_once(|| at_exit(report));
    match what {
        Skip::Postgres => &POSTGRES,
        Skip::Browser => &BROWSER,
    }
    .fetch_add(1, Ordering::SeqCst);
}

/// Runs `f` when the process exits normally (`main` returns or `std::process::exit`, which is
/// how the test harness ends, whether tests passed or failed).
pub fn at_exit(f: extern "C" fn()) {
    // SAFETY: registers a plain function without arguments; it touches only statics.
    let registered = unsafe { libc::atexit(f) };
    assert_eq!(registered, 0, "atexit failed");
}

extern "C" fn report() {
    let mut err = std::io::stderr();
    let postgres = POSTGRES.load(Ordering::SeqCst);
    if postgres > 0 {
        let _ = writeln!(
            err,
            "SKIPPED {postgres} PostgreSQL test variant(s), reported as passed without running: \
             TEST_POSTGRES_URL is unset and no PostgreSQL server binaries were found \
             (initdb and pg_ctl in /usr/lib/postgresql/*/bin or TEST_POSTGRES_BIN)"
        );
    }
    let browser = BROWSER.load(Ordering::SeqCst);
    if browser > 0 {
        let _ = writeln!(
            err,
            "SKIPPED {browser} browser test(s), reported as passed without running: chromium or \
             chromedriver is missing (apt-get install chromium chromium-driver)"
        );
    }
}
