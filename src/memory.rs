//! How many malloc arenas glibc keeps: two per core (at least four); and that its thresholds
//! for mapping and returning memory stay fixed: each unless the operator says otherwise.
//!
//! glibc gives each busy thread an arena of its own (up to eight per core), and keeps the blocks
//! freed in each one. The server's threads (the HTTP workers, the pool's blocking threads, the
//! deletion worker) each build and drop listings and pages, so at 1,000,000 customers the
//! resident size grew to 256-278 MB under the mixed workload, of which the listings themselves
//! are about 50 MB. Measured on 2 cores (docs/performance.md, issue 16, fifth round): four arenas
//! held 169 MB at 1 M for page 1 at 100 k 8 % slower than glibc's sixteen; two held 154 MB but
//! page 1 was 28 % slower (the threads wait for each other's arena).

/// Above this size a block is mapped on its own and unmapped when freed, and a heap's free top
/// above it is returned: glibc's own starting values, which it otherwise raises to the largest
/// block freed (up to 32 MB). At 1,000,000 customers a listing built is 8 MB in one vector for
/// a moment (and a PostgreSQL result of a million rows more), after which glibc kept blocks of
/// that size in its arenas instead of returning them. Fixed, the 1 M mix held 152-156 MB
/// instead of 192-193 MB on PostgreSQL and 156-159 MB instead of 172-178 MB on SQLite, for the
/// same throughput; the cost is page 1 on a quiet 100 k about 13 % slower (each block above it
/// a mapping of its own). 1 MB saved nothing (docs/performance.md, issue 16, sixth round).
pub const FIXED_THRESHOLD: i32 = 128 * 1024;

/// The number of arenas when neither `MALLOC_ARENA_MAX` nor `GLIBC_TUNABLES` says one.
pub fn default_arenas() -> i32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    i32::try_from(cores * 2).unwrap_or(i32::MAX).max(4)
}

/// Whether the operator set glibc's `variable` (`MALLOC_ARENA_MAX`, ...) or its tunable (in
/// `GLIBC_TUNABLES`, whose name holds `tunable`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn operator_said(variable: &str, tunable: &str) -> bool {
    std::env::var_os(variable).is_some()
        || std::env::var_os("GLIBC_TUNABLES").is_some_and(|tunables| {
            tunables
                .as_encoded_bytes()
                .windows(tunable.len())
                .any(|w| w == tunable.as_bytes())
        })
}

/// Call first thing in `main`, before any thread starts (an arena, once made, stays).
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets parameters of the allocator; no thread has started yet.
    unsafe {
        if !operator_said("MALLOC_ARENA_MAX", "arena_max") {
            libc::mallopt(libc::M_ARENA_MAX, default_arenas());
        }
        if !operator_said("MALLOC_MMAP_THRESHOLD_", "mmap_threshold")
            && !operator_said("MALLOC_TRIM_THRESHOLD_", "trim_threshold")
        {
            libc::mallopt(libc::M_MMAP_THRESHOLD, FIXED_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, FIXED_THRESHOLD);
        }
    }
}
