//! Big listings in order, kept: the ids of every customer a search matches, in the list's
//! sort order, so that any page of it (page 1,500, or page 100 of 100,000 matches) is a slice
//! plus a fetch of its 50 rows, and its length is the search's exact total. Knows nothing of
//! HTTP or SQL: a [`ListingSource`] builds a listing and answers what the database decides.
//!
//! A write to customers through this app does not drop the listings, nor update them: before
//! its commit it logs the ids it changed ([`OrderCache::writing`], through `AppState`), and
//! that is all it costs. Each kept listing carries the number of the last logged write it
//! reflects (its version); a request reading a listing behind the writes completed so far
//! brings it up to date first, on its own connection and in one snapshot of the database, for
//! every id logged since its version (each id out, and back in where it now sorts if its
//! criteria still hold it: `reconcile.rs`), and keeps the result if no newer one was kept
//! meanwhile. One request at a time brings a listing up to date (the others reading it wait for
//! it and take its result); a write never waits for a listing. A listing that
//! cannot be brought up to date (the log forgot the writes since its version, or too many ids
//! go in) is dropped and built again.
//!
//! Why this is exact: a write logs its ids before it commits and marks them done after, so a
//! write done before a request began is at or below the number the request reads first (the
//! writes done, [`WriteLog::done`]); the request then takes its snapshot, then reads the ids of
//! every write logged since the listing's version, done or not: whatever the snapshot shows
//! that the listing does not is among them, so the listing comes out equal to the snapshot,
//! and is kept as reflecting every write done before the snapshot. Writes logged but not done
//! are brought in again by the next reader (bringing a listing up to date for ids it already
//! reflects changes nothing). Which changed ids a search holds is asked once for all its sort
//! orders and kept briefly (`held.rs`, with why that stays exact).
//!
//! A snapshot is also kept at most [`OrderCache::TTL`], 30 s (or 100 times what it took to
//! build, if more: rebuilding then costs at most 1 % of one core per listing, and the mixed
//! workload keeps about 30 of them), which bounds how long writes
//! by another process (a second instance, the `seed` command) go unseen (plus the 5 s a shared
//! answer of `held.rs` is used, at worst). Once the TTL has
//! passed, one request rebuilds while the others still use the old snapshot (brought up to
//! date). Rows are always fetched fresh.
//!
//! Listings whose membership can change without a customer write through the app (filters on
//! ticket or chat activity, say) must not be kept here, or only briefly: nothing would update
//! them.

use std::cell::Cell;
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::chunked::ChunkedIds;
use super::held::{HeldAnswers, Reading};
use super::reconcile::{plan, ListingSource};
use super::single_flight::{OnError, SingleFlight, WhenFull};
use crate::domain::list_query::SortOrder;
use crate::lock;

/// A listing: its criteria (search and filters, `Criteria::cache_key`) and the sort order.
pub type ListingKey = (String, SortOrder);

#[derive(Debug)]
pub struct OrderCache {
    listings: SingleFlight<ListingKey, Listing>,
    /// Which changed ids each search holds, shared by its sort orders.
    held: HeldAnswers,
    /// The recent writes, by number. Held only to log or read ids, never over a query.
    writes: Mutex<WriteLog>,
}

/// A kept listing: its ids in order (in chunks shared between its versions: an update copies
/// only the chunks it changes, `chunked.rs`), and the writes it reflects (every write numbered up to
/// `version`, and maybe some after).
#[derive(Debug, Clone)]
struct Listing {
    ids: Arc<ChunkedIds>,
    version: u64,
}

impl Default for OrderCache {
    fn default() -> Self {
        Self {
            listings: SingleFlight::new(
                Self::MAX_LISTINGS,
                WhenFull::KeepInUse,
                OnError::KeepStale,
            ),
            held: HeldAnswers::default(),
            writes: Mutex::new(WriteLog::default()),
        }
    }
}

/// The ids changed by the recent writes, numbered in the order they were logged (before their
/// commit), and which of them are not done yet (committing).
#[derive(Debug, Default)]
struct WriteLog {
    last: u64,
    recent: VecDeque<(u64, Vec<i64>)>,
    ids: usize,
    /// The last write no longer in `recent`.
    forgotten: u64,
    committing: BTreeSet<u64>,
}

impl WriteLog {
    const MAX_IDS: usize = 100_000;

