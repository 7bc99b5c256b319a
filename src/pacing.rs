//! Background work yields to people: requests count their arrival ([`Arrivals`], one per app
//! instance, in `AppState`), and the deletion worker, after each batch, rests as long as the
//! batch took when pages were being served faster than [`BUSY_REQUESTS_PER_SECOND`] meanwhile.
//! A deletion then takes at most about half of the machine from a busy list, and all of an idle
//! one. This matters most on PostgreSQL, where the deleting is done by a database process that
//! the worker thread's lower CPU priority does not reach.
//!
//! On SQLite a batch also holds the one write lock from its first statement to its commit, and
//! every request that writes (a tick, a save) waits for it: while pages are busy, batches are
//! sized to hold it about [`BatchSizes::HOLD`] ([`BatchSizes`]).
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Below this rate the instance counts as idle (a person polling a job's progress page, say).
pub const BUSY_REQUESTS_PER_SECOND: f64 = 100.0;

/// The requests an app instance has received (counted by the request log middleware).
#[derive(Debug, Default)]
pub struct Arrivals(AtomicU64);

impl Arrivals {
    /// Call once per request received.
    pub fn request_received(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests received so far by this instance.
    pub fn requests_received(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// How long to rest after a batch that took `took`, while `requests` arrived.
pub fn rest_after(took: Duration, requests: u64) -> Duration {
    let seconds = took.as_secs_f64().max(0.001);
    if requests as f64 / seconds >= BUSY_REQUESTS_PER_SECOND {
        took
    } else {
        Duration::ZERO
    }
}

/// The size of the next batch of a deletion: the most the worker is set to (`DELETION_BATCH_SIZE`)
/// while pages are idle; while they are busy, and batches hold a lock people's writes wait for
/// (SQLite's), as many customers as the last batches deleted in [`Self::HOLD`].
#[derive(Debug, Clone)]
pub struct BatchSizes {
    most: i64,
    next: i64,
    held: bool,
}

impl BatchSizes {
    /// How long a batch may hold SQLite's write lock while pages are busy: the wait it adds to a
    /// save or a tick. 20 ms rather than 40: at 1 M, paced at 300 and 500 requests a second
    /// with a deletion running, writes over 50 ms fell from 12 % to 4-5 % and the p99 from
    /// 109-147 ms to 72-89 ms, and the deletion went 0-12 % slower; with the cores saturated,
    /// less than half as fast (docs/performance.md, "Issue 16, eleventh round").
    pub const HOLD: Duration = Duration::from_millis(20);
    /// The fewest customers a batch deletes (a batch's own statements cost about a millisecond).
    pub const FEWEST: i64 = 10;

    /// `most`: the worker's batch size; `held`: whether a batch holds a lock that people's
    /// writes wait for.
    pub fn new(most: i64, held: bool) -> Self {
        let most = most.max(1);
        Self {
            most,
            next: if held { Self::FEWEST.min(most) } else { most },
            held,
        }
    }

    pub fn next(&self) -> i64 {
        self.next
    }

    /// After a batch of `customers` that took `took` while pages were busy or not: the next
    /// size, from the rate just seen, growing at most twofold a batch (one quick batch is not
    /// a trend).
    pub fn after(&mut self, customers: i64, took: Duration, busy: bool) {
        if !self.held || !busy {
            self.next = (self.next.max(1) * 2).min(self.most);
            return;
        }
        let per_customer = took.as_secs_f64().max(1e-6) / customers.max(1) as f64;
        let fits = (Self::HOLD.as_secs_f64() / per_customer) as i64;
        self.next = fits
            .min(self.next.max(1) * 2)
            .clamp(Self::FEWEST.min(self.most), self.most);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_the_lock_about_the_hold_while_pages_are_busy() {
        let mut sizes = BatchSizes::new(500, true);
        assert_eq!(sizes.next(), 10);
        // 10 customers in 4 ms: 50 fit in 20 ms, but a batch at most doubles.
        sizes.after(10, Duration::from_millis(4), true);
        assert_eq!(sizes.next(), 20);
        sizes.after(20, Duration::from_millis(8), true);
        assert_eq!(sizes.next(), 40);
        sizes.after(40, Duration::from_millis(16), true);
        assert_eq!(sizes.next(), 50);
        sizes.after(50, Duration::from_millis(20), true);
        assert_eq!(sizes.next(), 50);
        // Slower (the cores are busier): smaller at once.
        sizes.after(50, Duration::from_millis(50), true);
        assert_eq!(sizes.next(), 20);
        // Never below the fewest, never above the most.
        sizes.after(20, Duration::from_secs(5), true);
        assert_eq!(sizes.next(), BatchSizes::FEWEST);
        for _ in 0..20 {
            sizes.after(sizes.next(), Duration::from_micros(10), true);
        }
        assert_eq!(sizes.next(), 500);
    }

    #[test]
    fn idle_pages_or_no_lock_held_get_the_largest_batches() {
        let mut idle = BatchSizes::new(500, true);
        for _ in 0..6 {
            idle.after(idle.next(), Duration::from_secs(1), false);
        }
        assert_eq!(idle.next(), 500);
        let mut postgres = BatchSizes::new(500, false);
        assert_eq!(postgres.next(), 500);
        postgres.after(500, Duration::from_secs(1), true);
        assert_eq!(postgres.next(), 500);
    }

    #[test]
    fn rests_as_long_as_the_batch_took_only_when_pages_are_busy() {
        let batch = Duration::from_millis(50);
        assert_eq!(rest_after(batch, 0), Duration::ZERO);
        // 2 requests in 50 ms (a progress page polled every 20 ms) is 40/s: idle.
        assert_eq!(rest_after(batch, 2), Duration::ZERO);
        // 5 in 50 ms is 100/s: busy.
        assert_eq!(rest_after(batch, 5), batch);
        assert_eq!(rest_after(batch, 500), batch);
        assert_eq!(rest_after(Duration::ZERO, 0), Duration::ZERO);
    }
}
