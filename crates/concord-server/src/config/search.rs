//! The `[search]` section: the message and file search index (where it lives, how the indexer
//! batches its commits, how much of a file's text it indexes) and the limit on bulk imports over
//! HTTP.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchConfig {
    /// Index messages and serve `/api/v1/search`. Off: the search endpoints answer 503.
    pub enabled: bool,
    /// Directory of the index; default `data_dir/search`.
    pub dir: Option<PathBuf>,
    /// Memory the index writer buffers documents in, in MiB (at least 16).
    pub writer_heap_mib: usize,
    /// The indexer commits after this many pending events...
    pub commit_every: usize,
    /// ...or this long after the first pending message event, whichever comes first.
    pub commit_interval_ms: u64,
    /// Largest body `POST /api/v1/admin/import/messages` accepts, in bytes; bigger files go
    /// through `concord import messages`.
    pub max_import_bytes: usize,
    /// Most characters of a text file's or PDF's text that are searchable (the rest is not
    /// indexed); 0 indexes file names only.
    pub file_text_max_chars: usize,
    /// Files whose text is extracted at once, off the indexer's path (a big PDF never holds up
    /// message indexing).
    pub file_text_workers: usize,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: None,
            writer_heap_mib: 64,
            commit_every: 2_000,
            commit_interval_ms: 200,
            max_import_bytes: 64 * 1024 * 1024,
            file_text_max_chars: 200_000,
            file_text_workers: 1,
        }
    }
}

impl SearchConfig {
    /// Where the index lives.
    pub fn index_dir(&self, data_dir: &Path) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| data_dir.join("search"))
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        if !(16..=16_384).contains(&self.writer_heap_mib) {
            return Err("search.writer_heap_mib must be 16 to 16384".into());
        }
        if self.commit_every == 0 {
            return Err("search.commit_every must be at least 1".into());
        }
        if !(1..=60_000).contains(&self.commit_interval_ms) {
            return Err("search.commit_interval_ms must be 1 to 60000".into());
        }
        if self.max_import_bytes == 0 {
            return Err("search.max_import_bytes must be at least 1".into());
        }
        if self.file_text_max_chars > 1_000_000 {
            return Err("search.file_text_max_chars must be at most 1000000".into());
        }
        if !(1..=64).contains(&self.file_text_workers) {
            return Err("search.file_text_workers must be 1 to 64".into());
        }
        Ok(())
    }
}
