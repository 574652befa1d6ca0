//! What the indexer feeds in: a message or a file as the index sees it, and the write operations
//! that the server's event log turns into.

use serde::{Deserialize, Serialize};

/// A message as indexed. Built by the caller from the store's message record (and its files).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageDoc {
    /// Unique key: upserting the same id replaces the earlier version.
    pub message_id: i64,
    pub channel_id: i64,
    pub sender_id: i64,
    /// Creation time in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// Set for replies: the message the thread hangs from.
    pub thread_root_id: Option<i64>,
    /// The message is a thread root with at least one reply. Together with `thread_root_id` it
    /// makes the `in_thread` filter; when a root gets its first reply, upsert the root again
    /// with this set (the index keeps no per-field update).
    pub has_replies: bool,
    /// Users mentioned by `@name`.
    pub mentions: Vec<i64>,
    /// `@channel`, `@all` or `@here`: every member is mentioned, so the `mentions` filter matches
    /// this message for any user.
    pub mentions_channel: bool,
    /// The message text (Markdown source).
    pub body: String,
    /// Names of attached files. A message with at least one is a `has_file` message.
    pub file_names: Vec<String>,
    /// Text extracted from attached text files and PDFs, already cut to whatever size the caller
    /// wants searchable; empty when there is none.
    pub file_text: String,
}

/// A file uploaded into a channel, as indexed: its own document, found by its name and by the
/// text of its current version. Built by the caller from the store's file record and the text
/// it extracted (text files and PDFs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDoc {
    /// Unique key among files: upserting the same id replaces the earlier version (renames,
    /// new versions).
    pub file_id: i64,
    pub channel_id: i64,
    /// Who uploaded the file (the `sender_id` filter matches it).
    pub uploader_id: i64,
    /// Upload time of the file in milliseconds since the Unix epoch (the time filters use it).
    pub created_at_ms: i64,
    /// The file's name as shown.
    pub name: String,
    /// Text of the current version, already cut to what the caller wants searchable; empty
    /// when there is none (images, archives) or it has not been extracted yet.
    pub text: String,
    /// SHA-256 of the content `text` was extracted from, kept so that a rename can reuse the
    /// text without extracting it again.
    pub content_sha256: String,
    /// The text is still to be extracted: [`crate::SearchIndex::files_pending_text`] finds such
    /// files, so a restart can ask for what a stop left undone.
    pub text_pending: bool,
}

/// One change to the index, in event-log order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexOp {
    /// Add a message, or replace the indexed version with the same `message_id` (edits).
    Upsert(MessageDoc),
    /// Remove one message.
    Delete {
        /// Message to remove.
        message_id: i64,
    },
    /// Add a file, or replace the indexed one with the same `file_id`.
    UpsertFile(FileDoc),
    /// Remove one file.
    DeleteFile {
        /// File to remove.
        file_id: i64,
    },
    /// Remove every message and file of a channel.
    DeleteChannel {
        /// Channel to empty.
        channel_id: i64,
    },
    /// Retention: remove the channel's messages (not its files, which retention removes one by
    /// one) created strictly before `before_ms`.
    PruneChannelBefore {
        /// Channel to prune.
        channel_id: i64,
        /// Messages with `created_at_ms < before_ms` go.
        before_ms: i64,
    },
}
