//! Password hashing, and the bounded [`PasswordChecker`] that verifies sign-in passwords. Knows
//! nothing of HTTP or of the database.
//!
//! argon2id with the default parameters needs 19 MiB per verification. Verifying on a fixed
//! number of dedicated threads, fed by a short queue, bounds both the memory (threads × 19 MiB;
//! glibc would otherwise keep freed buffers in an arena per blocking-pool thread) and the waiting:
//! when the queue is full the caller is told so at once instead of queueing without end.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

/// argon2id with the crate's recommended parameters.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

/// Whether `password` matches `hash` (false for anything that is not a valid hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Argon2 memory a checker thread keeps at most (hashes asking for more are not checked): 64 MiB,
/// over three times the default 19 MiB.
const MAX_BLOCKS: usize = 64 * 1024;

/// [`verify_password`] with `memory` as argon2's working memory, grown to the hash's size once and
/// then reused: a checker thread allocates its 19 MiB once instead of at every check (which glibc
/// would otherwise keep in ever more heaps).
fn verify_with_memory(password: &str, hash: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(version), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        parsed
            .version
            .map_or(Ok(Version::default()), Version::try_from),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
    let mut computed = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut computed,
            &mut memory[..blocks],
        )
        .is_ok()
        // `Output`'s comparison takes constant time.
        && Output::new(&computed).is_ok_and(|computed| computed == expected)
}

/// Verifying against this when the email is unknown makes both failures take as long.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("not a real password"))
}

/// How many verifications run at once and how many may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckerSettings {
    /// Dedicated verification threads (at least 1).
    pub threads: usize,
    /// Verifications that may wait for a thread; beyond that the checker is busy (at least 1).
    pub queue: usize,
}

impl Default for CheckerSettings {
    /// A thread for every other core (at least one), and a queue twice as long.
    fn default() -> Self {
        let threads = Self::default_threads();
        Self {
            threads,
            queue: 2 * threads,
        }
    }
}

impl CheckerSettings {
    /// Half the cores, at least one: a sign-in flood keeps every checker thread busy, and the
    /// other cores then stay with the pages (measured on 2 cores: with two checkers a signed-in
    /// list's p99 went from 33 to 108 ms during a flood, with one it stayed at 29–36 ms).
    pub fn default_threads() -> usize {
        thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// Every thread is verifying and the queue is full: try again in a moment.
    #[error("too many password checks are waiting")]
    Busy,
    /// The checker's threads have stopped (only while shutting down).
    #[error("the password checker has stopped")]
    Stopped,
}

struct Job {
    password: String,
    /// `None`: verify against the dummy hash (unknown email), which always fails.
    hash: Option<String>,
    reply: oneshot::Sender<bool>,
}

/// Which queue a check waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// A browser that has signed in to this account before (its device cookie): checked before
    /// anyone else, in a queue of its own, so that a flood cannot keep the account's owner out.
    KnownDevice,
    Anyone,
}

#[derive(Default)]
struct Queues {
    known_devices: VecDeque<Job>,
    anyone: VecDeque<Job>,
    stopped: bool,
}

struct Shared {
    queues: Mutex<Queues>,
    ready: Condvar,
}

/// Verifies passwords on its own threads. Cheap to share (`web::Data`); the threads end when the
/// checker is dropped.
pub struct PasswordChecker {
    shared: Arc<Shared>,
    settings: CheckerSettings,
}

impl Drop for PasswordChecker {
    fn drop(&mut self) {
        crate::lock(&self.shared.queues).stopped = true;
        self.shared.ready.notify_all();
    }
}

impl PasswordChecker {
    pub fn start(settings: CheckerSettings) -> Self {
        let settings = CheckerSettings {
            threads: settings.threads.max(1),
            queue: settings.queue.max(1),
        };
        let shared = Arc::new(Shared {
            queues: Mutex::new(Queues::default()),
            ready: Condvar::new(),
        });
        for n in 0..settings.threads {
            let shared = shared.clone();
            thread::Builder::new()
                .name(format!("password-check-{n}"))
                .spawn(move || work(&shared))
                .expect("cannot start a password checking thread");
        }
        Self { shared, settings }
    }

    pub fn settings(&self) -> CheckerSettings {
        self.settings
    }

    /// Whether `password` matches `hash`; with `None`, verifies against a dummy hash (so that an
    /// unknown email costs as long as a wrong password) and answers false. The job is queued
    /// when this is called, not when the future is first polled; the answer is
    /// [`CheckError::Busy`] at once when its lane's queue is full (`queue` checks for anyone,
    /// as many as there are threads for known devices).
    pub fn verify(
        &self,
        password: String,
        hash: Option<String>,
        lane: Lane,
    ) -> impl std::future::Future<Output = Result<bool, CheckError>> {
        let (reply, answer) = oneshot::channel();
        let queued = {
            let mut queues = crate::lock(&self.shared.queues);
            let (queue, room) = match lane {
                Lane::KnownDevice => (&mut queues.known_devices, self.settings.threads),
                Lane::Anyone => (&mut queues.anyone, self.settings.queue),
            };
            if queue.len() >= room {
                Err(CheckError::Busy)
            } else {
                queue.push_back(Job {
                    password,
                    hash,
                    reply,
                });
                Ok(())
            }
        };
        if queued.is_ok() {
            self.shared.ready.notify_one();
        }
        async move {
            queued?;
            answer.await.map_err(|_| CheckError::Stopped)
        }
    }
}

/// How much nicer than the rest of the process the checker threads are: a flood of sign-ins keeps them busy, and
/// they must then yield the cores to the pages of people already signed in (a check waits a
/// little longer; a page does not).
const CHECKER_NICENESS: libc::c_int = 10;

fn work(shared: &Shared) {
    lower_this_threads_priority();
    // This thread's argon2 memory, allocated at the first check and reused by every other.
    let mut memory = Vec::new();
    loop {
        // The lock is held only while waiting for the next job, not while verifying.
        let job = {
            let mut queues = crate::lock(&shared.queues);
            loop {
                if let Some(job) = queues.known_devices.pop_front() {
                    break job;
                }
                if let Some(job) = queues.anyone.pop_front() {
                    break job;
                }
                if queues.stopped {
                    return;
                }
                queues = shared.ready.wait(queues).unwrap_or_else(|e| e.into_inner());
            }
        };
        let Job {
            password,
            hash,
            reply,
        } = job;
        let verified = match hash {
            Some(hash) => verify_with_memory(&password, &hash, &mut memory),
            None => {
                verify_with_memory(&password, dummy_hash(), &mut memory);
                false
            }
        };
        // The asker may have gone (client disconnected): nothing to do then.
        let _ = reply.send(verified);
    }
}

/// On Linux, niceness belongs to each thread: this lowers the calling thread's only, relative to
/// the process's (a server started at -5 checks at 5). Raising one's own niceness needs no
/// privilege; a failure only leaves the default.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: nice takes a plain integer and touches no memory of ours; glibc's nice sets the
    // calling thread's priority.
    unsafe {
        *libc::__errno_location() = 0;
        if libc::nice(CHECKER_NICENESS) == -1 && *libc::__errno_location() != 0 {
            tracing::debug!("could not lower the password checkers' priority");
        }
    }
}

#[cfg(test)]
mod tests;
