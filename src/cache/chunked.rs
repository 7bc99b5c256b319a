//! A kept listing's ids in chunks of about [`CHUNK`] ids, each shared (`Arc`) between the
//! versions of the listing: bringing a listing of 1,000,000 customers up to date after a write
//! copies the few chunks the write touches (16 KB each), not all 4 MB of it. Whole copies cost
//! a sixth of the server's CPU in the mixed workload at 1 M, and the allocator kept the freed
//! copies (RSS 420-480 MB). A chunk keeps its ids as 32-bit offsets from its smallest when they
//! fit (ids from one sequence always do): 4 bytes an id rather than 8, and the mixed workload
//! keeps about 30 listings of up to a million ids.

use std::sync::Arc;

use super::reconcile::{Edit, IdFilter, Ordered};

/// Ids per chunk as built; an edited chunk grows up to twice this before it is split, and one
/// shrunk below a quarter of it is joined to the next.
pub const CHUNK: usize = 4_096;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkedIds {
    chunks: Vec<Chunk>,
    /// The index in the listing of each chunk's first id.
    starts: Vec<usize>,
    len: usize,
}

impl ChunkedIds {
    pub fn from_vec(ids: Vec<i64>) -> Self {
        let mut listing = Self::default();
        for chunk in ids.chunks(CHUNK) {
            listing.push(Chunk::new(chunk));
        }
        listing
    }

    fn push(&mut self, chunk: Chunk) {
        if chunk.is_empty() {
            return;
        }
        self.starts.push(self.len);
        self.len += chunk.len();
        self.chunks.push(chunk);
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Up to `count` ids from index `offset` on (a page).
    pub fn page(&self, offset: usize, count: usize) -> Vec<i64> {
        if offset >= self.len {
            return Vec::new();
        }
        let first = self.chunk_of(offset);
        let skip = offset - self.starts[first];
        self.chunks[first]
            .ids_from(skip)
            .chain(
                self.chunks[first + 1..]
                    .iter()
                    .flat_map(|chunk| chunk.ids_from(0)),
            )
            .take(count)
            .collect()
    }

    pub fn to_vec(&self) -> Vec<i64> {
        self.ids().collect()
    }

    fn chunk_of(&self, index: usize) -> usize {
        self.starts.partition_point(|start| *start <= index) - 1
    }

    /// The listing edited (as [`Edit::applied`] would): chunks without a change are shared with
    /// this one, the others copied with their change.
    pub fn edited(&self, edit: &Edit) -> Self {
        let (leaving, insert) = edit.parts();
        let mut leaving = leaving.iter().peekable();
        let mut insert = insert.iter().peekable();
        let mut out = Self::default();
        // Ids of a changed chunk (or of a small one carried over to the next).
        let mut changed: Vec<i64> = Vec::new();
        let last = self.chunks.len().saturating_sub(1);
        for (n, (chunk, start)) in self.chunks.iter().zip(&self.starts).enumerate() {
            let end = start + chunk.len();
            let out_len = out.len + changed.len();
            // The last chunk takes what is appended after it, so that appending one id at a
            // time (new customers at the end of "oldest first") does not leave tiny chunks.
            let untouched = changed.is_empty()
                && leaving.peek().is_none_or(|i| **i >= end)
                && insert
                    .peek()
                    .is_none_or(|(at, _)| *at >= out_len + chunk.len())
                && !(n == last && insert.peek().is_some());
            if untouched {
                out.push(chunk.clone());
                continue;
            }
            for (index, id) in (*start..end).zip(chunk.ids_from(0)) {
                if leaving.next_if(|i| **i == index).is_some() {
                    continue;
                }
                while let Some((_, new)) = insert.next_if(|(at, _)| *at <= out.len + changed.len())
                {
                    changed.push(*new);
                }
                changed.push(id);
            }
            if n != last {
                out.flush(&mut changed, false);
            }
        }
        changed.extend(insert.map(|(_, id)| *id));
        out.flush(&mut changed, true);
        out
    }

    /// Keeps the changed ids as chunks: split when too big, carried over (left in `changed`)
    /// when too small, unless `last`.
    fn flush(&mut self, changed: &mut Vec<i64>, last: bool) {
        if changed.len() < CHUNK / 4 && !last {
            return;
        }
        if changed.len() > 2 * CHUNK {
            // In parts of equal size (give or take one), so that none is small.
            let parts = changed.len().div_ceil(CHUNK);
            let (size, longer) = (changed.len() / parts, changed.len() % parts);
            let mut from = 0;
            for part in 0..parts {
                let to = from + size + usize::from(part < longer);
                self.push(Chunk::new(&changed[from..to]));
                from = to;
            }
        } else {
            self.push(Chunk::new(changed));
        }
        changed.clear();
    }
}

impl Ordered for ChunkedIds {
    fn len(&self) -> usize {
        self.len
    }

