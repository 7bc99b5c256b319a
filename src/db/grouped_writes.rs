//! On SQLite, the session store's small writes are written together: one thread takes every
//! write queued while it wrote the last group, and writes them in one transaction, in one turn
//! of the writers' line.
//!
//! A busy desk's most frequent write is a tick's selection, a single-row update that takes
//! SQLite microseconds. One turn, one hand-off to a thread and one commit each made them wait in
//! the line behind one another (and the saves behind them) far longer than they write. A group
//! is written whole or not at all, and each write is answered once its group committed or
//! failed. A write not begun within its patience, or whose request is gone (its client left),
//! is not written at all ([`NoTurn`], as when a turn does not come); one begun is always
//! answered, and its request waits for it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use diesel::QueryResult;
use tokio::sync::{oneshot, Semaphore};

use super::write_turns::{WriteTurn, Writer};
use super::{write_transaction, DbConn, DbPool, NoTurn};

/// The queue of the instance's grouped writes (a clone is the same queue).
#[derive(Debug, Clone)]
pub struct GroupedWrites {
    queue: mpsc::SyncSender<Box<dyn Queued>>,
}

/// At most this many writes in one transaction, so that a flood does not hold the lock long.
const GROUP_MOST: usize = 200;
/// At most this many writes queued (each is a request waiting for it); more are refused with
/// [`NoTurn`] rather than kept in memory.
const QUEUE_MOST: usize = 10_000;

/// A queued write's state, decided once by whichever side comes first: the writer begins it,
/// or its request gives up on it.
const QUEUED: u8 = 0;
const BEGUN: u8 = 1;
const GIVEN_UP: u8 = 2;

impl GroupedWrites {
    /// Starts the thread that writes the groups, each in a turn of the writers' `line`, on a
    /// connection of theirs (`pool`). It ends when the last clone of the queue is dropped.
    pub(super) fn start(line: Arc<Semaphore>, pool: DbPool) -> std::io::Result<Self> {
        let (queue, queued) = mpsc::sync_channel(QUEUE_MOST);
        std::thread::Builder::new()
            .name("desk-grouped-writes".into())
            .spawn(move || write_groups(&line, &pool, &queued))?;
        Ok(Self { queue })
    }

    /// Queues `work` and waits for its group's end. `Err(NoTurn)` if it was not begun within
    /// `patience` (then it is not written).
    pub async fn write<T: Send + 'static>(
        &self,
        patience: Duration,
        work: impl FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
    ) -> Result<anyhow::Result<T>, NoTurn> {
        let (reply, mut answer) = oneshot::channel();
        let queued_at = Instant::now();
        let deadline = queued_at + patience;
        let claim = Claim(Arc::new(AtomicU8::new(QUEUED)));
        let job = Box::new(Job {
            deadline,
            queued_at,
            state: claim.0.clone(),
            work: Some(work),
            written: None,
            reply,
        });
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(_)) => return Err(NoTurn),
            Err(mpsc::TrySendError::Disconnected(_)) => {
                return Ok(Err(anyhow::anyhow!("the grouped writes' thread stopped")))
            }
        }
        let stopped = || {
            Ok(Err(anyhow::anyhow!(
                "the grouped writes' thread gave no answer"
            )))
        };
        match tokio::time::timeout_at(deadline.into(), &mut answer).await {
            Ok(answered) => answered.unwrap_or_else(|_| stopped()),
            // Not begun yet: given up. Begun: its group is under way, and answers.
            Err(_) if claim.give_up() => Err(NoTurn),
            Err(_) => answer.await.unwrap_or_else(|_| stopped()),
        }
    }
}

/// The request's hold on its queued write: dropped before the write began (the request gone),
/// it gives the write up, so that a write nobody waits for is not made later.
struct Claim(Arc<AtomicU8>);

