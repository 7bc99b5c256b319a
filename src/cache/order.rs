//! Big listings in order, kept: the ids of every customer a search matches, in the list's
//! sort order, so that any page of it (page 1,500, or page 100 of 100,000 matches) is a slice
//! plus a fetch of its 50 rows, and its length is the search's exact total. Knows nothing of
//! HTTP or SQL: a [`ListingSource`] builds a listing and answers what the database decides.
//!
//! A write to customers through this app does not drop the listings: it calls
//! [`OrderCache::customers_changed`] (through `AppState`) with the ids it changed, after its
//! commit, and every kept listing read in the last few seconds is brought up to date for them
//! (each id out, and back in where it now sorts if its criteria still hold it: `reconcile.rs`);
//! the others are dropped, so that a write's cost follows the listings in use. Those updates run one at a
//! time, each reading the database after the commits before it, so the last one to run leaves
//! every listing as the database is. A listing being built while writes commit is brought up to
//! date for every write logged since its build began, before it is kept: writes wait for that,
//! so no write falls between the two. A snapshot is also kept at most [`OrderCache::TTL`], 30 s (or
//! 20 times what it took to build, if more: rebuilding then costs at most 5 % of one core),
//! which bounds how long writes by another process (a second instance, the `seed` command) go
//! unseen. Once the TTL has passed, one request rebuilds while the others still use the old
//! snapshot. Rows are always fetched fresh.
//!
//! Listings whose membership can change without a customer write through the app (filters on
//! ticket or chat activity, say) must not be kept here, or only briefly: nothing would update
//! them.

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::reconcile::{plan, ListingSource, PerSearch};
use super::single_flight::{OnError, SingleFlight, WhenFull};
use crate::domain::list_query::SortOrder;
use crate::lock;

/// A listing: its criteria (search and filters, `Criteria::cache_key`) and the sort order.
pub type ListingKey = (String, SortOrder);

#[derive(Debug)]
pub struct OrderCache {
    listings: SingleFlight<ListingKey, Arc<Vec<i64>>>,
    /// The recent writes; held while a write updates the listings and while a new listing is
    /// brought up to date and kept, so that the two never interleave.
    writes: Mutex<WriteLog>,
}

impl Default for OrderCache {
    fn default() -> Self {
        Self {
            listings: SingleFlight::new(
                Self::MAX_LISTINGS,
                WhenFull::KeepInUse,
                OnError::KeepStale,
            ),
            writes: Mutex::new(WriteLog::default()),
        }
    }
}

/// The ids changed by the recent writes, numbered, for listings built while they committed.
#[derive(Debug, Default)]
struct WriteLog {
    last: u64,
    recent: VecDeque<(u64, Vec<i64>)>,
    ids: usize,
    /// The last write no longer in `recent`.
    forgotten: u64,
}

impl WriteLog {
    const MAX_IDS: usize = 100_000;

    fn push(&mut self, changed: &[i64]) {
        self.last += 1;
        self.recent.push_back((self.last, changed.to_vec()));
        self.ids += changed.len();
        while self.ids > Self::MAX_IDS {
            let Some((number, ids)) = self.recent.pop_front() else {
                break;
            };
            self.ids -= ids.len();
            self.forgotten = number;
        }
    }

    /// The ids changed by the writes after `after`, or `None` if some are forgotten.
    fn since(&self, after: u64) -> Option<Vec<i64>> {
        if self.forgotten > after {
            return None;
        }
        let mut ids: Vec<i64> = self
            .recent
            .iter()
            .filter(|(number, _)| *number > after)
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        Some(ids)
    }
}

impl OrderCache {
    /// Writes through this app keep listings exact; this bounds only how late writes made by
    /// another process show (and costs a rebuild of each kept listing per period).
    pub const TTL: Duration = Duration::from_secs(30);
    /// At most this many ids in all (8 bytes each: 48 MB); the oldest listings go first.
    pub const MAX_IDS: usize = 6_000_000;
    pub const MAX_LISTINGS: usize = 64;
    const KEEP_PER_BUILD_TIME: u32 = 20;
    /// A write brings up to date only the listings read this recently; the others are dropped
    /// (a rebuild when next read), so that a write's cost follows the listings in use, not
    /// every listing read in the last [`OrderCache::TTL`].
    pub const RECONCILE_IF_READ_WITHIN: Duration = Duration::from_secs(5);

