//! What the indexer feeds in: a message as the index sees it, and the write operations that the
//! server's event log turns into.

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
    /// Remove every message of a channel.
    DeleteChannel {
        /// Channel to empty.
        channel_id: i64,
    },
    /// Retention: remove the channel's messages created strictly before `before_ms`.
    PruneChannelBefore {
        /// Channel to prune.
        channel_id: i64,
        /// Messages with `created_at_ms < before_ms` go.
        before_ms: i64,
    },
}
