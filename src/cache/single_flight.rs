//! The core both list caches share: a bounded map of entries, each holding at most one kept
//! value; one request at a time builds an entry's value (the others wait for it rather than
//! each building their own), and a kept value past its time is still served to the others while
//! one request refreshes it. Knows nothing of what is kept or how it is built.
//!
//! A value is kept for the time its cache decides when it is built (`keep`), and only while the
//! cache's generation is the one it was built at: [`SingleFlight::invalidate`] makes every kept
//! value stale at once, and requests then wait for the one rebuild.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::lock;

/// What to forget when the map is full and a new key comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenFull {
    /// Forget entries no request is using and whose value is not fresh; if the map is still
    /// full, the new key is served without being remembered.
    KeepFresh,
    /// Forget every entry no request is using; the new key is always remembered.
    KeepInUse,
}

/// What a failed build does to the value kept before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnError {
    /// Forget it: the next request builds again, and the others wait for it.
    Forget,
    /// Keep it (stale): the next request refreshes again while the others are served it.
    KeepStale,
}

#[derive(Debug)]
pub(crate) struct SingleFlight<K, V> {
    entries: Mutex<HashMap<K, Arc<Entry<V>>>>,
    generation: AtomicU64,
    max_entries: usize,
    when_full: WhenFull,
    on_error: OnError,
}

#[derive(Debug)]
struct Entry<V> {
    state: Mutex<State<V>>,
    /// Held by the one request building this entry's value.
    building: Mutex<()>,
    /// Whether a request is changing this entry's kept value ([`SingleFlight::exclusively`]),
    /// and the signal that it is done.
    changing: Mutex<bool>,
    changed: Condvar,
}

impl<V> Default for Entry<V> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                kept: None,
                refreshing: false,
            }),
            building: Mutex::new(()),
            changing: Mutex::new(false),
            changed: Condvar::new(),
        }
    }
}

#[derive(Debug)]
struct State<V> {
    kept: Option<Kept<V>>,
    /// A request is building a new value while this one is served.
    refreshing: bool,
}

#[derive(Debug)]
struct Kept<V> {
    value: V,
    generation: u64,
    taken: Instant,
    keep: Duration,
}

impl<V> Kept<V> {
    fn current(&self, generation: u64) -> bool {
        self.generation == generation
    }

    fn fresh(&self, generation: u64) -> bool {
        self.current(generation) && self.taken.elapsed() < self.keep
    }
}

impl<K: Hash + Eq, V: Clone> SingleFlight<K, V> {
    pub(crate) fn new(max_entries: usize, when_full: WhenFull, on_error: OnError) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
            max_entries,
            when_full,
            on_error,
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Every kept value becomes stale: the next request for each rebuilds it, the others wait.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The key's value: kept when fresh (or while another request refreshes it), else from
    /// `build`, one request at a time. `keep` says, from the value and how long it took to
    /// build, for how long to keep it (`None`: not at all).
    pub(crate) fn get<E>(
        &self,
        key: K,
        build: impl FnOnce() -> Result<V, E>,
        keep: impl FnOnce(&V, Duration) -> Option<Duration>,
    ) -> Result<V, E> {
        let entry = self.entry(key);
        let claimed = {
            let mut guard = lock(&entry.state);
            let state = &mut *guard;
            let generation = self.generation();
            let refreshing = state.refreshing;
            match state.kept.as_mut() {
                Some(kept) if kept.fresh(generation) => {
                    return Ok(kept.value.clone());
                }
                // Past its time but current: served while another request refreshes it.
                Some(kept) if kept.current(generation) && refreshing => {
                    return Ok(kept.value.clone());
                }
                Some(kept) if kept.current(generation) => {
                    // This request refreshes; the others keep the last value meanwhile.
                    state.refreshing = true;
                    true
                }
                _ => false,
            }
        };
        let _building = lock(&entry.building);
        if !claimed {
            let mut state = lock(&entry.state);
            if let Some(kept) = &state.kept {
                if kept.fresh(self.generation()) {
                    return Ok(kept.value.clone()); // built while this request waited
                }
            }
            state.refreshing = true;
        }
        let generation = self.generation();
        let started = Instant::now();
        let built = build();
        let took = started.elapsed();
        let mut state = lock(&entry.state);
        state.refreshing = false;
        match built {
            Ok(value) => {
                state.kept = keep(&value, took).map(|keep| Kept {
                    value: value.clone(),
                    generation,
                    taken: Instant::now(),
                    keep,
                });
                Ok(value)
            }
            Err(error) => {
                if self.on_error == OnError::Forget {
                    state.kept = None;
                }
                Err(error)
            }
        }
    }