impl Claim {
    /// Whether the write was given up now (false: it had begun).
    fn give_up(&self) -> bool {
        self.0
            .compare_exchange(QUEUED, GIVEN_UP, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.give_up();
    }
}

/// A queued write, whatever its result's type.
trait Queued: Send {
    /// Begins it, unless its request gave it up or its patience ran out.
    fn begin(&self, now: Instant) -> bool;
    fn queued_at(&self) -> Instant;
    /// Writes, in the group's transaction, and keeps the result until the group's end; its
    /// error's text if it failed.
    fn write(&mut self, conn: &mut DbConn) -> Result<(), String>;
    /// Answers the waiting request: its result once `committed`, the group's error, or
    /// [`NoTurn`] if never begun.
    fn answer(self: Box<Self>, committed: Result<(), &str>);
}

struct Job<T, F> {
    deadline: Instant,
    queued_at: Instant,
    state: Arc<AtomicU8>,
    work: Option<F>,
    written: Option<QueryResult<T>>,
    reply: oneshot::Sender<Result<anyhow::Result<T>, NoTurn>>,
}

impl<T, F> Queued for Job<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
{
    fn begin(&self, now: Instant) -> bool {
        now <= self.deadline
            && self
                .state
                .compare_exchange(QUEUED, BEGUN, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    fn queued_at(&self) -> Instant {
        self.queued_at
    }

    fn write(&mut self, conn: &mut DbConn) -> Result<(), String> {
        let Some(work) = self.work.take() else {
            return Ok(());
        };
        let written = work(conn);
        let outcome = written.as_ref().map(|_| ()).map_err(|e| e.to_string());
        self.written = Some(written);
        outcome
    }

    fn answer(self: Box<Self>, committed: Result<(), &str>) {
        let answer = match (self.written, committed) {
            (Some(Err(error)), _) => Ok(Err(anyhow::anyhow!("session store: {error}"))),
            (_, Err(error)) => Ok(Err(anyhow::anyhow!("session store: {error}"))),
            (Some(Ok(value)), Ok(())) => Ok(Ok(value)),
            (None, Ok(())) => Err(NoTurn),
        };
        // The request may be gone (its client left): its write stands, nobody to tell.
        let _ = self.reply.send(answer);
    }
}

/// The thread's loop: a group is the first write waited for and those queued until its turn.
fn write_groups(line: &Arc<Semaphore>, pool: &DbPool, queued: &mpsc::Receiver<Box<dyn Queued>>) {
    while let Ok(first) = queued.recv() {
        let mut group = vec![first];
        let turn = WriteTurn::blocking_for_group(line);
        // Those queued while the turn was awaited go with this group, not after it.
        group.extend(queued.try_iter().take(GROUP_MOST - 1));
        let now = Instant::now();
        let (mut due, not_begun): (Vec<_>, Vec<_>) =
            group.into_iter().partition(|job| job.begin(now));
        for job in not_begun {
            job.answer(Ok(()));
        }
        if due.is_empty() {
            continue;
        }
        for job in &due {
            crate::telemetry::write_turn_waited(Writer::Session.label(), now - job.queued_at());
        }
        let committed = catch_unwind(AssertUnwindSafe(|| write_group(pool, &mut due)))
            .unwrap_or_else(|_| Err("a grouped write panicked".to_owned()));
        drop(turn);
        if let Err(error) = &committed {
            tracing::error!(%error, writes = due.len(), "grouped session writes failed");
        }
        for job in due {
            job.answer(committed.as_ref().map(|_| ()).map_err(String::as_str));
        }
    }
}

/// Writes a group whole, or not at all: the first write that fails ends it (SQLite may have
/// ended the transaction itself on some errors; nothing is written after that on its own), and
/// its error is the group's.
fn write_group(pool: &DbPool, group: &mut [Box<dyn Queued>]) -> Result<(), String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let mut failed = None;
    let written = write_transaction(&mut conn, |conn| {
        for job in group.iter_mut() {
            if let Err(error) = job.write(conn) {
                failed = Some(error);
                return Err(diesel::result::Error::RollbackTransaction);
            }
        }
        Ok(())
    });
    match (written, failed) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(error)) => Err(error),
        (Err(error), None) => Err(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use super::*;
    use crate::db::write_turns::tests::turns;
    use crate::db::WriteTurns;

    diesel::table! {
        notes (id) {
            id -> BigInt,
            body -> Text,
        }
    }

    fn with_table(turns: &WriteTurns) {
        let mut conn = turns.pool().get().unwrap();
        conn.batch_execute(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)",
        )
        .unwrap();
    }

