//! Totals of large results, kept briefly: on a big table, exact counting is what a list page
//! costs most. Knows nothing of SQL: the caller says how to count.

use std::time::Duration;

use super::single_flight::{OnError, SingleFlight, WhenFull};

/// Totals up to [`CountCache::EXACT_UP_TO`] are always counted; larger ones are kept until a
/// write to customers through this app ([`CountCache::customers_changed`]), and at most
/// [`CountCache::TTL`] (which bounds how late writes by another process show; a little more
/// while one request recounts and the others keep the last total). Large totals are normally
/// read from a kept listing (`OrderCache::total`), which writes keep exact; this cache serves
/// until one is built, and for listings too big to keep. A search with no total yet is counted by one request while the others wait: on
/// a cold start, 20 requests for the same big list must not each count a million rows. Shared
/// by the whole instance.
#[derive(Debug)]
pub struct CountCache {
    totals: SingleFlight<String, i64>,
}

impl Default for CountCache {
    fn default() -> Self {
        Self {
            totals: SingleFlight::new(Self::MAX_ENTRIES, WhenFull::KeepFresh, OnError::Forget),
        }
    }
}

impl CountCache {
    pub const EXACT_UP_TO: i64 = 1_000;
    pub const TTL: Duration = Duration::from_secs(5);
    const MAX_ENTRIES: usize = 1_000;

    /// Call after committing any write of customers: kept totals are counted again (one
    /// request counts, the others for the same search wait for it).
    pub fn customers_changed(&self) {
        self.totals.invalidate();
    }

    /// Whether the total for the search is kept and fresh: the next page will not count it.
    pub fn kept(&self, search: &str) -> bool {
        self.totals.fresh(&search.to_owned()).is_some()
    }

    /// The total for the search (its normalised text), from the cache when fresh, else from
    /// `count`.
    pub fn total<E>(&self, search: &str, count: impl FnOnce() -> Result<i64, E>) -> Result<i64, E> {
        self.totals.get(search.to_owned(), count, |total, _| {
            (*total > Self::EXACT_UP_TO).then_some(Self::TTL)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn only_large_totals_are_kept() {
        let cache = CountCache::default();
        let counts = Cell::new(0);
        let count = |total: i64| {
            let counts = &counts;
            move || -> Result<i64, ()> {
                counts.set(counts.get() + 1);
                Ok(total)
            }
        };
        assert_eq!(
            cache.total("small", count(CountCache::EXACT_UP_TO)),
            Ok(1_000)
        );
        assert_eq!(
            cache.total("small", count(CountCache::EXACT_UP_TO)),
            Ok(1_000)
        );
        assert_eq!(counts.get(), 2, "small totals are always counted");
        assert_eq!(cache.total("big", count(50_000)), Ok(50_000));
        assert_eq!(cache.total("big", count(60_000)), Ok(50_000));
        assert_eq!(counts.get(), 3, "a large total is kept");
        assert_eq!(cache.total("other", || Err::<i64, _>("down")), Err("down"));
    }
}
