//! Resources as the API returns them.

use crate::ids::{ChannelId, MessageId, UserId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A user as others see them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub is_admin: bool,
    /// An app's bot account: it acts with an app token, never signs in with a password.
    #[serde(default)]
    pub is_bot: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Anyone in the org can find and join it.
    Public,
    /// Invitation only; invisible to non-members.
    Private,
    /// A direct conversation between one or two people.
    Dm,
    /// A direct conversation among three to eight people.
    GroupDm,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Public => "public",
            ChannelKind::Private => "private",
            ChannelKind::Dm => "dm",
            ChannelKind::GroupDm => "group_dm",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "public" => ChannelKind::Public,
            "private" => ChannelKind::Private,
            "dm" => ChannelKind::Dm,
            "group_dm" => ChannelKind::GroupDm,
            _ => return None,
        })
    }

    /// DMs and group DMs have a fixed membership and no name.
    pub fn is_direct(self) -> bool {
        matches!(self, ChannelKind::Dm | ChannelKind::GroupDm)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Channel {
    pub id: ChannelId,
    pub kind: ChannelKind,
    /// Empty for DMs and group DMs.
    pub name: String,
    pub topic: String,
    pub purpose: String,
    pub created_by: UserId,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Sequence number of the newest message (0 when empty). Sequences start at 1, no gaps.
    pub last_seq: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    Admin,
    Member,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Admin => "admin",
            MemberRole::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(MemberRole::Admin),
            "member" => Some(MemberRole::Member),
            _ => None,
        }
    }
}

/// A channel as one of its members sees it, with read state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MyChannel {
    pub channel: Channel,
    pub role: MemberRole,
    /// Members of a DM or group DM (empty for other kinds: use the members endpoint).
    pub dm_members: Vec<UserId>,
    pub last_read_seq: i64,
    /// Messages after `last_read_seq` from others, not deleted.
    pub unread_count: i64,
    /// Of those, the ones that mention this user (@user, @channel, @here).
    pub mention_count: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub user_id: UserId,
    pub role: MemberRole,
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Reaction {
    pub emoji: String,
    pub user_ids: Vec<UserId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub channel_id: ChannelId,
    /// Per-channel sequence number: 1, 2, 3... with no gaps.
    pub seq: i64,
    pub sender_id: UserId,
    /// Markdown source. Empty once deleted.
    pub text: String,
    /// The thread this message replies to, if any.
    pub thread_root_id: Option<MessageId>,
    /// Number of replies, for thread roots.
    pub reply_count: i64,
    pub client_msg_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub edited_at: Option<Timestamp>,
    pub deleted: bool,
    pub pinned: bool,
    pub reactions: Vec<Reaction>,
    /// Files attached when the message was sent.
    #[serde(default)]
    pub files: Vec<crate::files::FileRef>,
}

/// One version of a message's text. Version 1 is the original.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageVersion {
    pub version: i64,
    pub text: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}
