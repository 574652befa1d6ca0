//! Retention policies, legal holds, retention runs and channel chain verification. Every
//! policy and hold change and every run is audited in the transaction that makes it.

use super::Services;
use crate::authz::Actor;
use crate::error::DomainError;
use crate::message_chain::{ChainTamper, verify_channel};
use crate::org::perm;
use crate::retention::{MAX_KEEP_DAYS, cutoff, keep_days_for, parse_scope_key, scope_key};
use crate::store::{HoldTarget, LegalHoldRecord, NewLegalHold, PrunePlan, PruneReport};
use concord_proto::{
    ChainVerification, ChannelId, CreateLegalHoldRequest, LegalHold, RetentionPolicy,
    SetRetentionPolicyRequest, UserId,
};
use jiff::Timestamp;
use std::collections::HashSet;

/// How a retention run goes.
#[derive(Clone, Copy, Debug)]
pub struct RetentionRun {
    /// Count only; delete nothing.
    pub dry_run: bool,
    /// Most messages deleted in this run.
    pub max_messages: usize,
    /// The server's own schedule (audited only when it deletes something).
    pub scheduled: bool,
}

/// Longest legal hold reason, in characters.
const MAX_REASON_CHARS: usize = 500;

impl Services {
    /// Every policy set (`retention.manage`).
    pub async fn retention_policies(
        &self,
        actor: &Actor,
    ) -> Result<Vec<RetentionPolicy>, DomainError> {
        actor.require(perm::RETENTION_MANAGE, None)?;
        self.policies_view().await
    }

    async fn policies_view(&self) -> Result<Vec<RetentionPolicy>, DomainError> {
        let mut out: Vec<RetentionPolicy> = self
            .store
            .retention_policies()
            .await?
            .into_iter()
            .filter_map(|p| {
                let (scope, channel_id) = parse_scope_key(&p.scope)?;
                Some(RetentionPolicy {
                    scope,
                    channel_id,
                    keep_days: p.keep_days,
                    updated_at: p.updated_at,
                })
            })
            .collect();
        out.sort_by_key(|p| (p.scope as u8, p.channel_id.map(|c| c.0)));
        Ok(out)
    }

    /// Sets or removes one scope's policy (`retention.manage`, audited); returns them all.
    pub async fn set_retention_policy(
        &self,
        actor: &Actor,
        req: SetRetentionPolicyRequest,
    ) -> Result<Vec<RetentionPolicy>, DomainError> {
        actor.require(perm::RETENTION_MANAGE, None)?;
        let channel = req.channel_id.map(ChannelId);
        let scope = scope_key(req.scope, channel).ok_or_else(|| {
            DomainError::invalid(
                "channel_id",
                "give channel_id with scope \"channel\", and only then",
            )
        })?;
        if let Some(id) = channel
            && self.store.channel(id).await?.is_none()
        {
            return Err(DomainError::NotFound("channel"));
        }
        if let Some(Some(days)) = req.keep_days
            && !(1..=MAX_KEEP_DAYS).contains(&days)
        {
            return Err(DomainError::invalid(
                "keep_days",
                format!("between 1 and {MAX_KEEP_DAYS}, or null to keep forever"),
            ));
        }
        let keep_days = match (req.inherit, req.keep_days) {
            (true, None) => None,
            (false, Some(days)) => Some(days),
            (true, Some(_)) => {
                return Err(DomainError::invalid(
                    "inherit",
                    "inherit removes the policy: leave keep_days out",
                ));
            }
            (false, None) => {
                return Err(DomainError::invalid(
                    "keep_days",
                    "give keep_days (days, or null to keep forever), or inherit",
                ));
            }
        };
        let before = self
            .store
            .retention_policies()
            .await?
            .into_iter()
            .find(|p| p.scope == scope)
            .map(|p| serde_json::json!({ "keep_days": p.keep_days }));
        let (action, after) = match keep_days {
            None => ("retention.policy.clear", None),
            Some(days) => (
                "retention.policy.set",
                Some(serde_json::json!({ "keep_days": days })),
            ),
        };
        let audit = self.audit_entry(
            Some(actor),
            action,
            format!("retention:{scope}"),
            before,
            after,
        );
        self.store
            .set_retention_policy(scope, keep_days, self.clock.now(), audit)
            .await?;
        self.policies_view().await
    }