    /// Call after committing a write of these customers (inserted, updated or deleted): every
    /// kept listing is brought up to date for them. If the database fails meanwhile, every
    /// listing is dropped instead (and the error returned).
    pub fn customers_changed<S: ListingSource>(
        &self,
        changed: &[i64],
        source: &mut S,
    ) -> Result<(), S::Error> {
        let mut log = lock(&self.writes);
        log.push(changed);
        self.listings.forget_unread(Self::RECONCILE_IF_READ_WITHIN);
        let mut source = PerSearch::new(source);
        for (key, listing) in self.listings.kept_current() {
            let edit = match plan(&listing, &key, changed, &mut source) {
                Ok(edit) => edit,
                Err(error) => {
                    self.listings.invalidate();
                    return Err(error);
                }
            };
            let planned_on = Arc::as_ptr(&listing);
            // Not held while changing it, so that it is changed in place unless a page is
            // being read from it.
            drop(listing);
            self.listings.update(
                &key,
                |kept| Arc::as_ptr(kept) == planned_on,
                |kept| edit.apply(Arc::make_mut(kept)),
            );
        }
        drop(log);
        Ok(())
    }

    /// Call after customers changed in a way that cannot be told (which ones): every listing
    /// is rebuilt.
    pub fn everything_changed(&self) {
        self.listings.invalidate();
    }

    /// Whether the listing has a snapshot (fresh or not): then reading a page from it costs
    /// less than deciding whether to.
    pub fn holds(&self, key: &ListingKey) -> bool {
        self.listings.holds(key)
    }

    /// The exact number of customers the search matches, if a fresh listing of it (in any
    /// order) is kept.
    pub fn total(&self, search: &str) -> Option<i64> {
        [
            SortOrder::Name,
            SortOrder::NameDesc,
            SortOrder::Created,
            SortOrder::CreatedAsc,
        ]
        .into_iter()
        .find_map(|sort| self.listings.fresh(&(search.to_owned(), sort)))
        .map(|ids| ids.len() as i64)
    }

    /// The listing's ids in order, from a snapshot when one is usable, else built by `source`
    /// (and brought up to date for the writes that committed meanwhile).
    pub fn ids<S: ListingSource>(
        &self,
        key: ListingKey,
        source: &mut S,
    ) -> Result<Arc<Vec<i64>>, S::Error> {
        let built = Cell::new(false);
        let keep = Cell::new(true);
        let mut writes_wait: Option<MutexGuard<'_, WriteLog>> = None;
        let ids = self.listings.get(
            key.clone(),
            || {
                built.set(true);
                let after = lock(&self.writes).last;
                let mut ids = source.build(&key)?;
                let log = lock(&self.writes);
                match log.since(after) {
                    Some(changed) if changed.is_empty() => {}
                    Some(changed) => plan(&ids, &key, &changed, source)?.apply(&mut ids),
                    // Too many writes to catch up with: served once, not kept.
                    None => keep.set(false),
                }
                // Held until the listing is kept (by `get`, before it returns).
                writes_wait = Some(log);
                Ok(Arc::new(ids))
            },
            |_, took| {
                keep.get()
                    .then(|| Self::TTL.max(took * Self::KEEP_PER_BUILD_TIME))
            },
        );
        drop(writes_wait);
        let ids = ids?;
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
    use std::cell::RefCell;

    fn key(search: &str) -> ListingKey {
        (search.to_owned(), SortOrder::Name)
    }

    /// Customers are their ids, in id order, all matched by every search; `fail` makes the
    /// next build fail; `during_build` runs inside a build, after the database was read.
    #[derive(Default)]
    struct Ids {
        db: RefCell<Vec<i64>>,
        builds: Cell<usize>,
        fail: Cell<bool>,
    }

    struct Source<'a> {
        ids: &'a Ids,
        during_build: Option<Box<dyn FnMut() + 'a>>,
    }

