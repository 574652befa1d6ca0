//! Message search in the server: the index in `data_dir/search`, the indexer task that follows
//! the event log into it ([`indexer`]), bulk import of JSON Lines ([`import`]) and the offline
//! commands (`concord search reindex`, `concord import messages`, in [`cli`]).
//!
//! [`Search`] is what handlers get: the open index (if search is enabled) and the log position
//! the indexer has reached. The library (`concord-search`) blocks while it works, so searches
//! run on `spawn_blocking` and commits on the indexer's blocking calls.

pub mod cli;
pub mod docs;
pub mod import;
pub mod indexer;

use crate::config::Config;
use concord_core::Store;
use concord_search::{SearchIndex, SearchIndexOptions};
use std::path::Path;
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
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
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
        let (stop, _) = watch::channel(true);
        let (_, reached) = watch::channel(0);
        Search {
            inner: Arc::new(Inner {
                index: RwLock::new(None),
                reached,
                stop,
                task: Mutex::new(None),
            }),
        }
    }

    /// Opens the index (if `[search] enabled`) and starts the indexer on `store`'s log.
    pub async fn start(config: &Config, store: Arc<dyn Store>) -> Result<Self, String> {
        if !config.search.enabled {
            return Ok(Self::disabled());
        }
        let dir = config.search.index_dir(&config.data_dir);
        let index = Arc::new(open_index(&dir, server_options(config)).await?);
        let (stop, stop_rx) = watch::channel(false);
        let (reached_tx, reached) = watch::channel(index.indexed_position().unwrap_or(0));
        let task = tokio::spawn(indexer::follow(
            store,
            index.clone(),
            config.search.commit_every,
            Duration::from_millis(config.search.commit_interval_ms),
            stop_rx,
            reached_tx,
        ));
        Ok(Search {
            inner: Arc::new(Inner {
                index: RwLock::new(Some(index)),
                reached,
                stop,
                task: Mutex::new(Some(task)),
            }),
        })
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

    /// Stops the indexer after it commits what is pending, and closes the index (releasing its
    /// directory lock).
    pub async fn shutdown(&self) {
        let _ = self.inner.stop.send(true);
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task
            && tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .is_err()
        {
            tracing::warn!("the search indexer did not stop within 10 s");
        }
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
