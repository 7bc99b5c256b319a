//! How many of a selection's picked customers still exist (the counter's "N selected"), kept
//! between page views. Counting looks every picked id up (about 3 µs each at 1 M: 26–36 ms a
//! page with 10,000 picked, and 12 % of the server's time in the mixed workload, where each
//! page view and tick of a session counts its picks again). Pure: the caller counts.
//!
//! Why a kept count is exact where it is used. A count carries `as_of`, the number of writes
//! done (committed or given up) before its query began, so its query saw each of them. It is
//! used again only if no write numbered above `as_of`, done or not, touched a picked id: the
//! write log (`order.rs`) holds every write through this app from before its commit, so a
//! write committed since the count that deleted a picked customer (or created one with a
//! picked id) is there, and the count is taken again. If the log has forgotten writes after
//! `as_of`, it is taken again too. Writes by another process (the command line, another
//! instance) are not logged: a count is used at most [`PickedCounts::LIFE`], as kept totals
//! and held answers are (`count.rs`, `held.rs`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::OrderCache;
use crate::lock;

#[derive(Debug)]
pub struct PickedCounts {
    kept: Mutex<Kept>,
    life: Duration,
}

/// The counts, by the picked ids themselves (sorted): two selections share a count only if
/// they pick the same customers.
#[derive(Debug, Default)]
struct Kept {
    counts: HashMap<Vec<i64>, Count>,
    /// Picked ids in all the keys.
    ids: usize,
}

#[derive(Debug, Clone, Copy)]
struct Count {
    count: i64,
    as_of: u64,
    /// When its query began: the life is counted from there.
    at: Instant,
}

impl Default for PickedCounts {
    fn default() -> Self {
        Self::with_life(Self::LIFE)
    }
}

impl PickedCounts {
    pub const LIFE: Duration = Duration::from_secs(5);
    /// At most this many picked ids in all the kept counts (8 bytes each), and this many
    /// counts (about 100 bytes each besides): beyond, the expired counts go, then all of them.
    const MAX_IDS: usize = 200_000;
    const MAX_COUNTS: usize = 10_000;

    fn with_life(life: Duration) -> Self {
        Self {
            kept: Mutex::default(),
            life,
        }
    }

    /// How many of the `picked` ids (sorted, no repeats) exist: kept where that is exact
    /// (above), else from `count` (one query, outside any open transaction), then kept.
    pub fn count<E>(
        &self,
        picked: &[i64],
        writes: &OrderCache,
        count: impl FnOnce() -> Result<i64, E>,
    ) -> Result<i64, E> {
        debug_assert!(picked.windows(2).all(|pair| pair[0] < pair[1]));
        if let Some(kept) = lock(&self.kept).counts.get_mut(picked) {
            if kept.at.elapsed() < self.life {
                if let Some(last) = writes.untouched_since(kept.as_of, picked) {
                    // No write up to `last` touched them: the count stands for those writes
                    // too, and the next look at the log starts after them.
                    kept.as_of = last;
                    return Ok(kept.count);
                }
            }
        }
        let at = Instant::now();
        let as_of = writes.writes_done();
        let count = count()?;
        self.keep(picked, Count { count, as_of, at });
        Ok(count)
    }

    fn keep(&self, picked: &[i64], new: Count) {
        if picked.len() > Self::MAX_IDS {
            return;
        }
        let mut kept = lock(&self.kept);
        if let Some(old) = kept.counts.get_mut(picked) {
            // The count that reflects more writes stays.
            if new.as_of >= old.as_of {
                *old = new;
            }
            return;
        }
        if kept.ids + picked.len() > Self::MAX_IDS || kept.counts.len() >= Self::MAX_COUNTS {
            let life = self.life;
            kept.counts.retain(|_, count| count.at.elapsed() < life);
            kept.ids = kept.counts.keys().map(Vec::len).sum();
            if kept.ids + picked.len() > Self::MAX_IDS || kept.counts.len() >= Self::MAX_COUNTS {
                kept.counts.clear();
                kept.ids = 0;
            }
        }
        kept.ids += picked.len();
        kept.counts.insert(picked.to_vec(), new);
    }

    #[cfg(test)]
    fn kept_ids(&self) -> usize {
        let kept = lock(&self.kept);
        assert_eq!(kept.ids, kept.counts.keys().map(Vec::len).sum::<usize>());
        kept.ids
    }
}

#[cfg(test)]
mod tests;
