//! Reads behind compliance and personal exports: messages (with the last text of deleted
//! ones, which the store keeps under the tombstone), every edit, reactions and file versions,
//! each paged by a key so an export of a whole organisation never sits in memory at once.
//! A sub-trait of [`super::Store`], so the feature's methods sit together.

use super::StoreError;
use async_trait::async_trait;
use concord_proto::{ChannelId, FileId, MessageId, UserId};
use jiff::Timestamp;

/// What an export covers. An empty list means "any" (the service insists on at least one
/// channel or user for compliance exports); the time range is `[from, to)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportScope {
    pub channels: Vec<ChannelId>,
    pub users: Vec<UserId>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// A message as exported: its last stored text even when deleted (reads elsewhere hide it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportMessage {
    pub id: MessageId,
    pub channel_id: ChannelId,
    /// Empty for DMs.
    pub channel_name: String,
    pub seq: i64,
    pub sender_id: UserId,
    pub sender_username: String,
    pub text: String,
    pub thread_root_id: Option<MessageId>,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
}

/// One stored version of an edited message (version 1 is the original text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportVersion {
    pub message_id: MessageId,
    pub version: i64,
    pub text: String,
    pub created_at: Timestamp,
}

/// One person's reaction to a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportReaction {
    pub message_id: MessageId,
    pub channel_id: ChannelId,
    pub user_id: UserId,
    pub username: String,
    pub emoji: String,
    pub created_at: Timestamp,
}

/// One version of a file, with its file's name and channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportFileVersion {
    pub file_id: FileId,
    pub channel_id: ChannelId,
    pub name: String,
    pub version: i64,
    pub sha256: String,
    pub size: i64,
    pub mime: String,
    pub uploaded_by: UserId,
    pub uploader_username: String,
    pub uploaded_at: Timestamp,
    pub comment: Option<String>,
    /// Set when the file was deleted (its content may already be collected).
    pub file_deleted_at: Option<Timestamp>,
}

/// Where a page of reactions ends: the next page starts after it.
pub type ReactionKey = (MessageId, String);

#[async_trait]
pub trait ExportStore: Send + Sync + 'static {
    /// Messages in the scope (channel, sender, `created_at` in `[from, to)`), by id, after
    /// `after`, at most `limit`. Retention-pruned messages are gone and do not appear.
    async fn export_messages(
        &self,
        scope: &ExportScope,
        after: Option<MessageId>,
        limit: i64,
    ) -> Result<Vec<ExportMessage>, StoreError>;
    /// Every stored version of these messages (only edited messages have any), by message
    /// and version.
    async fn export_versions(
        &self,
        messages: &[MessageId],
    ) -> Result<Vec<ExportVersion>, StoreError>;
    /// Every reaction to these messages, by message, time and user.
    async fn export_reactions(
        &self,
        messages: &[MessageId],
    ) -> Result<Vec<ExportReaction>, StoreError>;
    /// The reactions one person made anywhere, by message and emoji, after `after`.
    async fn export_user_reactions(
        &self,
        user: UserId,
        after: Option<ReactionKey>,
        limit: i64,
    ) -> Result<Vec<ExportReaction>, StoreError>;
    /// File versions in the scope (file's channel, uploader, `uploaded_at` in `[from, to)`),
    /// deleted files included, by file and version, after `after`, at most `limit`.
    async fn export_file_versions(
        &self,
        scope: &ExportScope,
        after: Option<(FileId, i64)>,
        limit: i64,
    ) -> Result<Vec<ExportFileVersion>, StoreError>;
}
