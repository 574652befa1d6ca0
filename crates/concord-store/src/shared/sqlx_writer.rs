// The sqlx writer (PostgreSQL): one task folds queued jobs into one transaction, each job under
// its own savepoint. Included by `postgres.rs` after `base.rs`.

use sqlx::Acquire;
use std::future::Future;
use std::pin::Pin;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// One write, run inside the writer's transaction under its own savepoint.
type Job = Box<dyn for<'c> FnOnce(&'c mut DbConn, &'c mut Vec<CommittedEvent>) -> BoxFuture<'c, Option<Finisher>> + Send>;

/// `write_op!(store, op_name(args...))`: run `op_name(conn, events, args...)` on the writer.
macro_rules! write_op {
    ($store:expr, $op:ident($($arg:expr),* $(,)?)) => {
        $store.write(move |c, ev| Box::pin($op(c, ev, $($arg),*))).await
    };
}

impl SqlStore {
    fn start(read: DbPool, write: DbPool) -> Self {
        let (store, parts) = Self::with_writer(read.clone(), vec![read, write.clone()]);
        spawn_writer(async move {
            run_writer(write, parts.jobs, parts.committed).await;
            let _ = parts.done.send(());
        });
        store
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
        self.submit(job, answer).await
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
        settle_batch(result.map_err(|e| e.to_string()), finishers, events, &committed, started, size);
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
