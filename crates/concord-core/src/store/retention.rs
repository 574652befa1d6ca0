//! Records of retention and legal hold the store keeps, and what a prune asks and reports.

use crate::crypto::SigningKey;
use crate::store::NewAudit;
use concord_proto::{ChannelId, MessageId, UserId};
use jiff::Timestamp;
use serde::Serialize;
use std::sync::Arc;

/// A stored policy: `scope` is `org`, `public`, `private`, `dm` or `channel:<id>`;
/// `keep_days` `None` keeps forever.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionPolicyRecord {
    pub scope: String,
    pub keep_days: Option<i64>,
    pub updated_at: Timestamp,
}

/// What a legal hold covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldTarget {
    /// The person's messages, in every channel.
    User(UserId),
    /// Every message of the channel.
    Channel(ChannelId),
}

#[derive(Clone, Debug)]
pub struct NewLegalHold {
    pub target: HoldTarget,
    pub reason: String,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub ends_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegalHoldRecord {
    pub id: i64,
    pub target: HoldTarget,
    pub reason: String,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub released_at: Option<Timestamp>,
    pub released_by: Option<UserId>,
}

impl LegalHoldRecord {
    /// In force at `now`: not released and not past its end.
    pub fn active(&self, now: Timestamp) -> bool {
        self.released_at.is_none() && self.ends_at.is_none_or(|end| end > now)
    }
}

/// One retention run, as the service planned it.
#[derive(Clone, Debug)]
pub struct PrunePlan {
    /// Channels to prune, each with its cutoff: messages created at or before it expire.
    /// Held channels are left out.
    pub channels: Vec<(ChannelId, Timestamp)>,
    /// People under a legal hold: their messages stay, and so does any thread holding one.
    pub held_users: Vec<UserId>,
    /// At most this many messages per run (whole threads may take it a little over).
    pub max_messages: usize,
    /// Count only; change nothing.
    pub dry_run: bool,
    /// Signs each pruned channel's chain checkpoint (required unless `dry_run`).
    pub signing_key: Option<Arc<SigningKey>>,
    pub at: Timestamp,
    /// Written in the same transaction, its `after` filled with the report; for a scheduled
    /// run only when it deleted something (an hourly row of zeros says nothing).
    pub audit: NewAudit,
    pub audit_when_empty: bool,
}

/// What one channel lost (or would lose, in a dry run).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChannelPruneCount {
    pub channel_id: i64,
    pub messages: u64,
    pub versions: u64,
    pub reactions: u64,
    pub mentions: u64,
    pub pins: u64,
}

/// What a run pruned.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    pub dry_run: bool,
    pub messages: u64,
    pub versions: u64,
    pub reactions: u64,
    pub mentions: u64,
    pub pins: u64,
    /// Files removed with the messages that carried them (expired, carried by nothing else).
    #[serde(default)]
    pub files: u64,
    pub channels: Vec<ChannelPruneCount>,
    /// The run stopped at `max_messages`: more has expired.
    pub more_remaining: bool,
    /// The messages removed: the hook for whatever refers to messages (attached files no
    /// longer referenced, for one). Not written to the audit log.
    #[serde(skip)]
    pub pruned_message_ids: Vec<MessageId>,
}
