//! Message and file search in the server: the index in `data_dir/search`, the indexer task that
//! follows the event log into it ([`indexer`]; file texts extracted beside it, [`file_text`]),
//! the online rebuild ([`reindex`]), bulk import of JSON Lines ([`import`]) and the commands
//! (`concord search reindex`, `concord import messages`, in [`cli`]).
//!
//! [`Search`] is what handlers get: the open index (if search is enabled) and the log position
//! the indexer has reached. The library (`concord-search`) blocks while it works, so searches
//! run on `spawn_blocking` and commits on the indexer's blocking calls.

pub mod cli;
pub mod docs;
pub mod file_text;
pub mod import;
pub mod indexer;
mod reindex;

use crate::config::Config;
use crate::files::Files;
use concord_core::Store;
use concord_proto::{ReindexState, ReindexStatus};
use concord_search::{SearchIndex, SearchIndexOptions};
use file_text::FileTexts;
use indexer::Batching;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The search index and its indexer, shared by handlers. Cloning shares.
#[derive(Clone)]
pub struct Search {
    inner: Arc<Inner>,
}

struct Inner {
    index: RwLock<Option<Arc<SearchIndex>>>,
    reached: watch::Receiver<i64>,
    reached_tx: Arc<watch::Sender<i64>>,
    /// The running follower: its stop switch and task.
    follower: Mutex<Option<(watch::Sender<bool>, JoinHandle<()>)>>,
    /// What the follower and an online reindex need (absent when search is off).
    context: Option<Context>,
    /// Held while an online reindex runs: one at a time.
    reindexing: Arc<tokio::sync::Mutex<()>>,
    /// The running reindex, aborted on shutdown (a rebuild of millions of messages must not
    /// hold it up; what it leaves behind is a `.new` directory the next one removes).
    reindex_task: Mutex<Option<JoinHandle<()>>>,
    status: Mutex<ReindexStatus>,
}

#[derive(Clone)]
struct Context {
    store: Arc<dyn Store>,
    texts: FileTexts,
    dir: PathBuf,
    options: SearchIndexOptions,
    batching: Batching,
}

/// Options for the server's index: a modest heap, background merges on.
pub fn server_options(config: &Config) -> SearchIndexOptions {
    SearchIndexOptions {
        writer_heap_bytes: config.search.writer_heap_mib * 1024 * 1024,
        ..SearchIndexOptions::default()
    }
}

