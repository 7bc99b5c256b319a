//! Bringing a listing in order up to date after some customers changed, instead of rebuilding
//! it: each changed id leaves the listing, and goes back in where it now sorts if the criteria
//! still hold it. The database answers what SQL decides (which ids the criteria hold, what
//! sorts before what: the same collation as the listing's `ORDER BY`), through a
//! [`ListingSource`]. Every id going in is placed at once: a round asks one query for all of
//! them (a few dozen probes each, narrowing where each one goes), so a million ids take about
//! four rounds however many ids move; an id that did not move is placed in the first round (its
//! old neighbours still bracket it).

use std::collections::{HashMap, HashSet};

use super::order::ListingKey;
use crate::domain::list_query::SortOrder;

/// What the database says about customers, for keeping listings in order.
pub trait ListingSource {
    type Error;
    /// The listing's ids in its order, read now (one statement: one consistent reading).
    fn build(&mut self, key: &ListingKey) -> Result<Vec<i64>, Self::Error>;
    /// Runs `read` on one snapshot of the database, taken before `read` starts: whatever
    /// commits later is seen by none of its queries. `read` is told whether the snapshot began
    /// with this call (else it is a transaction's already open, begun at some earlier time).
    fn snapshot<T>(
        &mut self,
        read: impl FnOnce(&mut Self, bool) -> Result<T, Self::Error>,
    ) -> Result<T, Self::Error>;
    /// Of `ids`, those that exist and that `criteria` (a listing key's) hold now, in any order.
    fn held(&mut self, criteria: &str, ids: &[i64]) -> Result<Vec<i64>, Self::Error>;
    /// The `ids` (existing customers) in the order of `sort`.
    fn in_order(&mut self, sort: SortOrder, ids: &[i64]) -> Result<Vec<i64>, Self::Error>;
    /// Of the pairs `(id, other)` (existing customers), those in which `other` is listed
    /// before `id` in `sort`.
    fn before(
        &mut self,
        sort: SortOrder,
        pairs: &[(i64, i64)],
    ) -> Result<Vec<(i64, i64)>, Self::Error>;
}

/// How many ids one round of narrowing probes for each id going in (fewer when many go in).
const PROBES: usize = 32;
/// About this many pairs in one round's query: the probes per id shrink to fit, down to 4 each
/// (4,096 pairs for the most ids placed at once).
const PAIRS_PER_ROUND: usize = 2_048;
/// More ids going in than this: the listing is rebuilt instead.
pub const MAX_PLACED: usize = 1_024;

/// What a change does to one listing: the indexes to take out (increasing) and the ids to put
/// in, at their index in the listing once the others are out, in increasing order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Edit {
    leaving: Vec<usize>,
    insert: Vec<(usize, i64)>,
}

impl Edit {
    pub fn new(leaving: Vec<usize>, insert: Vec<(usize, i64)>) -> Self {
        Self { leaving, insert }
    }

    /// The indexes to take out, and the ids to put in at their index.
    pub fn parts(&self) -> (&[usize], &[(usize, i64)]) {
        (&self.leaving, &self.insert)
    }

    /// Applies the edit (to the listing it was planned on).
    pub fn apply(&self, listing: &mut Vec<i64>) {
        *listing = self.applied(listing);
    }

    /// The listing it was planned on, edited: one pass.
    pub fn applied(&self, listing: &[i64]) -> Vec<i64> {
        let mut out = Vec::with_capacity(listing.len() + self.insert.len());
        let mut leaving = self.leaving.iter().peekable();
        let mut insert = self.insert.iter().peekable();
        for (index, id) in listing.iter().enumerate() {
            if leaving.next_if(|i| **i == index).is_some() {
                continue;
            }
            while let Some((_, new)) = insert.next_if(|(at, _)| *at <= out.len()) {
                out.push(*new);
            }
            out.push(*id);
        }
        out.extend(insert.map(|(_, id)| *id));
        out
    }
}

