//! Which changed customers a search holds, asked of the database once for all the listings of
//! that search rather than once per sort order: the four orders of a search are brought up to
//! date for the same written ids, and at 1 M that question (a full-text lookup per id) was a
//! fifth of the server's time. Pure: it knows nothing of SQL.
//!
//! Why a kept answer is exact where it is used. An answer is read in a snapshot S, and carries
//! `as_of`, the number of writes done before S began (every write numbered up to it had
//! committed or was given up), and `seen_after`, a mark taken once S had begun. It is used for
//! a snapshot S' only if its mark is below the mark taken before S' began (so S began before
//! S'), and if no write touching the id is numbered above `as_of` in the write log read after
//! S' began (nor forgotten by it). A write committing between S and S' was not done when
//! `as_of` was read, so it is numbered above it; it was logged before its commit, so before S'
//! and before the log was read: it would be there. So S' sees the id as S did.
//!
//! Writes by another process are not logged: an answer is used at most [`HeldAnswers::LIFE`]
//! after it was kept, which adds at most that much (and the query's time) to how late such
//! writes can show (`order.rs`). Only snapshots begun for the update share answers: one taken
//! from a transaction already open began before `as_of` was read (`order.rs` asks for itself).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::lock;

#[derive(Debug, Default)]
pub struct HeldAnswers {
    /// By criteria (`Criteria::cache_key`), by id.
    answers: Mutex<HashMap<String, HashMap<i64, Answer>>>,
    /// Marks taken before and after snapshots begin, in the order they are taken.
    marks: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
struct Answer {
    held: bool,
    as_of: u64,
    seen_after: u64,
    at: Instant,
}

/// One reading of the database, for [`HeldAnswers::held`]: `as_of` the writes done before its
/// snapshot began, `before` and `after` marks taken before it began and once it had begun.
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    pub as_of: u64,
    pub before: u64,
    pub after: u64,
}

impl HeldAnswers {
    pub const LIFE: Duration = Duration::from_secs(5);
    /// At most this many answers in all (under 120 bytes each with the map's own); beyond, all
    /// are dropped, and a larger batch (a listing behind many deletions) is not kept.
    const MAX_ANSWERS: usize = 50_000;

    /// A mark, to take before a snapshot begins and again once it has begun.
    pub fn mark(&self) -> u64 {
        self.marks.fetch_add(1, Ordering::SeqCst)
    }

    /// Of the `changed` ids (each with the last logged write touching it, sorted by id), those
    /// that `criteria` hold in the snapshot of `reading`, sorted by id: the answers kept where
    /// they are exact (above), the others asked of `ask` (which answers in that snapshot, with
    /// those it holds) and kept. `forgotten`: the last write the log no longer holds.
    pub fn held<E>(
        &self,
        criteria: &str,
        changed: &[(i64, u64)],
        forgotten: u64,
        reading: Reading,
        ask: impl FnOnce(&[i64]) -> Result<Vec<i64>, E>,
    ) -> Result<Vec<i64>, E> {
        let mut held = Vec::new();
        let mut unknown = Vec::new();
        {
            let now = Instant::now();
            let answers = lock(&self.answers);
            let kept = answers.get(criteria);
            for (id, last_write) in changed {
                match kept.and_then(|kept| kept.get(id)) {
                    Some(answer)
                        if answer.seen_after < reading.before
                            && answer.as_of >= *last_write
                            && answer.as_of >= forgotten
                            && now.duration_since(answer.at) < Self::LIFE =>
                    {
                        if answer.held {
                            held.push(*id);
                        }
                    }
                    _ => unknown.push((*id, *last_write)),
                }
            }
        }
        if unknown.is_empty() {
            return Ok(held);
        }
        let ids: Vec<i64> = unknown.iter().map(|(id, _)| *id).collect();
        let mut asked = ask(&ids)?;
        asked.sort_unstable();
        self.keep(criteria, &unknown, &asked, reading);
        held.extend(asked);
        held.sort_unstable();
        Ok(held)
    }

