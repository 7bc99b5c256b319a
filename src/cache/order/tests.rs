//! The cache's own rules, against a "database" of ids in id order that every search matches:
//! writes cost nothing but their log entry, reads bring listings up to date (never rebuild
//! them), and a write committing while a listing is read is never lost.

use std::cell::RefCell;

use super::*;

fn key(search: &str) -> ListingKey {
    (search.to_owned(), SortOrder::Name)
}

/// Customers are their ids, in id order, all matched by every search; `fail` makes the next
/// build fail; `during_build` runs inside a build, after the database was read;
/// `after_snapshot` runs inside a snapshot, once it is taken (its reads do not see what it
/// does).
#[derive(Default)]
struct Ids {
    db: RefCell<Vec<i64>>,
    builds: Cell<usize>,
    queries: Cell<usize>,
    /// How many times the database was asked which changed ids a search holds.
    held: Cell<usize>,
    fail: Cell<bool>,
}

struct Source<'a> {
    ids: &'a Ids,
    during_build: Option<Box<dyn FnMut() + 'a>>,
    after_snapshot: Option<Box<dyn FnMut() + 'a>>,
    snapshot: Option<Vec<i64>>,
}

fn source(ids: &Ids) -> Source<'_> {
    Source {
        ids,
        during_build: None,
        after_snapshot: None,
        snapshot: None,
    }
}

impl Source<'_> {
    fn read(&self) -> Vec<i64> {
        self.ids.queries.set(self.ids.queries.get() + 1);
        self.snapshot
            .clone()
            .unwrap_or_else(|| self.ids.db.borrow().clone())
    }
}

impl ListingSource for Source<'_> {
    type Error = &'static str;
    fn build(&mut self, _: &ListingKey) -> Result<Vec<i64>, &'static str> {
        self.ids.builds.set(self.ids.builds.get() + 1);
        if self.ids.fail.replace(false) {
            return Err("down");
        }
        let read = self.read();
        if let Some(during) = self.during_build.as_mut() {
            during();
        }
        Ok(read)
    }
    fn snapshot<T>(
        &mut self,
        read: impl FnOnce(&mut Self, bool) -> Result<T, &'static str>,
    ) -> Result<T, &'static str> {
        self.snapshot = Some(self.ids.db.borrow().clone());
        if let Some(after) = self.after_snapshot.as_mut() {
            after();
        }
        let result = read(self, true);
        self.snapshot = None;
        result
    }
    fn held(&mut self, _: &str, ids: &[i64]) -> Result<Vec<i64>, &'static str> {
        self.ids.held.set(self.ids.held.get() + 1);
        let db = self.read();
        Ok(ids.iter().copied().filter(|id| db.contains(id)).collect())
    }
    fn in_order(&mut self, _: SortOrder, ids: &[i64]) -> Result<Vec<i64>, &'static str> {
        self.read();
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        Ok(ids)
    }
    fn before(
        &mut self,
        _: SortOrder,
        pairs: &[(i64, i64)],
    ) -> Result<Vec<(i64, i64)>, &'static str> {
        let db = self.read();
        Ok(pairs
            .iter()
            .copied()
            .filter(|(id, other)| other < id && db.contains(id) && db.contains(other))
            .collect())
    }
}

/// Adds customer `id` through the cache, as a write does: logged, committed, done.
fn add(cache: &OrderCache, ids: &Ids, id: i64) {
    let pending = cache.writing(&[id]);
    ids.db.borrow_mut().push(id);
    ids.db.borrow_mut().sort_unstable();
    drop(pending);
}

#[test]
fn writes_cost_no_query_and_reads_bring_listings_up_to_date() {
    let cache = OrderCache::default();
    let ids = Ids::default();
    *ids.db.borrow_mut() = vec![1, 2, 3];
    assert_eq!(
        *cache.ids(key("acme"), &mut source(&ids)).unwrap(),
        [1, 2, 3]
    );
    assert_eq!(
        *cache.ids(key("acme"), &mut source(&ids)).unwrap(),
        [1, 2, 3]
    );
    assert_eq!(ids.builds.get(), 1);
    cache.ids(key("other"), &mut source(&ids)).unwrap();
    assert_eq!(ids.builds.get(), 2, "each listing has its own snapshot");
    assert_eq!(cache.total("acme", &mut source(&ids)), Ok(Some(3)));

    // An addition and a deletion: no query at all until a listing is read.
    let queries = ids.queries.get();
    let pending = cache.writing(&[2, 4]);
    *ids.db.borrow_mut() = vec![1, 3, 4];
    drop(pending);
    assert_eq!(ids.queries.get(), queries, "a write asks nothing");
    assert_eq!(
        *cache.ids(key("acme"), &mut source(&ids)).unwrap(),
        [1, 3, 4]
    );
    assert_eq!(cache.total("other", &mut source(&ids)), Ok(Some(3)));
    assert_eq!(
        *cache.ids(key("other"), &mut source(&ids)).unwrap(),
        [1, 3, 4]
    );
    assert_eq!(ids.builds.get(), 2, "brought up to date, not rebuilt");
    // Once up to date, a read asks nothing.
    let queries = ids.queries.get();
    cache.ids(key("acme"), &mut source(&ids)).unwrap();
    assert_eq!(ids.queries.get(), queries);

    cache.everything_changed();
    assert_eq!(cache.total("acme", &mut source(&ids)), Ok(None));
    cache.ids(key("acme"), &mut source(&ids)).unwrap();
    assert_eq!(
        ids.builds.get(),
        3,
        "what cannot be told makes every snapshot stale"
    );
}

