//! On SQLite, the requests that write take turns, on connections of their own.
//!
//! SQLite has one writer at a time. A request that writes waits for the lock in SQLite's busy
//! handler, asleep on a pooled connection: with a dozen writes in flight (ticks and saves are
//! a third of a busy desk's requests), sleeping writers held most of the pool, and pages that
//! only read queued behind them; a bulk deletion's batch holding the lock stalled every page.
//! Here the writers wait in a line, holding neither a thread nor a connection, and write on a
//! few connections of their own ([`WriteTurns::WRITERS`]), so that the pages that read keep
//! the whole pool, and a writer whose turn came never waits for a reader's connection. A few,
//! not one: a write also reads (the form's customer, the session), and those parts overlap.
//! The deletion worker takes the whole line for each batch: a batch holds SQLite's lock for tens
//! of milliseconds, and a writer whose turn came meanwhile would sleep in SQLite's busy handler,
//! in steps of up to 100 ms, past the batch's end; in the line it goes as soon as the batch is
//! done. The session store's writes take one turn for each group of them ([`GroupedWrites`]).
//! Each turn's wait and hold are in the metrics. Writers in other processes (the command line)
//! still meet these at SQLite's lock. PostgreSQL locks rows, not the database: no line.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::grouped_writes::GroupedWrites;
use super::{connect_pool_with, DatabaseUrl, DbPool, SqliteOptions};

/// The writers' line of an instance and their connections (a clone is the same line).
#[derive(Debug, Clone)]
pub struct WriteTurns {
    line: Arc<Semaphore>,
    pool: DbPool,
    grouped: GroupedWrites,
}

/// Held while a request writes; the next writer goes when it is dropped.
#[must_use = "the turn ends when this is dropped"]
#[derive(Debug)]
pub struct WriteTurn {
    permit: Option<OwnedSemaphorePermit>,
    writer: Writer,
    since: Instant,
}

/// Who waits in the line: the metrics' label (`desk_write_turn_*_seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// A request's own write: a save, an addition, a deletion, a bulk submit.
    Request,
    /// A group of the session store's writes (ticks' selections, new sessions, sign-outs).
    Session,
    /// One batch of the bulk deletion worker.
    Deletion,
}

impl Writer {
    pub fn label(self) -> &'static str {
        match self {
            Writer::Request => "request",
            Writer::Session => "session",
            Writer::Deletion => "deletion",
        }
    }
}

impl WriteTurn {
    /// Blocks this thread (outside the async runtime) until `writer` has `places` of the
    /// places in `line`.
    fn blocking(line: &Arc<Semaphore>, writer: Writer, places: u32) -> Self {
        let asked = Instant::now();
        Self::began(Self::permit_blocking(line, places), writer, Some(asked))
    }

    /// [`Self::blocking`] for a group of session writes, whose waits are each write's own,
    /// from its queueing ([`GroupedWrites`] records them).
    pub(super) fn blocking_for_group(line: &Arc<Semaphore>) -> Self {
        Self::began(Self::permit_blocking(line, 1), Writer::Session, None)
    }

    fn permit_blocking(line: &Arc<Semaphore>, places: u32) -> Option<OwnedSemaphorePermit> {
        // The line is never closed. Tokio's semaphore is fair: writers asking after this one
        // wait behind it, so that a turn for every place is not starved by turns for one.
        pollster::block_on(line.clone().acquire_many_owned(places)).ok()
    }

    fn began(permit: Option<OwnedSemaphorePermit>, writer: Writer, asked: Option<Instant>) -> Self {
        let since = Instant::now();
        if let Some(asked) = asked {
            crate::telemetry::write_turn_waited(writer.label(), since - asked);
        }
        Self {
            permit,
            writer,
            since,
        }
    }
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        if self.permit.take().is_some() {
            crate::telemetry::write_turn_held(self.writer.label(), self.since.elapsed());
        }
    }
}

/// No turn came within the patience (the line is longer than SQLite would wait for its lock).
#[derive(Debug, thiserror::Error)]
#[error("other changes are being saved right now")]
pub struct NoTurn;

impl WriteTurns {
    /// Writers at once, each on its own connection.
    pub const WRITERS: u32 = 3;
    /// As long as SQLite waits for its lock (`busy_timeout`) before giving up.
    pub const PATIENCE: Duration = Duration::from_secs(5);

