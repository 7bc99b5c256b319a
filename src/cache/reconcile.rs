//! Bringing a listing in order up to date after some customers changed, instead of rebuilding
//! it: each changed id leaves the listing, and goes back in where it now sorts if the search
//! still holds it. The database answers what SQL decides (which ids the search holds, what
//! sorts before what: the same collation as the listing's `ORDER BY`), through a
//! [`ListingSource`]; the positions are found by narrowing, a few dozen probes a round, so a
//! million ids take about four rounds.

use std::collections::{HashMap, HashSet};

use super::order::ListingKey;
use crate::domain::list_query::SortOrder;

/// What the database says about customers, for keeping listings in order.
pub trait ListingSource {
    type Error;
    /// The listing's ids in its order, read now.
    fn build(&mut self, key: &ListingKey) -> Result<Vec<i64>, Self::Error>;
    /// Of `ids`, those that exist and that the listing's search holds now.
    fn matching(&mut self, key: &ListingKey, ids: &[i64]) -> Result<Vec<i64>, Self::Error>;
    /// Of `others` (existing customers), those listed before `id` in `sort`.
    fn before(&mut self, sort: SortOrder, id: i64, others: &[i64])
        -> Result<Vec<i64>, Self::Error>;
}

/// A source whose answers to [`ListingSource::matching`] are kept per criteria (the listing
/// key without its sort order: search and filters), for bringing several listings (the same
/// criteria in each order) up to date for the same changed ids.
pub(crate) struct PerSearch<'s, S> {
    source: &'s mut S,
    matched: HashMap<ListingKey, Vec<i64>>,
}

impl<'s, S> PerSearch<'s, S> {
    pub(crate) fn new(source: &'s mut S) -> Self {
        Self {
            source,
            matched: HashMap::new(),
        }
    }
}

impl<S: ListingSource> ListingSource for PerSearch<'_, S> {
    type Error = S::Error;

    fn build(&mut self, key: &ListingKey) -> Result<Vec<i64>, S::Error> {
        self.source.build(key)
    }

    fn matching(&mut self, key: &ListingKey, ids: &[i64]) -> Result<Vec<i64>, S::Error> {
        // What criteria hold does not depend on the order.
        let search = (key.0.clone(), SortOrder::Name);
        if let Some(matched) = self.matched.get(&search) {
            return Ok(matched.clone());
        }
        let matched = self.source.matching(key, ids)?;
        self.matched.insert(search, matched.clone());
        Ok(matched)
    }

    fn before(&mut self, sort: SortOrder, id: i64, others: &[i64]) -> Result<Vec<i64>, S::Error> {
        self.source.before(sort, id, others)
    }
}

/// How many ids one round of narrowing probes.
const PROBES: usize = 32;

/// What a change does to one listing: the indexes to take out (increasing) and the ids to put
/// in, at their index in the listing once the others are out, in increasing order.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Edit {
    leaving: Vec<usize>,
    insert: Vec<(usize, i64)>,
}

impl Edit {
    /// Applies the edit (to the listing it was planned on).
    pub fn apply(&self, listing: &mut Vec<i64>) {
        if !self.leaving.is_empty() {
            let (mut next, mut index) = (0, 0);
            listing.retain(|_| {
                let leaves = self.leaving.get(next) == Some(&index);
                next += usize::from(leaves);
                index += 1;
                !leaves
            });
        }
        // Increasing indexes, each counted among the listing with the earlier ones in.
        for (index, id) in &self.insert {
            listing.insert((*index).min(listing.len()), *id);
        }
    }
}