#[test]
fn a_listing_built_while_a_write_commits_catches_up_with_it() {
    let cache = OrderCache::default();
    let ids = Ids::default();
    *ids.db.borrow_mut() = vec![1, 2];
    let mut building = Source {
        during_build: Some(Box::new(|| add(&cache, &ids, 3))),
        ..source(&ids)
    };
    // The build read [1, 2]; customer 3 was added meanwhile.
    assert_eq!(*cache.ids(key(""), &mut building).unwrap(), [1, 2, 3]);
    assert_eq!(*cache.ids(key(""), &mut source(&ids)).unwrap(), [1, 2, 3]);
    assert_eq!(ids.builds.get(), 1);
}

#[test]
fn a_write_committing_while_a_listing_is_brought_up_to_date_is_not_lost() {
    let cache = OrderCache::default();
    let ids = Ids::default();
    *ids.db.borrow_mut() = vec![1, 2];
    cache.ids(key(""), &mut source(&ids)).unwrap();
    add(&cache, &ids, 3);
    // While the next read brings the listing up to date for 3, customer 4 is added after its
    // snapshot was taken: that read cannot see 4, the one after it must.
    let mut reading = Source {
        after_snapshot: Some(Box::new(|| add(&cache, &ids, 4))),
        ..source(&ids)
    };
    assert_eq!(*cache.ids(key(""), &mut reading).unwrap(), [1, 2, 3]);
    assert_eq!(
        *cache.ids(key(""), &mut source(&ids)).unwrap(),
        [1, 2, 3, 4]
    );
    assert_eq!(ids.builds.get(), 1);
}

#[test]
fn the_orders_of_a_search_ask_once_which_changed_ids_it_holds() {
    let cache = OrderCache::default();
    let ids = Ids::default();
    *ids.db.borrow_mut() = vec![1, 2];
    let orders = [SortOrder::Name, SortOrder::NameDesc, SortOrder::Created];
    for sort in orders {
        cache.ids(("acme".into(), sort), &mut source(&ids)).unwrap();
    }
    add(&cache, &ids, 3);
    for sort in orders {
        let read = cache.ids(("acme".into(), sort), &mut source(&ids)).unwrap();
        assert_eq!(*read, [1, 2, 3]);
    }
    assert_eq!(ids.held.get(), 1);
    // Written again since: asked again, and the answer is the new one.
    let pending = cache.writing(&[3]);
    ids.db.borrow_mut().pop();
    drop(pending);
    for sort in orders {
        let read = cache.ids(("acme".into(), sort), &mut source(&ids)).unwrap();
        assert_eq!(*read, [1, 2]);
    }
    assert_eq!(ids.held.get(), 2);
}

#[test]
fn an_answer_read_after_a_snapshot_began_is_not_used_in_it() {
    let cache = OrderCache::default();
    let ids = Ids::default();
    *ids.db.borrow_mut() = vec![1, 2];
    let (name, created) = (key("acme"), ("acme".to_owned(), SortOrder::Created));
    cache.ids(name.clone(), &mut source(&ids)).unwrap();
    cache.ids(created.clone(), &mut source(&ids)).unwrap();
    add(&cache, &ids, 3);
    // Once the name order's snapshot has begun (it holds 3), customer 3 is deleted and the
    // creation order is brought up to date: its answer for 3 ("not held") is newer than the
    // name order's snapshot, which must be answered as it stands.
    let mut reading = Source {
        after_snapshot: Some(Box::new(|| {
            let pending = cache.writing(&[3]);
            ids.db.borrow_mut().pop();
            drop(pending);
            assert_eq!(
                *cache.ids(created.clone(), &mut source(&ids)).unwrap(),
                [1, 2]
            );
        })),
        ..source(&ids)
    };
    assert_eq!(*cache.ids(name.clone(), &mut reading).unwrap(), [1, 2, 3]);
    assert_eq!(*cache.ids(name, &mut source(&ids)).unwrap(), [1, 2]);
}

#[test]
fn a_write_not_yet_committed_is_replayed_once_it_is() {
    let cache = OrderCache::default();
    let ids = Ids::default();
    *ids.db.borrow_mut() = vec![1, 2];
    cache.ids(key(""), &mut source(&ids)).unwrap();
    add(&cache, &ids, 3);
    // Customer 5 is logged, not committed, when the listing is read.
    let pending = cache.writing(&[5]);
    assert_eq!(*cache.ids(key(""), &mut source(&ids)).unwrap(), [1, 2, 3]);
    ids.db.borrow_mut().push(5);
    // Committed, not yet done: either answer is right; once done, it must show.
    drop(pending);
    assert_eq!(
        *cache.ids(key(""), &mut source(&ids)).unwrap(),
        [1, 2, 3, 5]
    );
    assert_eq!(ids.builds.get(), 1);
}

