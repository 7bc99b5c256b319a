//! Big listings in order, kept briefly: the ids of every customer a search matches, in the
//! list's sort order, so that any page of it (page 1,500, or page 100 of 100,000 matches) is a
//! slice plus a fetch of its 50 rows. Knows nothing of HTTP or SQL: the caller says how to
//! build a listing.
//!
//! A snapshot is used while nothing has written customers through this process since it was
//! taken (every write calls [`customers_changed`]) and for at most [`OrderCache::TTL`] (or 20
//! times what it took to build, if more: rebuilding then costs at most 5 % of one core), which
//! bounds how long writes by another process (a second instance, the `seed` command) go unseen.
//! Once the TTL has passed, one request rebuilds while the others still use the old snapshot;
//! after a write, requests wait for the one rebuild rather than each building their own.
//! Rows are always fetched fresh, so a snapshot can only be late in who is listed where.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::list_query::SortOrder;
use crate::lock;

/// Writes to customers made by this process: a snapshot taken at another count is stale.
static CUSTOMER_WRITES: AtomicU64 = AtomicU64::new(0);

/// Call after committing any insert, update or delete of customers.
pub fn customers_changed() {
    CUSTOMER_WRITES.fetch_add(1, Ordering::SeqCst);
}

fn customer_writes() -> u64 {
    CUSTOMER_WRITES.load(Ordering::SeqCst)
}

/// A listing: the search's normalised text and the sort order.
pub type ListingKey = (String, SortOrder);

#[derive(Debug, Default)]
pub struct OrderCache {
    entries: Mutex<HashMap<ListingKey, Arc<Entry>>>,
}

#[derive(Debug, Default)]
struct Entry {
    state: Mutex<State>,
    /// Held by the one request building this listing.
    building: Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    snapshot: Option<Snapshot>,
    refreshing: bool,
}

#[derive(Debug, Clone)]
struct Snapshot {
    ids: Arc<Vec<i64>>,
    writes: u64,
    taken: Instant,
    keep: Duration,
}

impl Snapshot {
    fn current(&self) -> bool {
        self.writes == customer_writes()
    }

    fn fresh(&self) -> bool {
        self.current() && self.taken.elapsed() < self.keep
    }
}

impl OrderCache {
    pub const TTL: Duration = Duration::from_secs(5);
    /// At most this many ids in all (8 bytes each: 32 MB); the oldest listings go first.
    pub const MAX_IDS: usize = 4_000_000;
    pub const MAX_LISTINGS: usize = 64;
    const KEEP_PER_BUILD_TIME: u32 = 20;

    /// Whether the listing has a snapshot (fresh or not): then reading a page from it costs
    /// less than deciding whether to.
    pub fn holds(&self, key: &ListingKey) -> bool {
        let entry = lock(&self.entries).get(key).cloned();
        entry.is_some_and(|entry| lock(&entry.state).snapshot.is_some())
    }

    /// The listing's ids in order, from a snapshot when one is usable, else from `build`.
    pub fn ids<E>(
        &self,
        key: ListingKey,
        build: impl FnOnce() -> Result<Vec<i64>, E>,
    ) -> Result<Arc<Vec<i64>>, E> {
        let entry = self.entry(key);
        {
            let state = lock(&entry.state);
            if let Some(snapshot) = &state.snapshot {
                // Past its TTL but current: serve it while another request refreshes it.
                if snapshot.fresh() || (state.refreshing && snapshot.current()) {
                    return Ok(snapshot.ids.clone());
                }
            }
        }
        let _building = lock(&entry.building);
        {
            let mut state = lock(&entry.state);
            if let Some(snapshot) = &state.snapshot {
                if snapshot.fresh() {
                    return Ok(snapshot.ids.clone()); // built while this request waited
                }
            }
            state.refreshing = true;
        }
        let writes = customer_writes();
        let started = Instant::now();
        let built = build();
        let keep = Self::TTL.max(started.elapsed() * Self::KEEP_PER_BUILD_TIME);
        let mut state = lock(&entry.state);
        state.refreshing = false;
        let ids = Arc::new(built?);
        state.snapshot = Some(Snapshot {
            ids: ids.clone(),
            writes,
            taken: Instant::now(),
            keep,
        });
        drop(state);
        self.evict();
        Ok(ids)
    }

    fn entry(&self, key: ListingKey) -> Arc<Entry> {
        let mut entries = lock(&self.entries);
        if !entries.contains_key(&key) && entries.len() >= Self::MAX_LISTINGS {
            // Forget listings no request is using, the idle ones first.
            entries.retain(|_, entry| Arc::strong_count(entry) > 1);
        }
        entries.entry(key).or_default().clone()
    }

    /// Drops the oldest snapshots until all of them hold at most [`Self::MAX_IDS`] ids.
    fn evict(&self) {
        let entries = lock(&self.entries);
        let mut held: Vec<(Instant, usize, &Arc<Entry>)> = entries
            .values()
            .filter_map(|entry| {
                let state = lock(&entry.state);
                let snapshot = state.snapshot.as_ref()?;
                Some((snapshot.taken, snapshot.ids.len(), entry))
            })
            .collect();
        let mut total: usize = held.iter().map(|(_, len, _)| len).sum();
        held.sort_by_key(|(taken, _, _)| *taken);
        for (_, len, entry) in held {
            if total <= Self::MAX_IDS {
                break;
            }
            lock(&entry.state).snapshot = None;
            total -= len;
        }
    }

    #[cfg(test)]
    fn held_ids(&self) -> usize {
        lock(&self.entries)
            .values()
            .filter_map(|entry| lock(&entry.state).snapshot.as_ref().map(|s| s.ids.len()))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn key(search: &str) -> ListingKey {
        (search.to_owned(), SortOrder::Name)
    }

    #[test]
    fn a_snapshot_is_reused_until_customers_change() {
        let cache = OrderCache::default();
        let builds = Cell::new(0);
        let build = || -> Result<Vec<i64>, ()> {
            builds.set(builds.get() + 1);
            Ok(vec![3, 1, 2])
        };
        assert_eq!(*cache.ids(key("acme"), build).unwrap(), vec![3, 1, 2]);
        assert_eq!(*cache.ids(key("acme"), build).unwrap(), vec![3, 1, 2]);
        assert_eq!(builds.get(), 1);
        cache.ids(key("other"), build).unwrap();
        assert_eq!(builds.get(), 2, "each listing has its own snapshot");
        customers_changed();
        cache.ids(key("acme"), build).unwrap();
        assert_eq!(builds.get(), 3, "a write makes every snapshot stale");
    }

    #[test]
    fn a_failed_build_is_not_kept() {
        let cache = OrderCache::default();
        assert_eq!(
            cache.ids(key("x"), || Err::<Vec<i64>, _>("down")),
            Err("down")
        );
        assert_eq!(
            *cache.ids(key("x"), || Ok::<_, ()>(vec![7])).unwrap(),
            vec![7]
        );
    }

    #[test]
    fn the_oldest_snapshots_go_when_too_many_ids_are_held() {
        let cache = OrderCache::default();
        let half = OrderCache::MAX_IDS / 2;
        for search in ["a", "b", "c"] {
            cache
                .ids(key(search), || Ok::<_, ()>(vec![0; half]))
                .unwrap();
        }
        assert_eq!(cache.held_ids(), OrderCache::MAX_IDS);
        // "a" was dropped: asking again builds it.
        let rebuilt = Cell::new(false);
        cache
            .ids(key("a"), || {
                rebuilt.set(true);
                Ok::<_, ()>(vec![1])
            })
            .unwrap();
        assert!(rebuilt.get());
    }
}