/// Plans bringing `listing` (the ids of `key` in order) up to date for the `changed` ids.
pub fn plan<S: ListingSource>(
    listing: &[i64],
    key: &ListingKey,
    changed: &[i64],
    source: &mut S,
) -> Result<Edit, S::Error> {
    let mut changed = changed.to_vec();
    changed.sort_unstable();
    changed.dedup();
    let changed = changed.as_slice();
    let remove: HashSet<i64> = changed.iter().copied().collect();
    let now: Vec<i64> = source.matching(key, changed)?;
    // Where the changed ids stand in the listing now (they leave it).
    let mut leaving: Vec<usize> = if changed.len() <= 4 {
        changed
            .iter()
            .filter_map(|id| listing.iter().position(|listed| listed == id))
            .collect()
    } else {
        (0..listing.len())
            .filter(|i| remove.contains(&listing[*i]))
            .collect()
    };
    leaving.sort_unstable();
    leaving.dedup();
    if now.is_empty() {
        return Ok(Edit {
            leaving,
            insert: Vec::new(),
        });
    }
    // The common edit: one customer, still listed, whose neighbours still bracket it (a
    // change of phone, say). Nothing moves.
    if let ([id], [index]) = (now.as_slice(), leaving.as_slice()) {
        if changed.len() == 1 {
            let neighbours: Vec<i64> = [index.checked_sub(1), Some(index + 1)]
                .into_iter()
                .flatten()
                .filter_map(|i| listing.get(i).copied())
                .collect();
            let before = source.before(key.1, *id, &neighbours)?;
            let previous_before = *index == 0 || before.contains(&listing[index - 1]);
            let next_after = listing
                .get(index + 1)
                .is_none_or(|next| !before.contains(next));
            if previous_before && next_after {
                return Ok(Edit::default());
            }
        }
    }
    // For each id going in: how many of the others sort before it, and before it among those
    // going into the same gap.
    let mut ordered: Vec<(usize, usize, i64)> = Vec::with_capacity(now.len());
    for &id in &now {
        let lo = boundary(listing, &remove, key.1, id, source)?;
        let gap = lo - leaving.iter().filter(|i| **i < lo).count();
        ordered.push((gap, 0, id));
    }
    for n in 0..ordered.len() {
        let (gap, _, id) = ordered[n];
        let same_gap: Vec<i64> = ordered
            .iter()
            .filter(|(g, _, other)| *g == gap && *other != id)
            .map(|(_, _, other)| *other)
            .collect();
        if !same_gap.is_empty() {
            ordered[n].1 = source.before(key.1, id, &same_gap)?.len();
        }
    }
    ordered.sort();
    // Inserted in order, each after the earlier ones: its index is its gap plus those.
    let insert = ordered
        .into_iter()
        .enumerate()
        .map(|(n, (gap, _, id))| (gap + n, id))
        .collect();
    Ok(Edit { leaving, insert })
}

/// An index of the listing such that its ids other than the changed ones sort before `id`
/// below it, and after it from it on.
fn boundary<S: ListingSource>(
    listing: &[i64],
    changed: &HashSet<i64>,
    sort: SortOrder,
    id: i64,
    source: &mut S,
) -> Result<usize, S::Error> {
    // The listing's index range in which the answer's boundary lies: everything kept before
    // `lo` sorts before `id`, everything from `hi` on after it.
    let (mut lo, mut hi) = (0usize, listing.len());
    while lo < hi {
        let step = (hi - lo).div_ceil(PROBES).max(1);
        let probes: Vec<(usize, i64)> = (lo..hi)
            .step_by(step)
            .filter(|i| !changed.contains(&listing[*i]))
            .map(|i| (i, listing[i]))
            .collect();
        if probes.is_empty() {
            // Only changed ids in the range (they leave): any index in it is the boundary.
            break;
        }
        let ids: Vec<i64> = probes.iter().map(|(_, id)| *id).collect();
        let before: HashSet<i64> = source.before(sort, id, &ids)?.into_iter().collect();
        // The listing is in order: the probes before `id` come first.
        let first_after = probes.iter().position(|(_, p)| !before.contains(p));
        let (new_lo, new_hi) = match first_after {
            Some(0) => (lo, probes[0].0),
            Some(n) => (probes[n - 1].0 + 1, probes[n].0),
            None => (probes[probes.len() - 1].0 + 1, hi),
        };
        if step == 1 {
            lo = new_lo;
            break;
        }
        (lo, hi) = (new_lo, new_hi);
    }
    Ok(lo)
}

#[cfg(test)]
mod tests;
