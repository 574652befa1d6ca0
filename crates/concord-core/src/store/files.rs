//! What the store keeps about files: their metadata, versions and comments, and which content
//! (by SHA-256) they use. The content itself lives in the server's blob store.

use super::StoreError;
use async_trait::async_trait;
use concord_proto::{ChannelId, FileComment, FileId, FileInfo, FileVersion, UserId};
use jiff::Timestamp;

/// A version's content and who uploaded it.
#[derive(Clone, Debug)]
pub struct NewFileVersion {
    pub sha256: String,
    pub size: i64,
    pub mime: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub uploaded_by: UserId,
    pub uploaded_at: Timestamp,
    pub comment: Option<String>,
    pub restored_from: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct NewFile {
    pub channel_id: ChannelId,
    pub name: String,
    pub sensitive: bool,
    pub first: NewFileVersion,
}

#[derive(Clone, Debug)]
pub struct FileUpdate {
    pub name: Option<String>,
    pub sensitive: Option<bool>,
    pub at: Timestamp,
}

#[derive(Clone, Debug)]
pub struct NewFileComment {
    pub file_id: FileId,
    pub version: i64,
    pub author_id: UserId,
    pub text: String,
    pub mentions: Vec<UserId>,
    pub created_at: Timestamp,
}

/// File metadata. Writes append `file.created`, `file.updated` and `file.commented` events for
/// the file's channel. `FileInfo::effective_sensitive` comes back equal to `sensitive`; the
/// service folds in the channel's policy.
#[async_trait]
pub trait FileStore: Send + Sync + 'static {
    async fn create_file(&self, file: NewFile) -> Result<FileInfo, StoreError>;
    /// Appends a version and makes it current.
    async fn add_file_version(
        &self,
        file: FileId,
        version: NewFileVersion,
    ) -> Result<FileInfo, StoreError>;
    async fn update_file(&self, file: FileId, update: FileUpdate) -> Result<FileInfo, StoreError>;
    /// Hides the file (and its versions) from every reader; its content is collected once no
    /// version of any file uses it.
    async fn delete_file(&self, file: FileId, at: Timestamp) -> Result<(), StoreError>;
    /// A file that has not been deleted.
    async fn file(&self, id: FileId) -> Result<Option<FileInfo>, StoreError>;
    /// Every version, oldest first.
    async fn file_versions(&self, id: FileId) -> Result<Vec<FileVersion>, StoreError>;
    /// A channel's files, newest first, below `before`.
    async fn channel_files(
        &self,
        channel: ChannelId,
        before: Option<FileId>,
        limit: i64,
    ) -> Result<Vec<FileInfo>, StoreError>;
    async fn add_file_comment(&self, comment: NewFileComment) -> Result<FileComment, StoreError>;
    async fn file_comments(&self, file: FileId) -> Result<Vec<FileComment>, StoreError>;
    /// Content no live file version uses (deleted files' versions count as unused), at most
    /// `limit`, for collection.
    async fn unreferenced_blobs(&self, limit: i64) -> Result<Vec<String>, StoreError>;
    /// Forgets a blob if still unreferenced (the caller then deletes its content). False when
    /// something uses it again.
    async fn forget_blob(&self, sha256: String) -> Result<bool, StoreError>;
}
