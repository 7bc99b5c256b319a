//! How many malloc arenas glibc keeps: two, unless the operator says otherwise.
//!
//! glibc gives each busy thread an arena of its own (up to eight per core), and keeps the blocks
//! freed in each one. The server's threads (two HTTP workers, the pool's blocking threads, the
//! deletion worker) each build and drop listings and pages, so at 1,000,000 customers the
//! resident size grew to 275-350 MB, of which the listings themselves are about 50 MB; with two
//! arenas it was about 160 MB for a few per cent of throughput (docs/performance.md, issue 16).

/// The number of arenas when neither `MALLOC_ARENA_MAX` nor `GLIBC_TUNABLES` says one.
pub const DEFAULT_ARENAS: i32 = 2;

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
        libc::mallopt(libc::M_ARENA_MAX, DEFAULT_ARENAS);
    }
}
