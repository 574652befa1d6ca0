//! Retention policies, legal holds, retention runs and channel chain verification.

use crate::ids::{ChannelId, UserId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a policy applies. The most specific one set wins: channel, then its type, then org.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetentionScope {
    /// The organisation's default.
    Org,
    /// Public channels.
    Public,
    /// Private channels.
    Private,
    /// Direct messages and group DMs.
    Dm,
    /// One channel (`channel_id`).
    Channel,
}

/// A policy in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RetentionPolicy {
    pub scope: RetentionScope,
    /// Set when `scope` is `channel`.
    pub channel_id: Option<ChannelId>,
    /// Messages are kept this many days; `null` keeps them forever.
    pub keep_days: Option<i64>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// Sets the policy of one scope. A message expires when it is exactly `keep_days` days old
/// (created at or before now minus `keep_days`).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRetentionPolicyRequest {
    pub scope: RetentionScope,
    /// Required when `scope` is `channel`.
    #[serde(default)]
    pub channel_id: Option<i64>,
    /// Days to keep messages (1 to 36500); `null` keeps them forever. Required unless
    /// `inherit`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub keep_days: Option<Option<i64>>,
    /// `true` removes this scope's policy, so the less specific one applies.
    #[serde(default)]
    pub inherit: bool,
}

/// A field that may be `null`: missing is `None`, `null` is `Some(None)`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

/// A legal hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LegalHold {
    pub id: i64,
    /// The person whose messages are held (everywhere), or
    pub user_id: Option<UserId>,
    /// the channel whose messages are held.
    pub channel_id: Option<ChannelId>,
    pub reason: String,
    pub created_by: UserId,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub released_at: Option<Timestamp>,
    pub released_by: Option<UserId>,
    /// In force now.
    pub active: bool,
}

/// Places a hold on a person or a channel (exactly one).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLegalHoldRequest {
    #[serde(default)]
    pub user_id: Option<i64>,
    #[serde(default)]
    pub channel_id: Option<i64>,
    /// Why (1 to 500 characters), e.g. a case number.
    pub reason: String,
    /// When the hold ends by itself (RFC 3339, in the future); none: until released.
    #[serde(default)]
    pub ends_at: Option<String>,
}

/// Runs retention now.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionRunRequest {
    /// Count what would be deleted without deleting.
    #[serde(default)]
    pub dry_run: bool,
}

/// What one channel lost in a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RetentionChannelCount {
    pub channel_id: ChannelId,
    pub messages: u64,
    pub versions: u64,
    pub reactions: u64,
    pub mentions: u64,
    pub pins: u64,
}

/// What a retention run deleted (or, in a dry run, would delete).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RetentionRunReport {
    pub dry_run: bool,
    pub messages: u64,
    /// Edit-history rows.
    pub versions: u64,
    pub reactions: u64,
    pub mentions: u64,
    pub pins: u64,
    /// Files removed with the messages that carried them.
    #[serde(default)]
    pub files: u64,
    pub channels: Vec<RetentionChannelCount>,
    /// The run stopped at its limit (`retention.max_messages_per_run`); more has expired.
    pub more_remaining: bool,
}

/// The result of recomputing a channel's hash chain from the stored rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChainVerification {
    pub channel_id: ChannelId,
    pub intact: bool,
    /// The first edited, deleted, inserted or reordered message or change, when not intact.
    pub problem: Option<String>,
    /// Changes checked (after the newest checkpoint).
    pub links: u64,
    /// Messages whose content was checked.
    pub messages: u64,
    /// Messages sent before the chain existed, not covered.
    pub unchained_messages: u64,
    /// The newest signed checkpoint (left by retention) covers the changes up to this one.
    pub checkpoint_through: Option<i64>,
}
