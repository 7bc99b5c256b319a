use proptest::prelude::*;

use super::*;

fn sizes(listing: &ChunkedIds) -> Vec<usize> {
    listing.chunks.iter().map(|chunk| chunk.len()).collect()
}

#[test]
fn a_built_listing_is_cut_into_chunks_and_read_across_them() {
    let ids: Vec<i64> = (0..10_000).collect();
    let listing = ChunkedIds::from_vec(ids.clone());
    assert_eq!(sizes(&listing), [CHUNK, CHUNK, 10_000 - 2 * CHUNK]);
    assert_eq!(listing.len(), 10_000);
    assert_eq!(listing.to_vec(), ids);
    assert_eq!(listing.page(4_090, 10), (4_090..4_100).collect::<Vec<_>>());
    assert_eq!(listing.page(9_995, 50), (9_995..10_000).collect::<Vec<_>>());
    assert!(listing.page(10_000, 50).is_empty());
    assert_eq!(listing.at(CHUNK), CHUNK as i64);
    assert!(ChunkedIds::from_vec(Vec::new()).is_empty());
}

#[test]
fn an_edit_copies_only_the_chunks_it_touches() {
    let listing = ChunkedIds::from_vec((0..3 * CHUNK as i64).collect());
    // One id out of the middle chunk.
    let edit = Edit::new(vec![CHUNK + 5], Vec::new());
    let edited = listing.edited(&edit);
    assert!(edited.chunks[0].shared_with(&listing.chunks[0]));
    assert!(!edited.chunks[1].shared_with(&listing.chunks[1]));
    assert!(edited.chunks[2].shared_with(&listing.chunks[2]));
    assert_eq!(edited.to_vec(), edit.applied(&listing.to_vec()));
}

/// A number below `below` (0 if it is 0), from `seed` (a linear congruential step).
fn random_below(seed: &mut u64, below: usize) -> usize {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 33) as usize) % below.max(1)
}

/// A random edit of a listing of `len` ids (from `seed`): up to 200 ids out, up to 300 new
/// ones (negative) in.
fn random_edit(len: usize, seed: &mut u64) -> Edit {
    let mut next = |below: usize| random_below(seed, below);
    let mut leaving: Vec<usize> = (0..next(200))
        .map(|_| next(len))
        .filter(|i| *i < len)
        .collect();
    leaving.sort_unstable();
    leaving.dedup();
    let left = len - leaving.len();
    let mut at: Vec<usize> = (0..next(300)).map(|_| next(left + 1)).collect();
    at.sort_unstable();
    // Each one's index once the others before it are in.
    let insert = at
        .into_iter()
        .enumerate()
        .map(|(n, a)| (a + n, -(next(1_000_000) as i64) - 1))
        .collect();
    Edit::new(leaving, insert)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn edited_chunks_hold_what_the_edited_whole_holds(
        len in 0usize..20_000,
        seed in any::<u64>(),
        edits in 1usize..6,
    ) {
        let mut seed = seed;
        let mut whole: Vec<i64> = (0..len as i64).collect();
        let mut chunked = ChunkedIds::from_vec(whole.clone());
        for _ in 0..edits {
            let edit = random_edit(whole.len(), &mut seed);
            whole = edit.applied(&whole);
            chunked = chunked.edited(&edit);
        }
        prop_assert_eq!(chunked.to_vec(), whole.clone());
        prop_assert_eq!(chunked.len(), whole.len());
        let sizes = sizes(&chunked);
        for (n, size) in sizes.iter().enumerate() {
            prop_assert!(*size > 0 && *size <= 2 * CHUNK, "{:?}", sizes);
            if n + 1 < sizes.len() {
                prop_assert!(*size >= CHUNK / 4, "{:?}", sizes);
            }
        }
        for (index, id) in whole.iter().enumerate().step_by(97) {
            prop_assert_eq!(chunked.at(index), *id);
        }
    }
}

#[test]
fn a_run_of_deleted_ids_joins_what_is_left_of_its_chunks() {
    // A bulk deletion of consecutive customers: chunks emptied or left small.
    let ids: Vec<i64> = (0..20_000).collect();
    let chunked = ChunkedIds::from_vec(ids.clone());
    let edit = Edit::new((3_000..11_900).collect(), Vec::new());
    let edited = chunked.edited(&edit);
    assert_eq!(edited.to_vec(), edit.applied(&ids));
    let sizes = sizes(&edited);
    assert!(
        sizes[..sizes.len() - 1]
            .iter()
            .all(|size| *size >= CHUNK / 4),
        "{sizes:?}"
    );
    assert!(sizes.iter().all(|size| *size <= 2 * CHUNK), "{sizes:?}");
    // The 388 ids left of the third chunk went into the fourth; the fifth is still shared.
    assert!(!edited
        .chunks
        .iter()
        .any(|c| c.shared_with(&chunked.chunks[3])));
    assert!(edited
        .chunks
        .iter()
        .any(|c| c.shared_with(&chunked.chunks[4])));
}

