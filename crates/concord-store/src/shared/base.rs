// The store implementation shared by the SQLite and PostgreSQL backends: imports, the
// `SqlStore` type and the parts of group commit both writers use.
//
// `base.rs`, `rows.rs` and `store_impl.rs` are `include!`d by `sqlite.rs` and `postgres.rs`,
// each of which first defines `Db`, `DbConn`, `DbPool`, `DbRow`, `BACKEND`, `begin_snapshot`,
// its writer (`Job`, `SqlStore::write`) and the `write_op!` macro. Reads are written once, in
// SQL both dialects accept (`$n` parameters, `RETURNING`, `ON CONFLICT`). Writes run on each
// backend's own writer: PostgreSQL through sqlx (`sqlx_writer.rs`, `sqlx_writes.rs`), SQLite
// through rusqlite on a dedicated thread (`sqlite_writer.rs`), with the same statements; the
// behavioural store suite runs against both.

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
use sqlx::{Connection, QueryBuilder, Row};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{broadcast, mpsc, oneshot};

/// `format!` for SQL assembled from this file's own constant column lists (never user input).
macro_rules! sqlf {
    ($($arg:tt)*) => {
        sqlx::AssertSqlSafe(format!($($arg)*))
    };
}

/// Completes a job once its batch has committed (or failed to).
type Finisher = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

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
    /// The suite of each channel's message chain: 0 standard, 1 GM (set once at startup).
    chain_suite: std::sync::atomic::AtomicU8,
    /// Set when the store seals values at rest (`at_rest.rs`).
    keyring: std::sync::OnceLock<Arc<concord_core::at_rest::Keyring>>,
}

/// What a writer loop needs: its queue, where to publish, and whom to tell when it stops.
struct WriterParts {
    jobs: mpsc::Receiver<Job>,
    committed: broadcast::Sender<CommittedBatch>,
    done: oneshot::Sender<()>,
}

impl SqlStore {
    fn with_writer(read: DbPool, pools: Vec<DbPool>) -> (Self, WriterParts) {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let (committed, _) = broadcast::channel(4096);
        let (done_tx, done_rx) = oneshot::channel();
        let store = Self {
            pools,
            read,
            jobs: Mutex::new(Some(tx)),
            writer_done: Mutex::new(Some(done_rx)),
            committed: committed.clone(),
            chain_suite: std::sync::atomic::AtomicU8::new(0),
            keyring: std::sync::OnceLock::new(),
        };
        (store, WriterParts { jobs: rx, committed, done: done_tx })
    }

    fn chain_suite(&self) -> concord_core::crypto::Suite {
        match self.chain_suite.load(std::sync::atomic::Ordering::Relaxed) {
            1 => concord_core::crypto::Suite::Gm,
            _ => concord_core::crypto::Suite::Standard,
        }
    }

    /// Queues a job and waits for its answer.
    async fn submit<T>(&self, job: Job, answer: oneshot::Receiver<Result<T, StoreError>>) -> Result<T, StoreError> {
        let sender = self.jobs.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let sender = sender.ok_or_else(|| StoreError::Unavailable("the store is shutting down".into()))?;
        sender.send(job).await.map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Unavailable("the write was abandoned".into()))?
    }
}

/// After a batch: answer every caller, then publish its events in log order.
fn settle_batch(
    result: Result<(), String>,
    finishers: Vec<Finisher>,
    events: Vec<CommittedEvent>,
    committed: &broadcast::Sender<CommittedBatch>,
    started: Instant,
    size: usize,
) {
    metrics::histogram!("concord_store_commit_seconds", "backend" => BACKEND).record(started.elapsed().as_secs_f64());
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