    fn source(ids: &Ids) -> Source<'_> {
        Source {
            ids,
            during_build: None,
        }
    }

    impl ListingSource for Source<'_> {
        type Error = &'static str;
        fn build(&mut self, _: &ListingKey) -> Result<Vec<i64>, &'static str> {
            self.ids.builds.set(self.ids.builds.get() + 1);
            if self.ids.fail.replace(false) {
                return Err("down");
            }
            let read = self.ids.db.borrow().clone();
            if let Some(during) = self.during_build.as_mut() {
                during();
            }
            Ok(read)
        }
        fn matching(&mut self, _: &ListingKey, ids: &[i64]) -> Result<Vec<i64>, &'static str> {
            let db = self.ids.db.borrow();
            Ok(ids.iter().copied().filter(|id| db.contains(id)).collect())
        }
        fn before(
            &mut self,
            _: SortOrder,
            id: i64,
            others: &[i64],
        ) -> Result<Vec<i64>, &'static str> {
            Ok(others.iter().copied().filter(|o| *o < id).collect())
        }
    }

    #[test]
    fn a_snapshot_is_reused_and_brought_up_to_date_by_writes() {
        let cache = OrderCache::default();
        let ids = Ids::default();
        *ids.db.borrow_mut() = vec![1, 2, 3];
        assert_eq!(
            *cache.ids(key("acme"), &mut source(&ids)).unwrap(),
            [1, 2, 3]
        );
        assert_eq!(
            *cache.ids(key("acme"), &mut source(&ids)).unwrap(),
            [1, 2, 3]
        );
        assert_eq!(ids.builds.get(), 1);
        cache.ids(key("other"), &mut source(&ids)).unwrap();
        assert_eq!(ids.builds.get(), 2, "each listing has its own snapshot");
        assert_eq!(cache.total("acme"), Some(3));

        // An addition and a deletion: every listing follows, none is rebuilt.
        *ids.db.borrow_mut() = vec![1, 3, 4];
        cache.customers_changed(&[2, 4], &mut source(&ids)).unwrap();
        assert_eq!(
            *cache.ids(key("acme"), &mut source(&ids)).unwrap(),
            [1, 3, 4]
        );
        assert_eq!(
            *cache.ids(key("other"), &mut source(&ids)).unwrap(),
            [1, 3, 4]
        );
        assert_eq!(ids.builds.get(), 2);
        assert_eq!(cache.total("acme"), Some(3));

        cache.everything_changed();
        assert_eq!(cache.total("acme"), None);
        cache.ids(key("acme"), &mut source(&ids)).unwrap();
        assert_eq!(
            ids.builds.get(),
            3,
            "what cannot be told makes every snapshot stale"
        );
    }

    #[test]
    fn a_listing_built_while_a_write_commits_catches_up_with_it() {
        let cache = OrderCache::default();
        let ids = Ids::default();
        *ids.db.borrow_mut() = vec![1, 2];
        let mut building = Source {
            ids: &ids,
            // The build has read [1, 2]; then customer 3 is added and its write applied.
            during_build: Some(Box::new(|| {
                ids.db.borrow_mut().push(3);
                cache.customers_changed(&[3], &mut source(&ids)).unwrap();
            })),
        };
        assert_eq!(*cache.ids(key(""), &mut building).unwrap(), [1, 2, 3]);
        assert_eq!(*cache.ids(key(""), &mut source(&ids)).unwrap(), [1, 2, 3]);
        assert_eq!(ids.builds.get(), 1);
    }

    #[test]
    fn a_write_drops_the_listings_not_read_lately_instead_of_updating_them() {
        let cache = OrderCache::default();
        let ids = Ids::default();
        *ids.db.borrow_mut() = vec![1, 2];
        cache.ids(key("read"), &mut source(&ids)).unwrap();
        cache.ids(key("unread"), &mut source(&ids)).unwrap();
        cache
            .listings
            .last_read(&key("unread"), OrderCache::RECONCILE_IF_READ_WITHIN);
        *ids.db.borrow_mut() = vec![1, 2, 3];
        cache.customers_changed(&[3], &mut source(&ids)).unwrap();
        assert_eq!(
            *cache.ids(key("read"), &mut source(&ids)).unwrap(),
            [1, 2, 3]
        );
        assert_eq!(ids.builds.get(), 2, "a listing in use is updated");
        assert_eq!(cache.total("unread"), None);
        assert_eq!(
            *cache.ids(key("unread"), &mut source(&ids)).unwrap(),
            [1, 2, 3]
        );
        assert_eq!(ids.builds.get(), 3, "the other was dropped, and is rebuilt");
    }

    #[test]
    fn a_failed_build_is_not_kept() {
        let cache = OrderCache::default();
        let ids = Ids::default();
        ids.fail.set(true);
        assert_eq!(cache.ids(key("x"), &mut source(&ids)), Err("down"));
        *ids.db.borrow_mut() = vec![7];
        assert_eq!(*cache.ids(key("x"), &mut source(&ids)).unwrap(), [7]);
    }

    #[test]
    fn the_oldest_snapshots_go_when_too_many_ids_are_held() {
        let cache = OrderCache::default();
        let ids = Ids::default();
        *ids.db.borrow_mut() = vec![0; OrderCache::MAX_IDS / 2];
        for search in ["a", "b", "c"] {
            cache.ids(key(search), &mut source(&ids)).unwrap();
        }
        assert_eq!(cache.held_ids(), OrderCache::MAX_IDS);
        // "a" was dropped: asking again builds it.
        let before = ids.builds.get();
        *ids.db.borrow_mut() = vec![1];
        cache.ids(key("a"), &mut source(&ids)).unwrap();
        assert_eq!(ids.builds.get(), before + 1);
    }

    #[test]
    fn the_write_log_forgets_beyond_its_bound() {
        let mut log = WriteLog::default();
        log.push(&[1, 2]);
        log.push(&[2, 3]);
        assert_eq!(log.since(0), Some(vec![1, 2, 3]));
        assert_eq!(log.since(1), Some(vec![2, 3]));
        assert_eq!(log.since(2), Some(vec![]));
        log.push(&vec![9; WriteLog::MAX_IDS]);
        assert_eq!(log.since(0), None, "the first writes are forgotten");
        assert_eq!(log.since(2).map(|ids| ids.len()), Some(1));
    }
}
