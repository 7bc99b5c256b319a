//! Background work yields to people: requests count their arrival ([`Arrivals`], one per app
//! instance, in `AppState`), and the deletion worker, after each batch, rests as long as the
//! batch took when pages were being served faster than [`BUSY_REQUESTS_PER_SECOND`] meanwhile.
//! A deletion then takes at most about half of the machine from a busy list, and all of an idle
//! one. This matters most on PostgreSQL, where the deleting is done by a database process that
//! the worker thread's lower CPU priority does not reach.
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

#[cfg(test)]
mod tests {
    use super::*;

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
