//! Big listings in order, kept briefly: the ids of every customer a search matches, in the
//! list's sort order, so that any page of it (page 1,500, or page 100 of 100,000 matches) is a
//! slice plus a fetch of its 50 rows. Knows nothing of HTTP or SQL: the caller says how to
//! build a listing.
//!
//! A snapshot is used while nothing has written customers through this app since it was taken
//! (every write calls [`OrderCache::customers_changed`], through `AppState`) and for at most
//! [`OrderCache::TTL`] (or 20 times what it took to build, if more: rebuilding then costs at
//! most 5 % of one core), which bounds how long writes by another process (a second instance,
//! the `seed` command) go unseen. Once the TTL has passed, one request rebuilds while the
//! others still use the old snapshot; after a write, requests wait for the one rebuild rather
//! than each building their own. Rows are always fetched fresh, so a snapshot can only be late
//! in who is listed where.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use super::single_flight::{OnError, SingleFlight, WhenFull};
use crate::domain::list_query::SortOrder;

/// A listing: the search's normalised text and the sort order.
pub type ListingKey = (String, SortOrder);

#[derive(Debug)]
pub struct OrderCache {
    listings: SingleFlight<ListingKey, Arc<Vec<i64>>>,
}

impl Default for OrderCache {
    fn default() -> Self {
        Self {
            listings: SingleFlight::new(
                Self::MAX_LISTINGS,
                WhenFull::KeepInUse,
                OnError::KeepStale,
            ),
        }
    }
}

impl OrderCache {
    pub const TTL: Duration = Duration::from_secs(5);
    /// At most this many ids in all (8 bytes each: 32 MB); the oldest listings go first.
    pub const MAX_IDS: usize = 4_000_000;
    pub const MAX_LISTINGS: usize = 64;
    const KEEP_PER_BUILD_TIME: u32 = 20;

    /// Call after committing any insert, update or delete of customers: every snapshot is
    /// stale from then on.
    pub fn customers_changed(&self) {
        self.listings.invalidate();
    }

    /// Whether the listing has a snapshot (fresh or not): then reading a page from it costs
    /// less than deciding whether to.
    pub fn holds(&self, key: &ListingKey) -> bool {
        self.listings.holds(key)
    }

    /// The listing's ids in order, from a snapshot when one is usable, else from `build`.
    pub fn ids<E>(
        &self,
        key: ListingKey,
        build: impl FnOnce() -> Result<Vec<i64>, E>,
    ) -> Result<Arc<Vec<i64>>, E> {
        let built = Cell::new(false);
        let ids = self.listings.get(
            key,
            || {
                built.set(true);
                build().map(Arc::new)
            },
            |_, took| Some(Self::TTL.max(took * Self::KEEP_PER_BUILD_TIME)),
        )?;
        if built.get() {
            self.listings.shrink_to(Self::MAX_IDS, |ids| ids.len());
        }
        Ok(ids)
    }

    #[cfg(test)]
    fn held_ids(&self) -> usize {
        self.listings.weight(|ids| ids.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        cache.customers_changed();
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
