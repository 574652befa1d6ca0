// The store implementation shared by the SQLite and PostgreSQL backends: imports, the
// `SqlStore` type and its group-commit writer.
//
// The files in `shared/` are `include!`d, in order, by `sqlite.rs` and `postgres.rs`, each of
// which first defines `Db`, `DbConn`, `DbPool`, `DbRow`, `BACKEND`, `lock_log_for_append` and
// `begin_snapshot`. The SQL is written once in the dialect both accept (`$n` parameters,
// `RETURNING`, `ON CONFLICT`), so the two backends cannot drift apart.

use async_trait::async_trait;
use concord_core::store::{
    Audience, ChannelUpdate, CommittedBatch, CommittedEvent, Membership, NewChannel, NewMessage, NewSession,
    NewUser, SendOutcome, SessionRecord, Store, StoreError, UserRecord,
};
use concord_proto::{
    Channel, ChannelId, ChannelKind, Event, Member, MemberRole, Message, MessageId, MessageVersion, MyChannel,
    Position, Reaction, StoredEvent, User, UserId,
};
use jiff::Timestamp;
use sqlx::{Acquire, Connection, QueryBuilder, Row};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{broadcast, mpsc, oneshot};

/// `format!` for SQL assembled from this file's own constant column lists (never user input).
macro_rules! sqlf {
    ($($arg:tt)*) => {
        sqlx::AssertSqlSafe(format!($($arg)*))
    };
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// Completes a job once its batch has committed (or failed to).
type Finisher = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// One write, run inside the writer's transaction under its own savepoint.
type Job = Box<dyn for<'c> FnOnce(&'c mut DbConn, &'c mut Vec<CommittedEvent>) -> BoxFuture<'c, Option<Finisher>> + Send>;

/// Most jobs folded into one transaction.
const MAX_BATCH: usize = 1024;
/// Jobs waiting for the writer before senders wait too (backpressure).
const QUEUE_DEPTH: usize = 16 * 1024;

/// A store on one database. Reads go to a pool; writes are queued to a single writer task
/// that folds whatever is waiting into one transaction (group commit), so every
/// acknowledged write is durable while throughput grows with load.
pub struct SqlStore {
    read: DbPool,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// Fires when the writer has drained its queue and stopped.
    writer_done: Mutex<Option<oneshot::Receiver<()>>>,
    committed: broadcast::Sender<CommittedBatch>,
    pools: Vec<DbPool>,
}

impl SqlStore {
    fn start(read: DbPool, write: DbPool) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let (committed, _) = broadcast::channel(4096);
        let (done_tx, done_rx) = oneshot::channel();
        let writer = run_writer(write.clone(), rx, committed.clone());
        spawn_writer(async move {
            writer.await;
            let _ = done_tx.send(());
        });
        Self {
            pools: vec![read.clone(), write],
            read,
            jobs: Mutex::new(Some(tx)),
            writer_done: Mutex::new(Some(done_rx)),
            committed,
        }
    }

    /// Queues `f` for the writer and waits until its batch has committed.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut DbConn, &'c mut Vec<CommittedEvent>) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |conn, events| {
            Box::pin(async move {
                match f(conn, events).await {
                    Ok(value) => Some(Box::new(move |commit: Result<(), StoreError>| {
                        let _ = reply.send(commit.map(|()| value));
                    }) as Finisher),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        None
                    }
                }
            })
        });
        let sender = self.jobs.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let sender = sender.ok_or_else(|| StoreError::Unavailable("the store is shutting down".into()))?;
        sender.send(job).await.map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Unavailable("the write was abandoned".into()))?
    }
}

async fn run_writer(pool: DbPool, mut jobs: mpsc::Receiver<Job>, committed: broadcast::Sender<CommittedBatch>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let size = batch.len();
        let mut events = Vec::new();
        let mut finishers = Vec::with_capacity(size);
        let result = commit_batch(&pool, batch.drain(..), &mut events, &mut finishers).await;
        metrics::histogram!("concord_store_commit_seconds", "backend" => BACKEND)
            .record(started.elapsed().as_secs_f64());
        metrics::histogram!("concord_store_batch_size", "backend" => BACKEND).record(size as f64);
        match result {
            Ok(()) => {
                for finish in finishers {
                    finish(Ok(()));
                }
                if !events.is_empty() {
                    let _ = committed.send(Arc::new(events));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, backend = BACKEND, "group commit failed");
                let err = StoreError::Unavailable(format!("commit failed: {e}"));
                for finish in finishers {
                    finish(Err(err.clone()));
                }
            }
        }
    }
}

async fn commit_batch(
    pool: &DbPool,
    batch: impl Iterator<Item = Job>,
    events: &mut Vec<CommittedEvent>,
    finishers: &mut Vec<Finisher>,
) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    lock_log_for_append(&mut tx).await?;
    for job in batch {
        let mark = events.len();
        let mut savepoint = tx.begin().await?;
        match job(&mut savepoint, events).await {
            Some(finish) => {
                savepoint.commit().await?;
                finishers.push(finish);
            }
            None => {
                savepoint.rollback().await?;
                events.truncate(mark);
            }
        }
    }
    tx.commit().await
}