    /// The key's kept value, if it is fresh.
    pub(crate) fn fresh(&self, key: &K) -> Option<V> {
        let entry = lock(&self.entries).get(key).cloned()?;
        let state = lock(&entry.state);
        let kept = state.kept.as_ref()?;
        kept.fresh(self.generation()).then(|| kept.value.clone())
    }

    /// Forgets the key's kept value (the next request builds it again).
    pub(crate) fn forget(&self, key: &K) {
        let entry = lock(&self.entries).get(key).cloned();
        if let Some(entry) = entry {
            lock(&entry.state).kept = None;
        }
    }

    /// Changes the key's kept value in place, if it is still current and `same` says it is the
    /// one the change was planned on.
    pub(crate) fn update(&self, key: &K, same: impl Fn(&V) -> bool, change: impl FnOnce(&mut V)) {
        let Some(entry) = lock(&self.entries).get(key).cloned() else {
            return;
        };
        let generation = self.generation();
        let mut state = lock(&entry.state);
        if let Some(kept) = state.kept.as_mut() {
            if kept.current(generation) && same(&kept.value) {
                change(&mut kept.value);
            }
        }
    }

    /// Runs `work` while no other request runs work for the same key through this (other keys,
    /// reads and builds go on): for a change that every waiting request would otherwise work out
    /// again, the same, at the same time. A request waits at most `patience` (it holds a
    /// database connection meanwhile), then runs `work` alongside. Never call it from `work`.
    pub(crate) fn exclusively<T>(&self, key: K, patience: Duration, work: impl FnOnce() -> T) -> T {
        let entry = self.entry(key);
        let deadline = Instant::now() + patience;
        let mut busy = lock(&entry.changing);
        while *busy {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                drop(busy);
                return work();
            }
            busy = entry
                .changed
                .wait_timeout(busy, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        *busy = true;
        drop(busy);
        // Done even if `work` panics.
        struct Done<'a>(&'a Mutex<bool>, &'a Condvar);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                *lock(self.0) = false;
                self.1.notify_all();
            }
        }
        let _done = Done(&entry.changing, &entry.changed);
        work()
    }

    /// The key's kept value, if it is current (fresh or past its time, not invalidated).
    pub(crate) fn current(&self, key: &K) -> Option<V> {
        let entry = lock(&self.entries).get(key).cloned()?;
        let state = lock(&entry.state);
        let kept = state.kept.as_ref()?;
        kept.current(self.generation()).then(|| kept.value.clone())
    }

    /// Whether the key has a kept value, fresh or not.
    pub(crate) fn holds(&self, key: &K) -> bool {
        let entry = lock(&self.entries).get(key).cloned();
        entry.is_some_and(|entry| lock(&entry.state).kept.is_some())
    }

    fn entry(&self, key: K) -> Arc<Entry<V>> {
        let mut entries = lock(&self.entries);
        if let Some(entry) = entries.get(&key) {
            return entry.clone();
        }
        if entries.len() >= self.max_entries {
            let generation = self.generation();
            match self.when_full {
                WhenFull::KeepFresh => entries.retain(|_, entry| {
                    Arc::strong_count(entry) > 1
                        || lock(&entry.state)
                            .kept
                            .as_ref()
                            .is_some_and(|kept| kept.fresh(generation))
                }),
                // The idle ones go first.
                WhenFull::KeepInUse => entries.retain(|_, entry| Arc::strong_count(entry) > 1),
            }
        }
        let entry = Arc::new(Entry::default());
        if entries.len() < self.max_entries || self.when_full == WhenFull::KeepInUse {
            entries.insert(key, entry.clone());
        }
        entry
    }

    /// Drops the oldest kept values until they weigh at most `max` in all.
    pub(crate) fn shrink_to(&self, max: usize, weight: impl Fn(&V) -> usize) {
        let entries = lock(&self.entries);
        let mut held: Vec<(Instant, usize, &Arc<Entry<V>>)> = entries
            .values()
            .filter_map(|entry| {
                let state = lock(&entry.state);
                let kept = state.kept.as_ref()?;
                Some((kept.taken, weight(&kept.value), entry))
            })
            .collect();
        let mut total: usize = held.iter().map(|(_, weight, _)| weight).sum();
        held.sort_by_key(|(taken, _, _)| *taken);
        for (_, weight, entry) in held {
            if total <= max {
                break;
            }
            lock(&entry.state).kept = None;
            total -= weight;
        }
    }

    /// What the kept values weigh in all.
    #[cfg(test)]
    pub(crate) fn weight(&self, weight: impl Fn(&V) -> usize) -> usize {
        lock(&self.entries)
            .values()
            .filter_map(|entry| lock(&entry.state).kept.as_ref().map(|k| weight(&k.value)))
            .sum()
    }
}
