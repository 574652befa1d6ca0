//! Events: every change a client may see, as one tagged enum.
//!
//! Durable events are appended to the event log in the same transaction as the change they
//! describe and carry a [`Position`](crate::Position); `typing` and `presence` are ephemeral and
//! are only delivered live.

use crate::files::{FileComment, FileInfo};
use crate::ids::{ChannelId, FileId, MessageId, Position, UserId};
use crate::model::{Channel, Message};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type")]
pub enum Event {
    #[serde(rename = "message.created")]
    MessageCreated { message: Message },
    #[serde(rename = "message.edited")]
    MessageEdited { message: Message },
    #[serde(rename = "message.deleted")]
    MessageDeleted {
        channel_id: ChannelId,
        message_id: MessageId,
        seq: i64,
    },
    /// Retention deleted these messages for good (no tombstones): forget them.
    #[serde(rename = "messages.pruned")]
    MessagesPruned {
        channel_id: ChannelId,
        message_ids: Vec<MessageId>,
    },
    #[serde(rename = "reaction.added")]
    ReactionAdded {
        channel_id: ChannelId,
        message_id: MessageId,
        user_id: UserId,
        emoji: String,
    },
    #[serde(rename = "reaction.removed")]
    ReactionRemoved {
        channel_id: ChannelId,
        message_id: MessageId,
        user_id: UserId,
        emoji: String,
    },
    #[serde(rename = "message.pinned")]
    MessagePinned {
        channel_id: ChannelId,
        message_id: MessageId,
        user_id: UserId,
    },
    #[serde(rename = "message.unpinned")]
    MessageUnpinned {
        channel_id: ChannelId,
        message_id: MessageId,
        user_id: UserId,
    },
    /// The user's read position in a channel moved (sent to that user's sessions only).
    #[serde(rename = "channel.read")]
    ChannelRead {
        channel_id: ChannelId,
        user_id: UserId,
        last_read_seq: i64,
    },
    /// A channel was created with these members.
    #[serde(rename = "channel.created")]
    ChannelCreated {
        channel: Channel,
        member_ids: Vec<UserId>,
    },
    #[serde(rename = "channel.updated")]
    ChannelUpdated { channel: Channel },
    /// `actor_id` differs from `user_id` when someone was invited.
    #[serde(rename = "member.joined")]
    MemberJoined {
        channel_id: ChannelId,
        user_id: UserId,
        actor_id: UserId,
    },
    /// `actor_id` differs from `user_id` when someone was removed.
    #[serde(rename = "member.left")]
    MemberLeft {
        channel_id: ChannelId,
        user_id: UserId,
        actor_id: UserId,
    },
    /// A file was uploaded into a channel.
    #[serde(rename = "file.created")]
    FileCreated { file: FileInfo },
    /// A file got a new version (an upload or a restore), a new name or a new flag.
    #[serde(rename = "file.updated")]
    FileUpdated { file: FileInfo },
    /// A file was deleted.
    #[serde(rename = "file.deleted")]
    FileDeleted {
        channel_id: ChannelId,
        file_id: FileId,
    },
    /// A comment on a version of a file; `comment.mentions` are notified.
    #[serde(rename = "file.commented")]
    FileCommented {
        channel_id: ChannelId,
        comment: FileComment,
    },
    #[serde(rename = "typing")]
    Typing {
        channel_id: ChannelId,
        user_id: UserId,
        thread_root_id: Option<MessageId>,
    },
    #[serde(rename = "presence")]
    Presence {
        user_id: UserId,
        status: PresenceStatus,
    },
}

impl Event {
    /// The `type` tag, e.g. `message.created`.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::MessageCreated { .. } => "message.created",
            Event::MessageEdited { .. } => "message.edited",
            Event::MessageDeleted { .. } => "message.deleted",
            Event::MessagesPruned { .. } => "messages.pruned",
            Event::ReactionAdded { .. } => "reaction.added",
            Event::ReactionRemoved { .. } => "reaction.removed",
            Event::MessagePinned { .. } => "message.pinned",
            Event::MessageUnpinned { .. } => "message.unpinned",
            Event::ChannelRead { .. } => "channel.read",
            Event::ChannelCreated { .. } => "channel.created",
            Event::ChannelUpdated { .. } => "channel.updated",
            Event::MemberJoined { .. } => "member.joined",
            Event::MemberLeft { .. } => "member.left",
            Event::FileCreated { .. } => "file.created",
            Event::FileUpdated { .. } => "file.updated",
            Event::FileDeleted { .. } => "file.deleted",
            Event::FileCommented { .. } => "file.commented",
            Event::Typing { .. } => "typing",
            Event::Presence { .. } => "presence",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Offline,
}

/// An event as stored in the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StoredEvent {
    pub position: Position,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub event: Event,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_matches_serde_tag() {
        let e = Event::MemberLeft {
            channel_id: ChannelId(1),
            user_id: UserId(2),
            actor_id: UserId(3),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], e.kind());
        let e = Event::Presence {
            user_id: UserId(2),
            status: PresenceStatus::Online,
        };
        assert_eq!(serde_json::to_value(&e).unwrap()["type"], e.kind());
    }
}
