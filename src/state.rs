//! What one app instance shares between its requests, its deletion worker and its maintenance
//! thread: the list caches, the signal that wakes the worker when a job is queued, and the
//! count of arrived requests the worker paces itself by. Built once in `startup::run`; handlers
//! get it as `web::Data<AppState>`.
//!
//! Every function that writes customers takes the `AppState`, and does its writing through
//! [`AppState::write_customers`], saying which customers it changed, so that the list caches
//! of this instance are brought up to date for every write made through it (not dropped).

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::accounts::RecentAccounts;
use crate::cache::ListCaches;
use crate::db::{write_transaction, DbConn, WriteTurns};
use crate::lock;
use crate::pacing::Arrivals;

#[derive(Debug, Default)]
pub struct AppState {
    pub caches: ListCaches,
    pub jobs: JobSignal,
    pub arrivals: Arrivals,
    /// Lists that no cache can answer (filters on activity or tickets read every customer at
    /// 1 M): one at a time per instance, so that a burst of them queues here instead of taking
    /// every core and connection from everyone else's pages.
    pub uncached_lists: UncachedLists,
    /// Accounts read in the last two seconds, for requests that only read.
    pub recent_accounts: RecentAccounts,
    /// On SQLite, the line of the requests that write, and their connections (`db::WriteTurns`).
    pub write_turns: Option<WriteTurns>,
}

/// The turn of a list no cache answers; see [`AppState::uncached_lists`].
#[derive(Debug)]
pub struct UncachedLists(tokio::sync::Semaphore);

impl Default for UncachedLists {
    fn default() -> Self {
        Self(tokio::sync::Semaphore::new(1))
    }
}

impl UncachedLists {
    /// Waits for a turn, at most `patience`; `None` when it did not come.
    pub async fn turn(
        &self,
        patience: std::time::Duration,
    ) -> Option<tokio::sync::SemaphorePermit<'_>> {
        tokio::time::timeout(patience, self.0.acquire())
            .await
            .ok()?
            .ok()
    }
}

impl AppState {
    /// The state of a serving instance, whose writers take `write_turns` (SQLite).
    pub fn serving(write_turns: Option<WriteTurns>) -> Self {
        Self {
            write_turns,
            ..Self::default()
        }
    }

    /// Runs `write`, which writes customers and says which (their ids, with its result), in a
    /// write transaction. Those ids are logged for the list caches before the commit (a write
    /// asks nothing more: a listing read later is brought up to date by its reader), and the
    /// kept totals are dropped after it.
    pub fn write_customers<T, E>(
        &self,
        conn: &mut DbConn,
        write: impl FnOnce(&mut DbConn) -> Result<(T, Vec<i64>), E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        let mut pending = None;
        let written = write_transaction(conn, |conn| {
            let (written, changed) = write(conn)?;
            if !changed.is_empty() {
                pending = Some(self.caches.orders.writing(&changed));
            }
            Ok(written)
        });
        if pending.take().is_some() {
            // Done (committed, or given up): the change is what the next reader sees.
            self.caches.counts.customers_changed();
        }
        written
    }
}

/// Jobs queued through this instance: its idle worker waits on this rather than sleeps, so that
/// a deletion starts at once instead of at the next poll (other instances still find it by
/// polling).
#[derive(Debug, Default)]
pub struct JobSignal {
    queued: Mutex<u64>,
    changed: Condvar,
}

impl JobSignal {
    /// Wakes the waiting worker: a job was queued (or the worker is stopping).
    pub fn wake(&self) {
        *lock(&self.queued) += 1;
        self.changed.notify_all();
    }

    /// How many wake-ups so far: what [`JobSignal::wait`] compares with.
    pub fn seen(&self) -> u64 {
        *lock(&self.queued)
    }

    /// Waits up to `poll` for a wake-up after the caller last saw `seen` of them.
    pub fn wait(&self, seen: u64, poll: Duration) {
        let queued = lock(&self.queued);
        if *queued == seen {
            let _ = self.changed.wait_timeout(queued, poll);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_uncached_list_waits_its_turn_then_gives_up() {
        let lists = UncachedLists::default();
        let first = lists.turn(Duration::from_millis(10)).await;
        assert!(first.is_some());
        // One at a time: a second waits, and gives up after its patience.
        assert!(lists.turn(Duration::from_millis(50)).await.is_none());
        drop(first);
        assert!(lists.turn(Duration::from_millis(10)).await.is_some());
    }
}
