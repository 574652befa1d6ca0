//! What the search index needs of the files table beyond the file services' reads: every live
//! file in id order, for a rebuild of the index.

use super::StoreError;
use async_trait::async_trait;
use concord_proto::{FileId, FileInfo};

/// Reads for (re)building the file part of the search index.
#[async_trait]
pub trait FileSearchStore: Send + Sync + 'static {
    /// Files not deleted, in every channel, with ids above `after`, in id order, at most
    /// `limit`.
    async fn files_after(&self, after: FileId, limit: i64) -> Result<Vec<FileInfo>, StoreError>;
}