    fn insert(body: &'static str) -> impl FnOnce(&mut DbConn) -> QueryResult<usize> + Send {
        move |conn| {
            diesel::insert_into(notes::table)
                .values(notes::body.eq(body))
                .execute(conn)
        }
    }

    fn bodies(turns: &WriteTurns) -> Vec<String> {
        let mut conn = turns.pool().get().unwrap();
        notes::table
            .select(notes::body)
            .order(notes::id)
            .load(&mut conn)
            .unwrap()
    }

    /// Holds the whole line until dropped (as a deletion's batch does), so that writes queue
    /// up meanwhile.
    fn hold_the_line(turns: &WriteTurns) -> WriteTurn {
        turns.take_blocking()
    }

    /// Queues a write of each body while the line is held, then frees the line: they are one
    /// group. Returns whether each was answered written, by body, in order.
    async fn one_group(turns: &WriteTurns, bodies_: &[&'static str]) -> Vec<(&'static str, bool)> {
        let held = hold_the_line(turns);
        let mut writes = tokio::task::JoinSet::new();
        for &body in bodies_ {
            let turns = turns.clone();
            writes.spawn(async move {
                let written = turns
                    .grouped()
                    .write(Duration::from_secs(5), insert(body))
                    .await
                    .expect("begun within its patience");
                if written.is_ok() {
                    assert!(bodies(&turns).contains(&body.to_owned()), "committed first");
                }
                (body, written.is_ok())
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            bodies(turns).is_empty(),
            "nothing is written without a turn"
        );
        drop(held);
        let mut answers = Vec::new();
        while let Some(answer) = writes.join_next().await {
            answers.push(answer.unwrap());
        }
        answers.sort();
        answers
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_queued_together_are_answered_each_after_the_commit() {
        let (turns, _file) = turns();
        with_table(&turns);
        let answers = one_group(&turns, &["first", "second", "third"]).await;
        assert_eq!(
            answers,
            [("first", true), ("second", true), ("third", true)]
        );
        let mut kept = bodies(&turns);
        kept.sort();
        assert_eq!(kept, ["first", "second", "third"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_with_a_failing_write_is_written_not_at_all() {
        let (turns, _file) = turns();
        with_table(&turns);
        // The second "first" breaks the unique constraint: none of the group is kept, and
        // none is answered as written.
        let answers = one_group(&turns, &["first", "second", "first"]).await;
        assert_eq!(
            answers,
            [("first", false), ("first", false), ("second", false)]
        );
        assert!(bodies(&turns).is_empty());
        // The line goes on.
        let written = turns
            .grouped()
            .write(Duration::from_secs(5), insert("after"))
            .await;
        assert_eq!(written.unwrap().unwrap(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_whose_request_is_gone_is_not_written() {
        let (turns, _file) = turns();
        with_table(&turns);
        let held = hold_the_line(&turns);
        let grouped = turns.grouped().clone();
        let gone =
            tokio::spawn(
                async move { grouped.write(Duration::from_secs(5), insert("gone")).await },
            );
        tokio::time::sleep(Duration::from_millis(50)).await;
        gone.abort();
        let _ = gone.await;
        drop(held);
        let written = turns
            .grouped()
            .write(Duration::from_secs(5), insert("here"))
            .await;
        assert_eq!(written.unwrap().unwrap(), 1);
        assert_eq!(
            bodies(&turns),
            ["here"],
            "the client left before its write began"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_still_queued_after_its_patience_is_not_written() {
        let (turns, _file) = turns();
        with_table(&turns);
        let held = hold_the_line(&turns);
        let grouped = turns.grouped().clone();
        let late = tokio::spawn(async move {
            grouped
                .write(Duration::from_millis(50), insert("late"))
                .await
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(held);
        let answer = late.await.unwrap();
        assert!(
            matches!(answer, Err(NoTurn)),
            "told that its turn did not come"
        );
        let written = turns
            .grouped()
            .write(Duration::from_secs(5), insert("on time"))
            .await;
        assert_eq!(written.unwrap().unwrap(), 1);
        assert_eq!(bodies(&turns), ["on time"], "the late write was dropped");
    }
}