    fn push(&mut self, changed: &[i64]) -> u64 {
        self.last += 1;
        self.recent.push_back((self.last, changed.to_vec()));
        self.committing.insert(self.last);
        self.ids += changed.len();
        while self.ids > Self::MAX_IDS {
            let Some((number, ids)) = self.recent.pop_front() else {
                break;
            };
            self.ids -= ids.len();
            self.forgotten = number;
        }
        self.last
    }

    fn finish(&mut self, number: u64) {
        self.committing.remove(&number);
    }

    /// The last number up to which every write is done (committed or given up).
    fn done(&self) -> u64 {
        self.committing.first().map_or(self.last, |first| first - 1)
    }

    /// The ids changed by the writes after `after`, done or not, each with the last write
    /// logged for it, sorted by id; or `None` if some are forgotten.
    fn since(&self, after: u64) -> Option<Vec<(i64, u64)>> {
        if self.forgotten > after {
            return None;
        }
        let mut ids: Vec<(i64, u64)> = self
            .recent
            .iter()
            .filter(|(number, _)| *number > after)
            .flat_map(|(number, ids)| ids.iter().map(|id| (*id, *number)))
            .collect();
        // By id, the last write first: the first of each id is kept.
        ids.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        ids.dedup_by_key(|(id, _)| *id);
        Some(ids)
    }
}

/// A write of customers being committed: logged when made, done when dropped (after the
/// commit, or when it failed).
#[must_use = "the write is done when this is dropped, after the commit"]
pub struct PendingWrite<'a> {
    cache: &'a OrderCache,
    number: u64,
}

impl Drop for PendingWrite<'_> {
    fn drop(&mut self) {
        lock(&self.cache.writes).finish(self.number);
    }
}

impl OrderCache {
    /// Writes through this app keep listings exact; this bounds only how late writes made by
    /// another process show (and costs a rebuild of each kept listing per period).
    pub const TTL: Duration = Duration::from_secs(30);
    /// At most this many ids in all (4 bytes each, `chunked.rs`: 48 MB); the oldest listings go first. The
    /// mixed workload at 1 M keeps about 6.5 M (4 orders of everyone and of each search):
    /// with less, listings push each other out and are rebuilt over and over.
    pub const MAX_IDS: usize = 12_000_000;
    pub const MAX_LISTINGS: usize = 64;
    const KEEP_PER_BUILD_TIME: u32 = 100;
    /// How long a reader waits for another bringing the same listing up to date (an update
    /// takes milliseconds; a rebuild, on the path that cannot update, up to a second at 1 M)
    /// before doing it alongside: it holds a pooled connection while it waits.
    const PATIENCE: Duration = Duration::from_millis(250);