#[test]
fn ids_far_apart_are_kept_whole_and_read_back_exactly() {
    // Ids from one sequence fit in offsets; ids further apart than u32::MAX do not.
    let near: Vec<i64> = (0..CHUNK as i64).map(|n| 5_000_000_000 + 3 * n).collect();
    let far: Vec<i64> = (0..CHUNK as i64)
        .map(|n| match n % 3 {
            0 => i64::MIN + n,
            1 => i64::MAX - n,
            _ => n * 4_000_000_000,
        })
        .collect();
    let ids: Vec<i64> = near.iter().chain(&far).copied().collect();
    let listing = ChunkedIds::from_vec(ids.clone());
    assert!(matches!(listing.chunks[0], Chunk::Offsets { .. }));
    assert!(matches!(listing.chunks[1], Chunk::Whole { .. }));
    assert_eq!(listing.to_vec(), ids);
    for index in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, CHUNK + 2, 2 * CHUNK - 1] {
        assert_eq!(listing.at(index), ids[index]);
    }
    assert_eq!(listing.page(CHUNK - 2, 5), ids[CHUNK - 2..CHUNK + 3]);
    // An id far from the others, into the chunk of near ones: that chunk is kept whole.
    let edit = Edit::new(vec![7], vec![(3, i64::MIN)]);
    let edited = listing.edited(&edit);
    assert_eq!(edited.to_vec(), edit.applied(&ids));
    assert!(matches!(edited.chunks[0], Chunk::Whole { .. }));
    // Taken out again, the chunk goes back to offsets.
    let back = Edit::new(vec![3], Vec::new());
    assert!(matches!(
        edited.edited(&back).chunks[0],
        Chunk::Offsets { .. }
    ));
}

#[test]
fn appending_one_at_a_time_leaves_no_tiny_chunks() {
    let mut chunked = ChunkedIds::from_vec((0..CHUNK as i64 + 10).collect());
    for n in 0..3 * CHUNK {
        let edit = Edit::new(Vec::new(), vec![(chunked.len(), -(n as i64) - 1)]);
        chunked = chunked.edited(&edit);
    }
    assert_eq!(chunked.len(), 4 * CHUNK + 10);
    assert!(chunked.chunks.len() <= 4, "{:?}", sizes(&chunked));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Skipping chunks by their range of ids finds what a pass over every id finds: listings in
    /// id order (ranges apart), shuffled (ranges overlapping), with ids far apart (kept whole).
    #[test]
    fn indexes_of_changed_ids_are_those_a_pass_over_every_id_finds(
        len in 0usize..20_000,
        seed in any::<u64>(),
        shuffled in any::<bool>(),
        far in any::<bool>(),
        asked in 0usize..300,
    ) {
        let mut seed = seed;
        let mut next = |below: usize| random_below(&mut seed, below);
        let mut ids: Vec<i64> = (0..len as i64).map(|n| 3 * n + 7).collect();
        if far {
            for n in (0..len).step_by(1_000) {
                ids[n] = if n % 2 == 0 { i64::MIN + n as i64 } else { i64::MAX - n as i64 };
            }
        }
        if shuffled {
            for n in (1..len).rev() {
                ids.swap(n, next(n + 1));
            }
        }
        let listing = ChunkedIds::from_vec(ids.clone());
        // Some ids of the listing, some not in it (between and beyond its ids).
        let mut changed: Vec<i64> = (0..asked)
            .map(|n| match n % 3 {
                0 if len > 0 => ids[next(len)],
                1 => 3 * next(len + 10) as i64 + 8,
                _ => -(next(1_000) as i64),
            })
            .collect();
        changed.sort_unstable();
        changed.dedup();
        let every: Vec<usize> = ids
            .iter()
            .enumerate()
            .filter(|(_, id)| changed.binary_search(id).is_ok())
            .map(|(index, _)| index)
            .collect();
        prop_assert_eq!(listing.indexes_of(&changed), every);
    }
}

#[test]
fn the_first_and_last_ids_of_a_chunk_are_found() {
    let listing = ChunkedIds::from_vec((0..3 * CHUNK as i64).collect());
    let edges = [0, CHUNK - 1, CHUNK, 2 * CHUNK - 1, 3 * CHUNK - 1];
    let changed: Vec<i64> = edges.iter().map(|index| *index as i64).collect();
    assert_eq!(listing.indexes_of(&changed), edges);
    assert!(listing.indexes_of(&[-1, 3 * CHUNK as i64]).is_empty());
}
