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
    /// By the picked ids themselves (sorted): two selections share a count only if they pick
    /// the same customers.
    kept: Mutex<HashMap<Vec<i64>, Kept>>,
    life: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Kept {
    count: i64,
    as_of: u64,
    at: Instant,
}

impl Default for PickedCounts {
    fn default() -> Self {
        Self::with_life(Self::LIFE)
    }
}

impl PickedCounts {
    pub const LIFE: Duration = Duration::from_secs(5);
    /// At most this many picked ids in all the kept counts (8 bytes each, 1.6 MB): beyond, the
    /// old counts go, then all of them.
    const MAX_IDS: usize = 200_000;

    fn with_life(life: Duration) -> Self {
        Self {
            kept: Mutex::default(),
            life,
        }
    }

    /// How many of the `picked` ids (sorted) exist: kept where that is exact (above), else
    /// from `count` (one query, outside any open transaction), then kept.
    pub fn count<E>(
        &self,
        picked: &[i64],
        writes: &OrderCache,
        count: impl FnOnce() -> Result<i64, E>,
    ) -> Result<i64, E> {
        let kept = lock(&self.kept).get(picked).copied();
        if let Some(kept) = kept.filter(|kept| kept.at.elapsed() < self.life) {
            let untouched = writes
                .written_since(kept.as_of)
                .is_some_and(|written| !any_in(&written, picked));
            if untouched {
                return Ok(kept.count);
            }
        }
        let as_of = writes.writes_done();
        let counted = count()?;
        self.keep(picked, counted, as_of);
        Ok(counted)
    }

    fn keep(&self, picked: &[i64], count: i64, as_of: u64) {
        if picked.len() > Self::MAX_IDS {
            return;
        }
        let mut kept = lock(&self.kept);
        if kept.keys().map(Vec::len).sum::<usize>() + picked.len() > Self::MAX_IDS {
            let life = self.life;
            kept.retain(|_, old| old.at.elapsed() < life);
            if kept.keys().map(Vec::len).sum::<usize>() + picked.len() > Self::MAX_IDS {
                kept.clear();
            }
        }
        let new = Kept {
            count,
            as_of,
            at: Instant::now(),
        };
        match kept.get_mut(picked) {
            // The count that reflects more writes stays.
            Some(old) if old.as_of > as_of => {}
            Some(old) => *old = new,
            None => {
                kept.insert(picked.to_vec(), new);
            }
        }
    }

    #[cfg(test)]
    fn kept_ids(&self) -> usize {
        lock(&self.kept).keys().map(Vec::len).sum()
    }
}

/// Whether two sorted lists of ids share one.
fn any_in(a: &[i64], b: &[i64]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests;