    /// Keeps the answers of one reading for the `asked` ids (each with its last logged write),
    /// of which it holds `held`, except those no reading can use: a write logged after it began.
    fn keep(&self, criteria: &str, asked: &[(i64, u64)], held: &[i64], reading: Reading) {
        let usable: Vec<i64> = asked
            .iter()
            .filter(|(_, last_write)| reading.as_of >= *last_write)
            .map(|(id, _)| *id)
            .collect();
        if usable.is_empty() || usable.len() > Self::MAX_ANSWERS {
            return;
        }
        let at = Instant::now();
        let mut answers = lock(&self.answers);
        let kept: usize = answers.values().map(HashMap::len).sum();
        if kept + usable.len() > Self::MAX_ANSWERS {
            answers.clear();
        }
        let kept = answers.entry(criteria.to_owned()).or_default();
        for id in usable {
            let answer = Answer {
                held: held.binary_search(&id).is_ok(),
                as_of: reading.as_of,
                seen_after: reading.after,
                at,
            };
            // The answer that reflects more writes stays (usable by more readers).
            match kept.get(&id) {
                Some(old) if old.as_of >= answer.as_of => {}
                _ => {
                    kept.insert(id, answer);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(held: &HeldAnswers, as_of: u64) -> Reading {
        let before = held.mark();
        let after = held.mark();
        Reading {
            as_of,
            before,
            after,
        }
    }

    fn ask(answer: &[i64]) -> impl FnOnce(&[i64]) -> Result<Vec<i64>, ()> + '_ {
        |ids: &[i64]| {
            Ok(answer
                .iter()
                .copied()
                .filter(|id| ids.contains(id))
                .collect())
        }
    }

    #[test]
    fn an_answer_is_asked_once_for_the_same_writes() {
        let answers = HeldAnswers::default();
        let changed = [(1, 5), (2, 5), (3, 4)];
        let first = reading(&answers, 5);
        assert_eq!(
            answers.held("acme", &changed, 0, first, ask(&[1, 3])),
            Ok(vec![1, 3])
        );
        let second = reading(&answers, 6);
        let asked = answers.held("acme", &changed, 0, second, |_| Err(()));
        assert_eq!(asked, Ok(vec![1, 3]), "nothing asked again");
        // Another search asks for itself.
        let asked = answers.held("lee", &changed, 0, reading(&answers, 6), ask(&[2]));
        assert_eq!(asked, Ok(vec![2]));
        // Asking for a new id leaves the answers used alongside it as they were.
        let asked = answers.held("acme", &[(1, 5), (4, 6)], 0, reading(&answers, 7), ask(&[]));
        assert_eq!(asked, Ok(vec![1]));
        let asked = answers.held("acme", &[(1, 5)], 0, reading(&answers, 7), |_| Err(()));
        assert_eq!(asked, Ok(vec![1]));
    }

    #[test]
    fn an_id_written_after_its_answer_is_asked_again() {
        let answers = HeldAnswers::default();
        answers
            .held(
                "acme",
                &[(1, 5), (2, 5)],
                0,
                reading(&answers, 5),
                ask(&[1, 2]),
            )
            .unwrap();
        let mut asked = Vec::new();
        let held = answers.held(
            "acme",
            &[(1, 7), (2, 5)],
            0,
            reading(&answers, 7),
            |ids: &[i64]| {
                asked = ids.to_vec();
                Ok::<_, ()>(vec![])
            },
        );
        assert_eq!(held, Ok(vec![2]));
        assert_eq!(asked, vec![1]);
    }

    #[test]
    fn an_answer_from_a_snapshot_not_known_to_be_older_is_not_used() {
        let answers = HeldAnswers::default();
        // B's mark is taken before A's snapshot had begun: A's answer may show writes B's
        // snapshot does not.
        let b_before = answers.mark();
        let a = reading(&answers, 5);
        answers.held("acme", &[(1, 5)], 0, a, ask(&[1])).unwrap();
        let b = Reading {
            as_of: 5,
            before: b_before,
            after: answers.mark(),
        };
        assert_eq!(answers.held("acme", &[(1, 5)], 0, b, ask(&[])), Ok(vec![]));
    }

    #[test]
    fn an_answer_older_than_forgotten_writes_is_not_used() {
        let answers = HeldAnswers::default();
        answers
            .held("acme", &[(1, 5)], 0, reading(&answers, 5), ask(&[1]))
            .unwrap();
        let held = answers.held("acme", &[(1, 5)], 6, reading(&answers, 9), ask(&[]));
        assert_eq!(held, Ok(vec![]));
    }

    #[test]
    fn an_answer_is_used_for_a_few_seconds_only() {
        let answers = HeldAnswers::default();
        answers
            .held("acme", &[(1, 5)], 0, reading(&answers, 5), ask(&[1]))
            .unwrap();
        let long_ago = Instant::now().checked_sub(HeldAnswers::LIFE).unwrap();
        for answer in lock(&answers.answers).get_mut("acme").unwrap().values_mut() {
            answer.at = long_ago;
        }
        let held = answers.held("acme", &[(1, 5)], 0, reading(&answers, 6), ask(&[]));
        assert_eq!(held, Ok(vec![]), "asked again");
    }

    #[test]
    fn an_answer_no_reading_can_use_is_not_kept() {
        let answers = HeldAnswers::default();
        // Id 2 has a write logged after the reading began (numbered 6, above its 5).
        answers
            .held(
                "acme",
                &[(1, 5), (2, 6)],
                0,
                reading(&answers, 5),
                ask(&[1, 2]),
            )
            .unwrap();
        assert_eq!(lock(&answers.answers)["acme"].len(), 1);
        // A reading that reflects fewer writes does not replace a kept answer.
        answers
            .held("acme", &[(3, 4)], 0, reading(&answers, 6), ask(&[3]))
            .unwrap();
        let older = reading(&answers, 4);
        answers.keep("acme", &[(3, 4)], &[], older);
        let kept = lock(&answers.answers)["acme"][&3];
        assert!(kept.held && kept.as_of == 6);
    }

    #[test]
    fn answers_are_bounded() {
        let answers = HeldAnswers::default();
        let changed: Vec<(i64, u64)> = (0..HeldAnswers::MAX_ANSWERS as i64)
            .map(|id| (id, 1))
            .collect();
        answers
            .held("a", &changed, 0, reading(&answers, 1), ask(&[]))
            .unwrap();
        answers
            .held("b", &[(1, 1)], 0, reading(&answers, 1), ask(&[1]))
            .unwrap();
        let kept: usize = lock(&answers.answers).values().map(HashMap::len).sum();
        assert_eq!(kept, 1);
        // A batch larger than the bound is not kept at all.
        let changed: Vec<(i64, u64)> = (0..=HeldAnswers::MAX_ANSWERS as i64)
            .map(|id| (id, 1))
            .collect();
        answers
            .held("c", &changed, 0, reading(&answers, 1), ask(&[]))
            .unwrap();
        let kept: usize = lock(&answers.answers).values().map(HashMap::len).sum();
        assert_eq!(kept, 1);
    }
}
