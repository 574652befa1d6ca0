//! Request and response bodies of the REST API.

use crate::ids::{ChannelId, MessageId, UserId};
use crate::model::{Channel, Message, User};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username or email.
    pub login: String,
    pub password: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    /// Opaque bearer token: `Authorization: Bearer <token>`.
    pub token: String,
    pub user: User,
    /// When the session ends at the latest (it also ends after the idle timeout).
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    #[serde(default)]
    pub is_admin: bool,
    /// A guest sees only the channels it is invited to.
    #[serde(default)]
    pub guest: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NewChannelKind {
    Public,
    Private,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelRequest {
    pub name: String,
    pub kind: NewChannelKind,
    #[serde(default)]
    pub topic: String,
    #[serde(default)]
    pub purpose: String,
    /// Users to add besides the creator.
    #[serde(default)]
    pub member_ids: Vec<UserId>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannelRequest {
    pub name: Option<String>,
    pub topic: Option<String>,
    pub purpose: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    pub user_ids: Vec<UserId>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDmRequest {
    /// The other participants (1 for a DM, up to 7 for a group DM). You are added.
    pub user_ids: Vec<UserId>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    pub text: String,
    /// Idempotency key: a retried send with the same key returns the original message.
    pub client_msg_id: Option<String>,
    pub thread_root_id: Option<MessageId>,
    /// Files uploaded to the same channel to attach (at most 10); the text may then be empty.
    #[serde(default)]
    pub file_ids: Vec<crate::ids::FileId>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessageRequest {
    pub text: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkReadRequest {
    /// Everything up to and including this sequence number is read.
    pub seq: i64,
}

/// Which page of history to return. At most one of `before`, `after`, `around`, `at`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages with a smaller sequence number (newest first, returned in ascending order).
    pub before: Option<i64>,
    /// Messages with a larger sequence number.
    pub after: Option<i64>,
    /// Messages around this sequence number, including it.
    pub around: Option<i64>,
    /// Messages around the first one sent at or after this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryPage {
    /// Ascending by sequence number.
    pub messages: Vec<Message>,
    pub has_more_before: bool,
    pub has_more_after: bool,
    /// The lowest sequence number the channel still holds: retention deleted the messages
    /// before it for good, so paging stops there (`has_more_before` is false). `null` when
    /// the channel holds no message.
    pub oldest_seq: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelPage {
    pub channels: Vec<Channel>,
    /// Give it back as `after` for the next page.
    pub next_after: Option<ChannelId>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Return items after this id.
    pub after: Option<i64>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next_after: Option<UserId>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ThreadPage {
    pub root: Message,
    pub replies: Vec<Message>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypingRequest {
    pub thread_root_id: Option<MessageId>,
}

/// Returned for a channel id in a path, so clients can tell which resource was meant.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelRef {
    pub channel_id: ChannelId,
}