/// Opens the index at `dir`, retrying for a few seconds while a previous writer (a server
/// shutting down in the same process, say) still holds its lock.
pub async fn open_index(dir: &Path, options: SearchIndexOptions) -> Result<SearchIndex, String> {
    let mut tries = 0;
    loop {
        let dir_owned = dir.to_path_buf();
        let opts = options.clone();
        let opened = tokio::task::spawn_blocking(move || SearchIndex::open(&dir_owned, &opts))
            .await
            .map_err(|e| e.to_string())?;
        match opened {
            Ok(index) => return Ok(index),
            Err(concord_search::SearchError::IncompatibleIndex { .. }) => {
                // Built by another version: set it aside and start afresh (the indexer rebuilds
                // from the log or the messages).
                let aside = dir.with_extension(format!("old-{}", std::process::id()));
                tracing::warn!(dir = %dir.display(), "search index has an old schema; rebuilding");
                std::fs::rename(dir, &aside).map_err(|e| e.to_string())?;
                let _ = std::fs::remove_dir_all(&aside);
            }
            Err(error) if tries < 50 => {
                tries += 1;
                tracing::debug!(%error, "search index busy; retrying");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => {
                return Err(format!(
                    "cannot open the search index at {}: {error}",
                    dir.display()
                ));
            }
        }
    }
}

impl Search {
    /// Search switched off: every search answers 503.
    pub fn disabled() -> Self {
        let (reached_tx, reached) = watch::channel(0);
        Search {
            inner: Arc::new(Inner {
                index: RwLock::new(None),
                reached,
                reached_tx: Arc::new(reached_tx),
                follower: Mutex::new(None),
                context: None,
                reindexing: Arc::new(tokio::sync::Mutex::new(())),
                reindex_task: Mutex::new(None),
                status: Mutex::new(ReindexStatus::default()),
            }),
        }
    }

    /// Opens the index (if `[search] enabled`) and starts the indexer on `store`'s log, with
    /// file texts read from `files`.
    pub async fn start(
        config: &Config,
        store: Arc<dyn Store>,
        files: Arc<Files>,
    ) -> Result<Self, String> {
        if !config.search.enabled {
            return Ok(Self::disabled());
        }
        let context = Context {
            store,
            texts: FileTexts::new(
                files,
                config.search.file_text_max_chars,
                config.search.file_text_workers,
            ),
            dir: config.search.index_dir(&config.data_dir),
            options: server_options(config),
            batching: Batching {
                commit_every: config.search.commit_every,
                commit_interval: Duration::from_millis(config.search.commit_interval_ms),
            },
        };
        let index = Arc::new(open_index(&context.dir, context.options.clone()).await?);
        let (reached_tx, reached) = watch::channel(index.indexed_position().unwrap_or(0));
        let search = Search {
            inner: Arc::new(Inner {
                index: RwLock::new(Some(index.clone())),
                reached,
                reached_tx: Arc::new(reached_tx),
                follower: Mutex::new(None),
                context: Some(context),
                reindexing: Arc::new(tokio::sync::Mutex::new(())),
                reindex_task: Mutex::new(None),
                status: Mutex::new(ReindexStatus::default()),
            }),
        };
        search.start_follower(index);
        Ok(search)
    }

    fn start_follower(&self, index: Arc<SearchIndex>) {
        let Some(context) = &self.inner.context else {
            return;
        };
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(indexer::follow(
            context.store.clone(),
            index,
            Some(context.texts.clone()),
            context.batching,
            stop_rx,
            self.inner.reached_tx.clone(),
        ));
        *lock(&self.inner.follower) = Some((stop, task));
    }

    /// Stops the follower after it commits what is pending.
    async fn stop_follower(&self) {
        let follower = lock(&self.inner.follower).take();
        if let Some((stop, task)) = follower {
            let _ = stop.send(true);
            if tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .is_err()
            {
                tracing::warn!("the search indexer did not stop within 10 s");
            }
        }
    }

    /// The open index, if search is enabled.
    pub fn index(&self) -> Option<Arc<SearchIndex>> {
        self.inner
            .index
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits until the indexer has applied the log up to `position` (or `timeout` passes);
    /// returns whether it did.
    pub async fn wait_for(&self, position: i64, timeout: Duration) -> bool {
        if self.index().is_none() {
            return false;
        }
        let mut reached = self.inner.reached.clone();
        tokio::time::timeout(timeout, reached.wait_for(|p| *p >= position))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Where the online reindex is.
    pub fn reindex_status(&self) -> ReindexStatus {
        lock(&self.inner.status).clone()
    }

    /// Starts an online reindex on a task of its own (see [`reindex::run`]). Fails when search
    /// is off or a reindex is already running.
    pub fn start_reindex(&self, now: jiff::Timestamp) -> Result<ReindexStatus, ReindexRefused> {
        if self.inner.context.is_none() || self.index().is_none() {
            return Err(ReindexRefused::Disabled);
        }
        let guard = self
            .inner
            .reindexing
            .clone()
            .try_lock_owned()
            .map_err(|_| ReindexRefused::Running)?;
        let status = ReindexStatus {
            state: ReindexState::Running,
            started_at: Some(now),
            ..ReindexStatus::default()
        };
        *lock(&self.inner.status) = status.clone();
        let search = self.clone();
        let task = tokio::spawn(async move {
            let _guard = guard;
            let outcome = reindex::run(&search).await;
            let mut status = lock(&search.inner.status);
            status.finished_at = Some(jiff::Timestamp::now());
            match outcome {
                Ok((documents, position)) => {
                    status.state = ReindexState::Done;
                    status.documents = Some(documents);
                    status.position = Some(position);
                }
                Err(error) => {
                    tracing::error!(%error, "online search reindex failed");
                    status.state = ReindexState::Failed;
                    status.error = Some(error);
                }
            }
        });
        *lock(&self.inner.reindex_task) = Some(task);
        Ok(status)
    }

    /// Stops the indexer after it commits what is pending, and closes the index (releasing its
    /// directory lock). A running reindex is abandoned first.
    pub async fn shutdown(&self) {
        let reindex = lock(&self.inner.reindex_task).take();
        if let Some(task) = reindex {
            task.abort();
            let _ = task.await;
        }
        let _no_reindex = self.inner.reindexing.lock().await;
        self.stop_follower().await;
        let index = self
            .inner
            .index
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(index) = index {
            // The writer's threads join when the last holder drops it; do that off the executor.
            let _ = tokio::task::spawn_blocking(move || drop(index)).await;
        }
    }
}

/// Why an online reindex could not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReindexRefused {
    Disabled,
    Running,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
