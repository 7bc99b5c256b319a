//! How many malloc arenas glibc keeps: two per core (at least four), unless the operator says
//! otherwise.
//!
//! glibc gives each busy thread an arena of its own (up to eight per core), and keeps the blocks
//! freed in each one. The server's threads (the HTTP workers, the pool's blocking threads, the
//! deletion worker) each build and drop listings and pages, so at 1,000,000 customers the
//! resident size grew to 256-278 MB under the mixed workload, of which the listings themselves
//! are about 50 MB. Measured on 2 cores (docs/performance.md, issue 16, fifth round): four arenas
//! held 169 MB at 1 M for page 1 at 100 k 8 % slower than glibc's sixteen; two held 154 MB but
//! page 1 was 28 % slower (the threads wait for each other's arena).

/// The number of arenas when neither `MALLOC_ARENA_MAX` nor `GLIBC_TUNABLES` says one.
pub fn default_arenas() -> i32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    i32::try_from(cores * 2).unwrap_or(i32::MAX).max(4)
}

/// Call first thing in `main`, before any thread starts (an arena, once made, stays).
pub fn limit_malloc_arenas() {
    let said = std::env::var_os("MALLOC_ARENA_MAX").is_some()
        || std::env::var_os("GLIBC_TUNABLES").is_some_and(|tunables| {
            tunables
                .as_encoded_bytes()
                .windows(b"arena_max".len())
                .any(|w| w == b"arena_max")
        });
    if said {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a parameter of the allocator; no thread has started yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, default_arenas());
    }
}
