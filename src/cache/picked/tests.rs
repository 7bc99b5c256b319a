use std::cell::Cell;

use super::*;

/// Counts `picked` through the cache, saying whether the query ran.
fn counted(counts: &PickedCounts, writes: &OrderCache, picked: &[i64], exist: i64) -> (i64, bool) {
    let asked = Cell::new(false);
    let count = counts
        .count(picked, writes, || {
            asked.set(true);
            Ok::<_, ()>(exist)
        })
        .unwrap();
    (count, asked.get())
}

#[test]
fn a_count_is_used_again_while_no_write_touches_a_picked_id() {
    let counts = PickedCounts::default();
    let writes = OrderCache::default();
    let picked = [3, 7, 9];
    assert_eq!(counted(&counts, &writes, &picked, 3), (3, true));
    assert_eq!(counted(&counts, &writes, &picked, 3), (3, false));
    // Writes of other customers leave it as it is.
    drop(writes.writing(&[1, 4, 8, 10]));
    assert_eq!(counted(&counts, &writes, &picked, 3), (3, false));
    // A deletion of a picked customer: counted again.
    drop(writes.writing(&[2, 9]));
    assert_eq!(counted(&counts, &writes, &picked, 2), (2, true));
    assert_eq!(counted(&counts, &writes, &picked, 2), (2, false));
    // Another selection has its own count.
    assert_eq!(counted(&counts, &writes, &[3, 7], 2), (2, true));
}

#[test]
fn a_write_not_yet_committed_is_counted_again_until_a_count_after_it() {
    let counts = PickedCounts::default();
    let writes = OrderCache::default();
    let picked = [5, 6];
    let pending = writes.writing(&[6]);
    // Counted while the write commits: it may or may not show, so it is asked each time.
    assert_eq!(counted(&counts, &writes, &picked, 2), (2, true));
    assert_eq!(counted(&counts, &writes, &picked, 2), (2, true));
    drop(pending);
    assert_eq!(counted(&counts, &writes, &picked, 1), (1, true));
    assert_eq!(counted(&counts, &writes, &picked, 1), (1, false));
}

#[test]
fn a_count_older_than_its_life_is_taken_again() {
    let counts = PickedCounts::with_life(Duration::ZERO);
    let writes = OrderCache::default();
    assert_eq!(counted(&counts, &writes, &[1], 1), (1, true));
    assert_eq!(counted(&counts, &writes, &[1], 0), (0, true));
}

#[test]
fn writes_the_log_forgot_make_the_count_taken_again() {
    let counts = PickedCounts::default();
    let writes = OrderCache::default();
    let picked = [1_000_000_000];
    assert_eq!(counted(&counts, &writes, &picked, 1), (1, true));
    // More ids than the log keeps, none of them picked: whether one was is no longer known.
    let many: Vec<i64> = (1..=150_000).collect();
    drop(writes.writing(&many));
    assert_eq!(counted(&counts, &writes, &picked, 1), (1, true));
    assert_eq!(counted(&counts, &writes, &picked, 1), (1, false));
}

#[test]
fn kept_ids_and_counts_stay_within_their_bounds() {
    let counts = PickedCounts::default();
    let writes = OrderCache::default();
    for n in 0..30 {
        let picked: Vec<i64> = (n * 10_000..(n + 1) * 10_000).collect();
        counted(&counts, &writes, &picked, 10_000);
        assert!(counts.kept_ids() <= PickedCounts::MAX_IDS);
    }
    assert!(counts.kept_ids() >= 10_000);
    // Many small selections: bounded by their number too.
    for id in 0..(PickedCounts::MAX_COUNTS as i64 + 50) {
        counted(&counts, &writes, &[id], 1);
        assert!(lock(&counts.kept).counts.len() <= PickedCounts::MAX_COUNTS);
    }
}

/// A count checked against writes that did not touch its ids is then as of those writes: the
/// next check reads only what was logged after them, and the log may forget them.
#[test]
fn a_count_moves_past_the_writes_it_was_checked_against() {
    let counts = PickedCounts::default();
    let writes = OrderCache::default();
    let picked = [1_000_000_000];
    assert_eq!(counted(&counts, &writes, &picked, 1), (1, true));
    let others = |from: i64| (from..from + 60_000).collect::<Vec<i64>>();
    drop(writes.writing(&others(1)));
    assert_eq!(counted(&counts, &writes, &picked, 1), (1, false));
    // The log keeps 100,000 ids: this write makes it forget the first one, already checked.
    drop(writes.writing(&others(100_000)));
    assert_eq!(counted(&counts, &writes, &picked, 1), (1, false));
    drop(writes.writing(&[picked[0]]));
    assert_eq!(counted(&counts, &writes, &picked, 0), (0, true));
}

/// A write that commits while the count's query runs may not show in it: the count is kept as
/// of the writes done before the query, and the next page counts again.
#[test]
fn a_write_committed_during_the_count_is_counted_again() {
    let counts = PickedCounts::default();
    let writes = OrderCache::default();
    let picked = [4, 8];
    let pending = Cell::new(Some(writes.writing(&[8])));
    let first = counts
        .count(&picked, &writes, || {
            // The query reads before the write commits (it counts both), then the write is done.
            drop(pending.take());
            Ok::<_, ()>(2)
        })
        .unwrap();
    assert_eq!(first, 2);
    assert_eq!(counted(&counts, &writes, &picked, 1), (1, true));
    assert_eq!(counted(&counts, &writes, &picked, 1), (1, false));
}