    /// On SQLite, the line and its connections; on PostgreSQL none (`None`).
    pub fn connect(url: &DatabaseUrl, sqlite: SqliteOptions) -> anyhow::Result<Option<Self>> {
        match url {
            DatabaseUrl::Sqlite(_) => {
                let line = Arc::new(Semaphore::new(Self::WRITERS as usize));
                let pool = connect_pool_with(url, Self::WRITERS, sqlite)?;
                let grouped = GroupedWrites::start(line.clone(), pool.clone())?;
                Ok(Some(Self {
                    line,
                    pool,
                    grouped,
                }))
            }
            DatabaseUrl::Postgres(_) => Ok(None),
        }
    }

    /// The writers' connections: take one only in a turn, and it is there at once.
    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    /// Small writes written together, in one turn and one transaction ([`GroupedWrites`]).
    pub fn grouped(&self) -> &GroupedWrites {
        &self.grouped
    }

    /// Waits for this request's turn to write, at most [`Self::PATIENCE`].
    pub async fn take(&self) -> Result<WriteTurn, NoTurn> {
        let asked = Instant::now();
        match tokio::time::timeout(Self::PATIENCE, self.line.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(WriteTurn::began(Some(permit), Writer::Request, Some(asked))),
            _ => Err(NoTurn),
        }
    }

    /// The deletion worker's turn for a batch, the whole line (no other writer of this
    /// instance meanwhile): blocks this thread, outside the async runtime, until it comes,
    /// however long the line.
    pub fn take_blocking(&self) -> WriteTurn {
        WriteTurn::blocking(&self.line, Writer::Deletion, Self::WRITERS)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A line on a new SQLite file (removed when the returned guard is dropped).
    pub(in crate::db) fn turns() -> (WriteTurns, RemovedOnDrop) {
        let path = std::env::temp_dir().join(format!(
            "desk-write-turns-{}-{}.sqlite3",
            std::process::id(),
            crate::tokens::random_token(6)
        ));
        let url = DatabaseUrl::Sqlite(path.clone());
        let turns = WriteTurns::connect(&url, SqliteOptions::default()).unwrap();
        (turns.expect("a line on SQLite"), RemovedOnDrop(path))
    }

    pub(in crate::db) struct RemovedOnDrop(std::path::PathBuf);

    impl Drop for RemovedOnDrop {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = self.0.clone().into_os_string();
                path.push(suffix);
                let _ = std::fs::remove_file(path);
            }
        }
    }

    #[tokio::test]
    async fn sqlite_writers_go_a_few_at_a_time_in_arrival_order() {
        let (turns, _dir) = turns();
        let first: Vec<WriteTurn> = futures_take(&turns, WriteTurns::WRITERS).await;
        let waiting = tokio::time::timeout(Duration::from_millis(20), turns.take()).await;
        assert!(
            waiting.is_err(),
            "one more writer waits while the line is full"
        );
        drop(first);
        let again = futures_take(&turns, WriteTurns::WRITERS).await;
        assert_eq!(again.len(), WriteTurns::WRITERS as usize);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_worker_waits_for_its_turn_too() {
        let (turns, _dir) = turns();
        let held = turns.take().await.unwrap();
        let (sent, got) = std::sync::mpsc::channel();
        let line = turns.clone();
        let worker = std::thread::spawn(move || {
            let _turn = line.take_blocking();
            sent.send(()).unwrap();
        });
        assert!(got.recv_timeout(Duration::from_millis(50)).is_err());
        drop(held);
        got.recv_timeout(Duration::from_secs(5))
            .expect("its turn comes once a writer is done");
        worker.join().unwrap();
    }

    #[tokio::test]
    async fn while_a_batch_is_deleted_no_other_writer_goes() {
        let (turns, _dir) = turns();
        let line = turns.clone();
        let batch = tokio::task::spawn_blocking(move || line.take_blocking())
            .await
            .unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(20), turns.take()).await;
        assert!(waiting.is_err(), "a request waits while a batch is deleted");
        drop(batch);
        let all = futures_take(&turns, WriteTurns::WRITERS).await;
        assert_eq!(all.len(), WriteTurns::WRITERS as usize);
    }

    #[test]
    fn no_line_on_postgres() {
        let url = DatabaseUrl::Postgres("postgres://nobody@127.0.0.1:1/none".into());
        assert!(WriteTurns::connect(&url, SqliteOptions::default())
            .unwrap()
            .is_none());
    }

    async fn futures_take(turns: &WriteTurns, n: u32) -> Vec<WriteTurn> {
        let mut taken = Vec::new();
        for _ in 0..n {
            taken.push(turns.take().await.unwrap());
        }
        taken
    }
}