/// A listing's ids in order, read by index or all in a row.
pub trait Ordered {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn at(&self, index: usize) -> i64;
    fn ids(&self) -> impl Iterator<Item = i64> + '_;

    /// The indexes of the `changed` ids (sorted) in the listing, in one pass.
    fn indexes_of(&self, changed: &[i64]) -> Vec<usize> {
        let filter = IdFilter::new(changed);
        self.ids()
            .enumerate()
            .filter(|(_, id)| filter.holds(*id))
            .map(|(index, _)| index)
            .collect()
    }
}

impl Ordered for [i64] {
    fn len(&self) -> usize {
        <[i64]>::len(self)
    }

    fn at(&self, index: usize) -> i64 {
        self[index]
    }

    fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.iter().copied()
    }
}

impl Ordered for Vec<i64> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn at(&self, index: usize) -> i64 {
        self[index]
    }

    fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.iter().copied()
    }
}

/// Plans bringing `listing` (the ids of `key` in order) up to date for the `changed` ids, of
/// which the listing's criteria hold `held` now, all its questions answered by the reading of
/// the database `held` was (call it inside [`ListingSource::snapshot`]). `None`: too many ids
/// go in; rebuild instead.
pub fn plan<S: ListingSource, L: Ordered + ?Sized>(
    listing: &L,
    key: &ListingKey,
    changed: &[i64],
    held: &[i64],
    source: &mut S,
) -> Result<Option<Edit>, S::Error> {
    let mut changed = changed.to_vec();
    changed.sort_unstable();
    changed.dedup();
    if held.len() > MAX_PLACED {
        return Ok(None);
    }
    // Those going in, in the listing's order.
    let now = match held {
        [] | [_] => held.to_vec(),
        _ => source.in_order(key.1, held)?,
    };
    // Where the changed ids stand in the listing now (they leave it).
    let leaving = listing.indexes_of(&changed);
    if now.is_empty() {
        return Ok(Some(Edit {
            leaving,
            insert: Vec::new(),
        }));
    }
    let Some(bounds) = place(listing, &leaving, key.1, &now, source)? else {
        return Ok(None);
    };
    // Each id's gap among the ids that stay, then in order: its index is its gap plus the
    // ids put in before it.
    let insert = now
        .iter()
        .zip(bounds)
        .enumerate()
        .map(|(n, (id, lo))| (lo - leaving.partition_point(|i| *i < lo) + n, *id))
        .collect();
    Ok(Some(Edit { leaving, insert }))
}

/// A filter of ids that most ids not in it fail with one bit test (a million ids in a few
/// milliseconds); those that pass are then looked for in the sorted ids themselves.
pub(super) struct IdFilter<'a> {
    bits: Vec<u64>,
    ids: &'a [i64],
}

impl<'a> IdFilter<'a> {
    const BITS: usize = 1 << 16;

    /// `ids` sorted.
    pub(super) fn new(ids: &'a [i64]) -> Self {
        let mut bits = vec![0u64; Self::BITS / 64];
        for id in ids {
            let bit = Self::bit(*id);
            bits[bit / 64] |= 1 << (bit % 64);
        }
        Self { bits, ids }
    }

    fn bit(id: i64) -> usize {
        (id as u64 as usize) & (Self::BITS - 1)
    }

    #[inline]
    pub(super) fn holds(&self, id: i64) -> bool {
        let bit = Self::bit(id);
        (self.bits[bit / 64] >> (bit % 64)) & 1 == 1 && self.ids.binary_search(&id).is_ok()
    }
}