    fn at(&self, index: usize) -> i64 {
        let chunk = self.chunk_of(index);
        self.chunks[chunk].at(index - self.starts[chunk])
    }

    fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.chunks.iter().flat_map(|chunk| chunk.ids_from(0))
    }

    /// Chunk by chunk, skipping those whose range of ids holds none of `changed`: in an order
    /// by creation most do (ids grow with it), and this pass over every id of every listing
    /// was a sixth of the server's CPU in the mixed workload at 1 M (profile).
    fn indexes_of(&self, changed: &[i64]) -> Vec<usize> {
        let filter = IdFilter::new(changed);
        let mut found = Vec::new();
        for (chunk, start) in self.chunks.iter().zip(&self.starts) {
            let (smallest, largest) = chunk.range();
            let from = changed.partition_point(|id| *id < smallest);
            if changed.get(from).is_none_or(|id| *id > largest) {
                continue;
            }
            let mut look = |index: usize, id: i64| {
                if filter.holds(id) {
                    found.push(start + index);
                }
            };
            match chunk {
                Chunk::Offsets {
                    smallest, offsets, ..
                } => {
                    for (index, offset) in offsets.iter().enumerate() {
                        look(index, smallest + i64::from(*offset));
                    }
                }
                Chunk::Whole { ids, .. } => {
                    for (index, id) in ids.iter().enumerate() {
                        look(index, *id);
                    }
                }
            }
        }
        found
    }
}

/// One chunk's ids: as offsets from the smallest where every one is within `u32::MAX` of it,
/// else whole.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Chunk {
    Offsets {
        smallest: i64,
        largest: i64,
        offsets: Arc<[u32]>,
    },
    Whole {
        smallest: i64,
        largest: i64,
        ids: Arc<[i64]>,
    },
}

impl Chunk {
    fn new(ids: &[i64]) -> Self {
        let smallest = ids.iter().copied().min().unwrap_or(0);
        let largest = ids.iter().copied().max().unwrap_or(0);
        if largest.abs_diff(smallest) > u64::from(u32::MAX) {
            return Self::Whole {
                smallest,
                largest,
                ids: ids.into(),
            };
        }
        // Each difference is at most `largest - smallest`, which fits.
        let offsets = ids.iter().map(|id| id.abs_diff(smallest) as u32).collect();
        Self::Offsets {
            smallest,
            largest,
            offsets,
        }
    }

    /// Its smallest and largest ids.
    fn range(&self) -> (i64, i64) {
        match self {
            Self::Offsets {
                smallest, largest, ..
            }
            | Self::Whole {
                smallest, largest, ..
            } => (*smallest, *largest),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Offsets { offsets, .. } => offsets.len(),
            Self::Whole { ids, .. } => ids.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn at(&self, index: usize) -> i64 {
        match self {
            Self::Offsets {
                smallest, offsets, ..
            } => smallest + i64::from(offsets[index]),
            Self::Whole { ids, .. } => ids[index],
        }
    }

    /// Its ids from `index` on.
    fn ids_from(&self, index: usize) -> ChunkIds<'_> {
        match self {
            Self::Offsets {
                smallest, offsets, ..
            } => ChunkIds::Offsets(*smallest, offsets[index..].iter()),
            Self::Whole { ids, .. } => ChunkIds::Whole(ids[index..].iter()),
        }
    }

    #[cfg(test)]
    fn shared_with(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Offsets { offsets: a, .. }, Self::Offsets { offsets: b, .. }) => {
                Arc::ptr_eq(a, b)
            }
            (Self::Whole { ids: a, .. }, Self::Whole { ids: b, .. }) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

enum ChunkIds<'a> {
    Offsets(i64, std::slice::Iter<'a, u32>),
    Whole(std::slice::Iter<'a, i64>),
}

impl Iterator for ChunkIds<'_> {
    type Item = i64;

    fn next(&mut self) -> Option<i64> {
        match self {
            Self::Offsets(smallest, offsets) => offsets.next().map(|o| *smallest + i64::from(*o)),
            Self::Whole(ids) => ids.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Self::Offsets(_, offsets) => offsets.size_hint(),
            Self::Whole(ids) => ids.size_hint(),
        }
    }
}

#[cfg(test)]
impl<const N: usize> PartialEq<[i64; N]> for ChunkedIds {
    fn eq(&self, other: &[i64; N]) -> bool {
        self.ids().eq(other.iter().copied())
    }
}

#[cfg(test)]
mod tests;
