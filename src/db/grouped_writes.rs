//! On SQLite, the session store's small writes are written together: one thread takes every
//! write queued while it wrote the last group, and writes them in one transaction, in one turn
//! of the writers' line.
//!
//! A busy desk's most frequent write is a tick's selection, a single-row update that takes
//! SQLite microseconds. One turn, one hand-off to a thread and one commit each made them wait in
//! the line behind one another (and the saves behind them) far longer than they write. A
//! write is answered only once its group committed; a write still queued after its patience is
//! not written at all ([`NoTurn`]), as when its turn does not come.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use diesel::{Connection, QueryResult};
use tokio::sync::{oneshot, Semaphore};

use super::write_turns::{WriteTurn, Writer};
use super::{write_transaction, DbConn, DbPool, NoTurn};

/// The queue of the instance's grouped writes (a clone is the same queue).
#[derive(Debug, Clone)]
pub struct GroupedWrites {
    queue: mpsc::Sender<Box<dyn Queued>>,
}

/// At most this many writes in one transaction, so that a flood does not hold the lock long.
const GROUP_MOST: usize = 200;

impl GroupedWrites {
    /// Starts the thread that writes the groups, each in a turn of the writers' `line`, on a
    /// connection of theirs (`pool`). It ends when the last clone of the queue is dropped.
    pub(super) fn start(line: Arc<Semaphore>, pool: DbPool) -> std::io::Result<Self> {
        let (queue, queued) = mpsc::channel();
        std::thread::Builder::new()
            .name("desk-grouped-writes".into())
            .spawn(move || write_groups(&line, &pool, &queued))?;
        Ok(Self { queue })
    }

    /// Queues `work` and waits for its group's commit. `Err(NoTurn)` if it was still queued
    /// after `patience` (then it was not written).
    pub async fn write<T: Send + 'static>(
        &self,
        patience: Duration,
        work: impl FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
    ) -> Result<anyhow::Result<T>, NoTurn> {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Job {
            deadline: Instant::now() + patience,
            work: Some(work),
            written: None,
            reply,
        });
        if self.queue.send(job).is_err() {
            return Ok(Err(anyhow::anyhow!("the grouped writes' thread stopped")));
        }
        answer.await.unwrap_or_else(|_| {
            Ok(Err(anyhow::anyhow!(
                "the grouped writes' thread gave no answer"
            )))
        })
    }
}

/// A queued write, whatever its result's type.
trait Queued: Send {
    fn deadline(&self) -> Instant;
    /// Writes, in the group's transaction, and keeps the result until the group's end.
    fn write(&mut self, conn: &mut DbConn);
    /// Answers the waiting request: its result once `committed`, or [`NoTurn`] if never written.
    fn answer(self: Box<Self>, committed: Result<(), &str>);
}

impl std::fmt::Debug for dyn Queued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queued")
    }
}

struct Job<T, F> {
    deadline: Instant,
    work: Option<F>,
    written: Option<QueryResult<T>>,
    reply: oneshot::Sender<Result<anyhow::Result<T>, NoTurn>>,
}

impl<T, F> Queued for Job<T, F>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConn) -> QueryResult<T> + Send + 'static,
{
    fn deadline(&self) -> Instant {
        self.deadline
    }

    fn write(&mut self, conn: &mut DbConn) {
        if let Some(work) = self.work.take() {
            // In a savepoint of its own: a write that fails is undone alone, and one that cannot
            // be undone alone (SQLite ended the transaction) fails the group's commit.
            self.written = Some(conn.transaction(work));
        }
    }

    fn answer(self: Box<Self>, committed: Result<(), &str>) {
        let answer = match (self.written, committed) {
            (None, _) => Err(NoTurn),
            (Some(Err(error)), _) => Ok(Err(anyhow::anyhow!("session store: {error}"))),
            (Some(Ok(_)), Err(error)) => Ok(Err(anyhow::anyhow!("session store: {error}"))),
            (Some(Ok(value)), Ok(())) => Ok(Ok(value)),
        };
        // The request may be gone (its client left): its write stands, nobody to tell.
        let _ = self.reply.send(answer);
    }
}

/// The thread's loop: a group is the first write waited for and those queued meanwhile.
fn write_groups(line: &Arc<Semaphore>, pool: &DbPool, queued: &mpsc::Receiver<Box<dyn Queued>>) {
    while let Ok(first) = queued.recv() {
        let mut group = vec![first];
        group.extend(queued.try_iter().take(GROUP_MOST - 1));
        let turn = WriteTurn::blocking(line, Writer::Session);
        let now = Instant::now();
        let (mut due, late): (Vec<_>, Vec<_>) =
            group.into_iter().partition(|j| j.deadline() >= now);
        for job in late {
            job.answer(Ok(()));
        }
        if due.is_empty() {
            continue;
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

fn write_group(pool: &DbPool, group: &mut [Box<dyn Queued>]) -> Result<(), String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    write_transaction(&mut conn, |conn| {
        for job in group.iter_mut() {
            job.write(conn);
        }
        Ok::<_, diesel::result::Error>(())
    })
    .map_err(|e| e.to_string())
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

    /// Holds every turn of the line until dropped, so that writes queue up meanwhile.
    fn hold_the_line(turns: &WriteTurns) -> Vec<WriteTurn> {
        (0..WriteTurns::WRITERS)
            .map(|_| turns.take_blocking())
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_queued_together_are_answered_each_after_the_commit() {
        let (turns, _file) = turns();
        with_table(&turns);
        let held = hold_the_line(&turns);
        let mut writes = tokio::task::JoinSet::new();
        for body in ["first", "second", "first", "third"] {
            let turns = turns.clone();
            writes.spawn(async move {
                let written = turns
                    .grouped()
                    .write(Duration::from_secs(5), insert(body))
                    .await
                    .expect("its turn came");
                if written.is_ok() {
                    assert!(bodies(&turns).contains(&body.to_owned()), "committed first");
                }
                (body, written.is_ok())
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            bodies(&turns).is_empty(),
            "nothing is written without a turn"
        );
        drop(held);
        let mut answers = Vec::new();
        while let Some(answer) = writes.join_next().await {
            answers.push(answer.unwrap());
        }
        answers.sort();
        // The second "first" breaks the unique constraint: that write alone fails.
        assert_eq!(
            answers,
            [
                ("first", false),
                ("first", true),
                ("second", true),
                ("third", true)
            ]
        );
        let mut kept = bodies(&turns);
        kept.sort();
        assert_eq!(kept, ["first", "second", "third"]);
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