    /// Call inside the transaction writing these customers (inserted, updated or deleted),
    /// once they are known and before the commit; drop what it returns after the commit.
    pub fn writing(&self, changed: &[i64]) -> PendingWrite<'_> {
        let number = lock(&self.writes).push(changed);
        PendingWrite {
            cache: self,
            number,
        }
    }

    /// Every write logged up to this number is done (committed or given up).
    pub fn writes_done(&self) -> u64 {
        lock(&self.writes).done()
    }

    /// If no write logged after number `after`, done or not, touched any of the `ids`
    /// (sorted), the number of the last write logged; `None` if one did, or if the log has
    /// forgotten some of them. Allocates nothing: a look-up per id written since.
    pub fn untouched_since(&self, after: u64, ids: &[i64]) -> Option<u64> {
        let writes = lock(&self.writes);
        if writes.forgotten > after {
            return None;
        }
        let touched = writes
            .recent
            .iter()
            .rev()
            .take_while(|(number, _)| *number > after)
            .any(|(_, written)| written.iter().any(|id| ids.binary_search(id).is_ok()));
        (!touched).then_some(writes.last)
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

    /// The exact number of customers the criteria match, if a fresh listing of them (in any
    /// order) is kept (brought up to date first).
    pub fn total<S: ListingSource>(
        &self,
        criteria: &str,
        source: &mut S,
    ) -> Result<Option<i64>, S::Error> {
        let found = [
            SortOrder::Name,
            SortOrder::NameDesc,
            SortOrder::Created,
            SortOrder::CreatedAsc,
        ]
        .into_iter()
        .find_map(|sort| {
            let key = (criteria.to_owned(), sort);
            self.listings.fresh(&key).map(|listing| (key, listing))
        });
        let Some((key, listing)) = found else {
            return Ok(None);
        };
        Ok(Some(self.up_to_date(&key, listing, source)?.len() as i64))
    }

    /// The listing's ids in order, as of every write done so far: from a snapshot when one is
    /// usable (brought up to date), else built by `source`.
    pub fn ids<S: ListingSource>(
        &self,
        key: ListingKey,
        source: &mut S,
    ) -> Result<Arc<ChunkedIds>, S::Error> {
        let listing = self.kept_or_built(&key, source)?;
        self.up_to_date(&key, listing, source)
    }

    fn kept_or_built<S: ListingSource>(
        &self,
        key: &ListingKey,
        source: &mut S,
    ) -> Result<Listing, S::Error> {
        let built = Cell::new(false);
        let listing = self.listings.get(
            key.clone(),
            || {
                built.set(true);
                // Every write done by now is committed before the build reads.
                let version = lock(&self.writes).done();
                let ids = source.build(key)?;
                Ok(Listing {
                    ids: Arc::new(ChunkedIds::from_vec(ids)),
                    version,
                })
            },
            |_, took| Some(Self::TTL.max(took * Self::KEEP_PER_BUILD_TIME)),
        )?;
        if built.get() {
            self.listings
                .shrink_to(Self::MAX_IDS, |kept| kept.ids.len());
        }
        Ok(listing)
    }

    /// The listing brought up to date for every write done by now (kept if no newer one was).
    /// One request at a time brings a listing up to date: the others wait and take what it kept
    /// (during a bulk deletion, a batch commits every 0.15 s, and each of 20 requests reading
    /// page 1 at once would otherwise copy the same 1,000,000 ids).
    fn up_to_date<S: ListingSource>(
        &self,
        key: &ListingKey,
        listing: Listing,
        source: &mut S,
    ) -> Result<Arc<ChunkedIds>, S::Error> {
        let done = lock(&self.writes).done();
        if listing.version >= done {
            return Ok(listing.ids);
        }
        self.listings.exclusively(key.clone(), Self::PATIENCE, || {
            // Brought up to date by the request this one waited for? (Past its time or not: a
            // rebuild may be under way, and until it ends this is the listing to update.)
            let listing = match self.listings.current(key) {
                Some(kept) if kept.version >= done => return Ok(kept.ids),
                Some(kept) if kept.version > listing.version => kept,
                _ => listing,
            };
            self.bring_up_to_date(key, listing, done, source)
        })
    }

    fn bring_up_to_date<S: ListingSource>(
        &self,
        key: &ListingKey,
        listing: Listing,
        done: u64,
        source: &mut S,
    ) -> Result<Arc<ChunkedIds>, S::Error> {
        let before = self.held.mark();
        let edit = source.snapshot(|source, began| {
            let reading = Reading {
                as_of: done,
                before,
                after: self.held.mark(),
            };
            // Read after the snapshot was taken: every write it shows is logged by now.
            let (changed, forgotten) = {
                let writes = lock(&self.writes);
                (writes.since(listing.version), writes.forgotten)
            };
            let Some(changed) = changed else {
                return Ok(None);
            };
            let ids: Vec<i64> = changed.iter().map(|(id, _)| *id).collect();
            // A snapshot begun before `done` was read (a transaction already open) may not see
            // writes `done` counts: its answers are neither shared nor taken from others.
            let held = if began {
                let ask = |ids: &[i64]| source.held(&key.0, ids);
                self.held.held(&key.0, &changed, forgotten, reading, ask)?
            } else {
                source.held(&key.0, &ids)?
            };
            plan(&*listing.ids, key, &ids, &held, source)
        })?;
        let Some(edit) = edit else {
            // It cannot be brought up to date: dropped, and built again.
            self.listings.forget(key);
            let rebuilt = self.kept_or_built(key, source)?;
            if rebuilt.version >= done {
                return Ok(rebuilt.ids);
            }
            // Writes caught it again: served as built now (newer than any page before it).
            return Ok(Arc::new(ChunkedIds::from_vec(source.build(key)?)));
        };
        let updated = Listing {
            ids: Arc::new(listing.ids.edited(&edit)),
            version: done,
        };
        // Unless another request kept a newer one meanwhile (rebuilt).
        self.listings.update(
            key,
            |kept| Arc::ptr_eq(&kept.ids, &listing.ids),
            |kept| *kept = updated.clone(),
        );
        Ok(updated.ids)
    }

    #[cfg(test)]
    fn held_ids(&self) -> usize {
        self.listings.weight(|kept| kept.ids.len())
    }
}

#[cfg(test)]
mod tests;