#[test]
fn a_listing_behind_forgotten_writes_is_rebuilt() {
    let cache = OrderCache::default();
    let ids = Ids::default();
    *ids.db.borrow_mut() = vec![1];
    cache.ids(key(""), &mut source(&ids)).unwrap();
    let many: Vec<i64> = (2..=WriteLog::MAX_IDS as i64 + 1).collect();
    let pending = cache.writing(&many);
    ids.db.borrow_mut().extend(&many);
    drop(pending);
    add(&cache, &ids, 0);
    let listing = cache.ids(key(""), &mut source(&ids)).unwrap();
    assert_eq!(listing.len(), WriteLog::MAX_IDS + 2);
    assert_eq!(listing.page(0, 1)[0], 0);
    assert_eq!(ids.builds.get(), 2, "rebuilt");
}

#[test]
fn a_failed_build_is_not_kept() {
    let cache = OrderCache::default();
    let ids = Ids::default();
    ids.fail.set(true);
    assert_eq!(cache.ids(key("x"), &mut source(&ids)), Err("down"));
    *ids.db.borrow_mut() = vec![7];
    assert_eq!(*cache.ids(key("x"), &mut source(&ids)).unwrap(), [7]);
}

#[test]
fn the_oldest_snapshots_go_when_too_many_ids_are_held() {
    let cache = OrderCache::default();
    let ids = Ids::default();
    *ids.db.borrow_mut() = vec![0; OrderCache::MAX_IDS / 2];
    for search in ["a", "b", "c"] {
        cache.ids(key(search), &mut source(&ids)).unwrap();
    }
    assert_eq!(cache.held_ids(), OrderCache::MAX_IDS);
    // "a" was dropped: asking again builds it.
    let before = ids.builds.get();
    *ids.db.borrow_mut() = vec![1];
    cache.ids(key("a"), &mut source(&ids)).unwrap();
    assert_eq!(ids.builds.get(), before + 1);
}

#[test]
fn the_write_log_knows_what_is_done_and_forgets_beyond_its_bound() {
    let mut log = WriteLog::default();
    let first = log.push(&[1, 2]);
    let second = log.push(&[2, 3]);
    assert_eq!(log.done(), 0);
    log.finish(second);
    assert_eq!(log.done(), 0, "the first is still committing");
    log.finish(first);
    assert_eq!(log.done(), 2);
    assert_eq!(
        log.since(0),
        Some(vec![(1, 1), (2, 2), (3, 2)]),
        "each id's last write"
    );
    assert_eq!(log.since(1), Some(vec![(2, 2), (3, 2)]));
    assert_eq!(log.since(2), Some(vec![]));
    let third = log.push(&vec![9; WriteLog::MAX_IDS]);
    log.finish(third);
    assert_eq!(log.since(0), None, "the first writes are forgotten");
    assert_eq!(log.since(2).map(|ids| ids.len()), Some(1));
}

#[test]
fn readers_behind_the_same_writes_wait_for_one_to_bring_the_listing_up_to_date() {
    use std::sync::mpsc;
    use std::time::Duration;

    let cache = OrderCache::default();
    let start = || {
        let ids = Ids::default();
        *ids.db.borrow_mut() = (1..=5).collect();
        ids
    };
    let first = start();
    cache.ids(key("acme"), &mut source(&first)).unwrap();
    // A write behind the listing, then two readers: the second arrives while the first is
    // bringing it up to date, waits, and takes its result without a query of its own.
    let pending = cache.writing(&[6]);
    drop(pending);
    let (updating, update_started) = mpsc::channel();
    std::thread::scope(|scope| {
        let cache = &cache;
        let one = scope.spawn(move || {
            let ids = start();
            ids.db.borrow_mut().push(6);
            let mut source = source(&ids);
            source.after_snapshot = Some(Box::new(move || {
                updating.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(100));
            }));
            let listing = cache.ids(key("acme"), &mut source).unwrap();
            (listing.to_vec(), ids.queries.get())
        });
        update_started.recv().unwrap();
        let other = scope.spawn(move || {
            let ids = start();
            ids.db.borrow_mut().push(6);
            let listing = cache.ids(key("acme"), &mut source(&ids)).unwrap();
            (listing.to_vec(), ids.queries.get())
        });
        let (one, one_queries) = one.join().unwrap();
        let (other, other_queries) = other.join().unwrap();
        assert_eq!(one, [1, 2, 3, 4, 5, 6]);
        assert_eq!(other, one);
        assert!(one_queries > 0);
        assert_eq!(other_queries, 0, "the second reader asked nothing");
    });
}