    /// Every hold, newest first (`retention.manage`).
    pub async fn legal_holds(&self, actor: &Actor) -> Result<Vec<LegalHold>, DomainError> {
        actor.require(perm::RETENTION_MANAGE, None)?;
        let now = self.clock.now();
        Ok(self
            .store
            .legal_holds()
            .await?
            .iter()
            .map(|h| hold_view(h, now))
            .collect())
    }

    /// Places a hold (`retention.manage`, audited).
    pub async fn create_legal_hold(
        &self,
        actor: &Actor,
        req: CreateLegalHoldRequest,
    ) -> Result<LegalHold, DomainError> {
        actor.require(perm::RETENTION_MANAGE, None)?;
        let reason = req.reason.trim().to_string();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(DomainError::invalid(
                "reason",
                format!("1 to {MAX_REASON_CHARS} characters"),
            ));
        }
        let target = match (req.user_id, req.channel_id) {
            (Some(u), None) => {
                if self.store.user(UserId(u)).await?.is_none() {
                    return Err(DomainError::NotFound("user"));
                }
                HoldTarget::User(UserId(u))
            }
            (None, Some(c)) => {
                if self.store.channel(ChannelId(c)).await?.is_none() {
                    return Err(DomainError::NotFound("channel"));
                }
                HoldTarget::Channel(ChannelId(c))
            }
            _ => {
                return Err(DomainError::invalid(
                    "user_id",
                    "give exactly one of user_id and channel_id",
                ));
            }
        };
        let now = self.clock.now();
        let ends_at = match req.ends_at.as_deref() {
            None => None,
            Some(text) => {
                let end: Timestamp = text.parse().map_err(|_| {
                    DomainError::invalid("ends_at", "an RFC 3339 time with an offset")
                })?;
                if end <= now {
                    return Err(DomainError::invalid("ends_at", "must be in the future"));
                }
                Some(crate::clock::to_millis(end))
            }
        };
        let (target_text, after) = match target {
            HoldTarget::User(u) => (
                "user",
                serde_json::json!({"user_id": u.0, "reason": reason, "ends_at": ends_at}),
            ),
            HoldTarget::Channel(c) => (
                "channel",
                serde_json::json!({"channel_id": c.0, "reason": reason, "ends_at": ends_at}),
            ),
        };
        let audit = self.audit_entry(
            Some(actor),
            "legal_hold.create",
            "legal_hold:{id}".into(),
            None,
            Some(serde_json::json!({ "on": target_text, "hold": after })),
        );
        let hold = NewLegalHold {
            target,
            reason,
            created_by: actor.user_id,
            created_at: now,
            ends_at,
        };
        let id = self.store.create_legal_hold(hold, audit).await?;
        self.hold(id, now).await
    }

    async fn hold(&self, id: i64, now: Timestamp) -> Result<LegalHold, DomainError> {
        let holds = self.store.legal_holds().await?;
        let hold = holds
            .iter()
            .find(|h| h.id == id)
            .ok_or(DomainError::NotFound("legal hold"))?;
        Ok(hold_view(hold, now))
    }

    /// Releases a hold (`retention.manage`, audited); the next run may delete what it kept.
    pub async fn release_legal_hold(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<LegalHold, DomainError> {
        actor.require(perm::RETENTION_MANAGE, None)?;
        let now = self.clock.now();
        let current = self.hold(id, now).await?;
        if current.released_at.is_some() {
            return Err(DomainError::Conflict(
                "the legal hold is already released".into(),
            ));
        }
        let audit = self.audit_entry(
            Some(actor),
            "legal_hold.release",
            format!("legal_hold:{id}"),
            Some(serde_json::json!({ "reason": current.reason })),
            None,
        );
        if !self
            .store
            .release_legal_hold(id, actor.user_id, now, audit)
            .await?
        {
            return Err(DomainError::Conflict(
                "the legal hold is already released".into(),
            ));
        }
        self.hold(id, now).await
    }

    /// Deletes what has expired, or counts it (`run.dry_run`). `actor` is `None` for the
    /// scheduled job and the CLI; a person needs `retention.manage`. Audited with the counts.
    pub async fn run_retention(
        &self,
        actor: Option<&Actor>,
        run: RetentionRun,
    ) -> Result<PruneReport, DomainError> {
        let RetentionRun {
            dry_run,
            max_messages,
            scheduled,
        } = run;
        if let Some(actor) = actor {
            actor.require(perm::RETENTION_MANAGE, None)?;
        }
        let signing_key = match (&self.signing_key, dry_run) {
            (Some(key), _) => Some(key.clone()),
            (None, true) => None,
            (None, false) => {
                return Err(DomainError::Unavailable(
                    "no signing key is loaded to sign chain checkpoints".into(),
                ));
            }
        };
        let now = self.clock.now();
        let policies = self.store.retention_policies().await?;
        let holds = self.store.legal_holds().await?;
        let active: Vec<&LegalHoldRecord> = holds.iter().filter(|h| h.active(now)).collect();
        let held_channels: HashSet<ChannelId> = active
            .iter()
            .filter_map(|h| match h.target {
                HoldTarget::Channel(c) => Some(c),
                HoldTarget::User(_) => None,
            })
            .collect();
        let held_users: Vec<UserId> = active
            .iter()
            .filter_map(|h| match h.target {
                HoldTarget::User(u) => Some(u),
                HoldTarget::Channel(_) => None,
            })
            .collect();
        let channels = self
            .store
            .channel_kinds()
            .await?
            .into_iter()
            .filter(|(id, _)| !held_channels.contains(id))
            .filter_map(|(id, kind)| {
                keep_days_for(&policies, id, kind).map(|days| (id, cutoff(now, days)))
            })
            .collect();
        let action = if dry_run {
            "retention.dry_run"
        } else {
            "retention.run"
        };
        let audit = self.audit_entry(actor, action, "retention".into(), None, None);
        let plan = PrunePlan {
            channels,
            held_users,
            max_messages,
            dry_run,
            signing_key,
            at: now,
            audit,
            audit_when_empty: !scheduled,
        };
        Ok(self.store.prune_messages(plan).await?)
    }

    /// Recomputes a channel's chain from its rows (`audit.read`).
    pub async fn verify_channel_chain(
        &self,
        actor: &Actor,
        channel: ChannelId,
    ) -> Result<ChainVerification, DomainError> {
        actor.require(perm::AUDIT_READ, None)?;
        self.verify_channel(channel).await
    }

    /// As [`Services::verify_channel_chain`], for the CLI.
    pub async fn verify_channel(
        &self,
        channel: ChannelId,
    ) -> Result<ChainVerification, DomainError> {
        let key = self
            .signing_key
            .as_deref()
            .ok_or_else(|| DomainError::Unavailable("no signing key is loaded".into()))?;
        let data = self
            .store
            .channel_chain(channel)
            .await?
            .ok_or(DomainError::NotFound("channel"))?;
        let public = hex::encode(key.public_key());
        Ok(match verify_channel(key.suite(), &data, &public) {
            Ok(v) => ChainVerification {
                channel_id: channel,
                intact: true,
                problem: None,
                links: v.links as u64,
                messages: v.messages as u64,
                unchained_messages: v.unchained_messages as u64,
                checkpoint_through: v.checkpoint_through,
            },
            Err(t) => tampered(channel, &t, &data),
        })
    }
}

fn tampered(
    channel: ChannelId,
    t: &ChainTamper,
    data: &crate::message_chain::ChannelChainData,
) -> ChainVerification {
    ChainVerification {
        channel_id: channel,
        intact: false,
        problem: Some(t.to_string()),
        links: data.links.len() as u64,
        messages: data.messages.len() as u64,
        unchained_messages: 0,
        checkpoint_through: data.checkpoint.as_ref().map(|c| c.through_link),
    }
}

fn hold_view(h: &LegalHoldRecord, now: Timestamp) -> LegalHold {
    let (user_id, channel_id) = match h.target {
        HoldTarget::User(u) => (Some(u), None),
        HoldTarget::Channel(c) => (None, Some(c)),
    };
    LegalHold {
        id: h.id,
        user_id,
        channel_id,
        reason: h.reason.clone(),
        created_by: h.created_by,
        created_at: h.created_at,
        ends_at: h.ends_at,
        released_at: h.released_at,
        released_by: h.released_by,
        active: h.active(now),
    }
}
