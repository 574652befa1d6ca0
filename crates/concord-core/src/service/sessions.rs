//! A person's sessions: listing them (the current one marked), ending one or all others, and
//! an administrator (user.manage or security.manage) ending all of someone's. Every ending is
//! audited in the transaction that ends the sessions, and live connections are closed.

use super::Services;
use crate::authz::Actor;
use crate::error::DomainError;
use crate::org::perm;
use crate::store::{SESSION_ID_LEN, SessionSelector};
use concord_proto::UserId;
use jiff::Timestamp;

/// A session as its owner sees it.
#[derive(Clone, Debug)]
pub struct SessionView {
    /// Names the session for ending it (a prefix of the token's hash, not the token).
    pub id: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session this request came with.
    pub current: bool,
    /// May only enrol a second factor.
    pub enrol_only: bool,
}

impl Services {
    /// The actor's sessions that have not expired, newest first.
    pub async fn my_sessions(&self, actor: &Actor) -> Result<Vec<SessionView>, DomainError> {
        let now = self.clock.now();
        let idle = self.limits.session_idle_timeout;
        let current = actor
            .session
            .as_deref()
            .map(|h| &h[..SESSION_ID_LEN.min(h.len())]);
        Ok(self
            .store
            .user_sessions(actor.user_id)
            .await?
            .into_iter()
            .filter(|s| {
                now < s.expires_at && s.last_seen_at.checked_add(idle).is_ok_and(|d| now < d)
            })
            .map(|s| SessionView {
                current: current == Some(s.id.as_str()),
                id: s.id,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
                ip: s.meta.ip,
                user_agent: s.meta.user_agent,
                enrol_only: s.meta.enrol_only,
            })
            .collect())
    }

    /// Ends one of the actor's own sessions (the current one too: that is logging out).
    pub async fn end_my_session(&self, actor: &Actor, id: &str) -> Result<(), DomainError> {
        if id.len() != SESSION_ID_LEN || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DomainError::NotFound("session"));
        }
        let audit = self.audit_entry(
            Some(actor),
            "session.revoked",
            format!("user:{}", actor.user_id.0),
            None,
            Some(serde_json::json!({"session": id})),
        );
        let n = self
            .store
            .end_sessions(
                actor.user_id,
                SessionSelector::One(id.to_lowercase()),
                audit,
            )
            .await?;
        if n == 0 {
            return Err(DomainError::NotFound("session"));
        }
        self.presence.disconnect(actor.user_id);
        Ok(())
    }

    /// Ends every session of the actor's but the current one; returns how many ended.
    pub async fn end_my_other_sessions(&self, actor: &Actor) -> Result<u64, DomainError> {
        let keep = actor.session.clone().ok_or(DomainError::Unauthenticated)?;
        let audit = self.audit_entry(
            Some(actor),
            "session.revoked_others",
            format!("user:{}", actor.user_id.0),
            None,
            None,
        );
        let n = self
            .store
            .end_sessions(actor.user_id, SessionSelector::AllBut(keep), audit)
            .await?;
        if n > 0 {
            self.presence.disconnect(actor.user_id);
        }
        Ok(n)
    }

    /// An administrator ends all of `user`'s sessions and closes their connections. Needs
    /// user.manage where the person is placed (or organisation-wide), or security.manage.
    pub async fn end_user_sessions(&self, actor: &Actor, user: UserId) -> Result<u64, DomainError> {
        let home = actor.org.home_of(user);
        if !(actor.can(perm::USER_MANAGE, home) || actor.can(perm::SECURITY_MANAGE, None)) {
            return Err(DomainError::MissingPermission(perm::USER_MANAGE.into()));
        }
        if self.store.user(user).await?.is_none() {
            return Err(DomainError::NotFound("user"));
        }
        let audit = self.audit_entry(
            Some(actor),
            "session.revoked_by_admin",
            format!("user:{}", user.0),
            None,
            None,
        );
        let n = self
            .store
            .end_sessions(user, SessionSelector::All, audit)
            .await?;
        self.presence.disconnect(user);
        Ok(n)
    }
}