/// For each id of `now` (in the listing's order), an index of the listing such that its ids
/// other than the changed ones sort before it below the index, after it from it on. `None` if
/// the answers contradict the listing (it was not in order).
fn place<S: ListingSource, L: Ordered + ?Sized>(
    listing: &L,
    leaving: &[usize],
    sort: SortOrder,
    now: &[i64],
    source: &mut S,
) -> Result<Option<Vec<usize>>, S::Error> {
    let was_at: HashMap<i64, usize> = leaving.iter().map(|i| (listing.at(*i), *i)).collect();
    let staying = Staying { leaving };
    let per_id = (PAIRS_PER_ROUND / now.len()).clamp(4, PROBES);
    // Everything kept below `lo` sorts before the id, everything kept from `hi` on after it.
    let mut ranges: Vec<(usize, usize)> = vec![(0, listing.len()); now.len()];
    let mut first_round = true;
    loop {
        // The ids are in order, so their places are too.
        for n in 1..ranges.len() {
            ranges[n].0 = ranges[n].0.max(ranges[n - 1].0);
        }
        for n in (0..ranges.len().saturating_sub(1)).rev() {
            ranges[n].1 = ranges[n].1.min(ranges[n + 1].1);
        }
        if ranges.iter().any(|(lo, hi)| lo > hi) {
            return Ok(None);
        }
        let mut asked: Vec<Vec<usize>> = Vec::with_capacity(now.len());
        let mut pairs: Vec<(i64, i64)> = Vec::new();
        for (id, (lo, hi)) in now.iter().zip(&ranges) {
            let mut probes: Vec<usize> = Vec::new();
            // First, only its old neighbours: if they still bracket it (most ids a save writes
            // keep their place in most orders), it is placed with two comparisons.
            if let Some(at) = was_at.get(id).filter(|_| first_round) {
                let below = staying.count(*lo, *at);
                probes.extend((below > 0).then(|| staying.nth(*lo, *at, below - 1)));
                probes
                    .extend((staying.count(at + 1, *hi) > 0).then(|| staying.nth(at + 1, *hi, 0)));
            } else {
                // Evenly spaced among the ids that stay (by rank, not by index): spaced by
                // index, probes falling on ids that leave (a deletion of every 10th customer)
                // would ask nothing, and a long run of them would narrow the range by one a round.
                let count = staying.count(*lo, *hi);
                let step = count.div_ceil(per_id).max(1);
                probes.extend((0..count).step_by(step).map(|k| staying.nth(*lo, *hi, k)));
            }
            probes.sort_unstable();
            probes.dedup();
            pairs.extend(probes.iter().map(|i| (*id, listing.at(*i))));
            asked.push(probes);
        }
        first_round = false;
        if pairs.is_empty() {
            // Only changed ids (which leave) between each `lo` and `hi`: placed.
            return Ok(Some(ranges.into_iter().map(|(lo, _)| lo).collect()));
        }
        let before: HashSet<(i64, i64)> = source.before(sort, &pairs)?.into_iter().collect();
        for ((id, range), probes) in now.iter().zip(&mut ranges).zip(asked) {
            for i in probes {
                if before.contains(&(*id, listing.at(i))) {
                    range.0 = range.0.max(i + 1);
                } else {
                    range.1 = range.1.min(i);
                }
            }
        }
    }
}

/// The indexes of a listing whose ids stay (all but the sorted `leaving`), counted and found by
/// rank in logarithmic time however long the runs of ids leaving (a bulk deletion's batch).
struct Staying<'a> {
    leaving: &'a [usize],
}

impl Staying<'_> {
    /// How many indexes in `lo..hi` stay.
    fn count(&self, lo: usize, hi: usize) -> usize {
        if hi <= lo {
            return 0;
        }
        let leaving_below = |i: usize| self.leaving.partition_point(|l| *l < i);
        (hi - lo) - (leaving_below(hi) - leaving_below(lo))
    }

    /// The `k`-th (from 0) index in `lo..hi` that stays; there must be more than `k`.
    fn nth(&self, lo: usize, hi: usize, k: usize) -> usize {
        let (mut low, mut high) = (lo, hi - 1);
        while low < high {
            let mid = low + (high - low) / 2;
            if self.count(lo, mid + 1) > k {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        low
    }
}

#[cfg(test)]
mod tests;
