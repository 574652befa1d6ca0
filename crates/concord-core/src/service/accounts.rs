//! Accounts and sessions: creating users, logging in and out, authenticating tokens.

use super::Services;
use crate::authz::{Actor, OrgAction, authorize_org};
use crate::credentials;
use crate::error::DomainError;
use crate::store::NewUser;
use crate::validate;
use concord_proto::{CreateUserRequest, User, UserId};
use jiff::SignedDuration;

/// Sessions are touched at most this often, so authenticating is usually a read only.
const TOUCH_EVERY: SignedDuration = SignedDuration::from_secs(60);

impl Services {
    /// Creates a user. `actor` is `None` for the CLI, which runs with the operator's authority.
    pub async fn create_user(
        &self,
        actor: Option<&Actor>,
        req: CreateUserRequest,
    ) -> Result<User, DomainError> {
        if let Some(actor) = actor {
            authorize_org(actor, OrgAction::CreateUser)?;
            // No escalation: only org admins create org admins.
            if req.is_admin && !actor.can(crate::org::perm::ROLE_MANAGE, None) {
                return Err(DomainError::MissingPermission(
                    crate::org::perm::ROLE_MANAGE.into(),
                ));
            }
        }
        let username = validate::username(&req.username)?;
        let email = req.email.as_deref().map(validate::email).transpose()?;
        super::security::check_password(&self.limits.accounts, &username, &req.password)?;
        let display_name = match req.display_name.as_deref() {
            Some(d) => validate::label("display_name", d, 64)?,
            None => username.clone(),
        };
        let search_key = super::search_key(&username, &display_name, email.as_deref(), None);
        let password = req.password;
        let password_hash = self
            .hash_job(move || credentials::hash_password(&password))
            .await?
            .map_err(DomainError::Unavailable)?;
        let after =
            serde_json::json!({"username": username, "is_admin": req.is_admin, "guest": req.guest});
        let audit = self.audit_entry(actor, "user.create", "user:{id}".into(), None, Some(after));
        let user = self
            .store
            .create_user(NewUser {
                username,
                email,
                display_name,
                password_hash,
                is_admin: req.is_admin,
                guest: req.guest,
                search_key,
                created_at: self.clock.now(),
                audit: Some(audit),
            })
            .await?;
        if req.is_admin || req.guest {
            self.reload_org().await?;
        }
        self.recompute_rules_for(user.id, actor.map_or(user.id, |a| a.user_id))
            .await?;
        Ok(user)
    }

    /// Ends the session the actor authenticated with.
    pub async fn logout(&self, actor: &Actor) -> Result<(), DomainError> {
        if let Some(hash) = &actor.session {
            let id: String = hash.chars().take(crate::store::SESSION_ID_LEN).collect();
            let audit = self.audit_entry(
                Some(actor),
                "auth.logout",
                format!("user:{}", actor.user_id.0),
                None,
                Some(serde_json::json!({"session": id})),
            );
            let which = crate::store::SessionSelector::One(id);
            self.store.end_sessions(actor.user_id, which, audit).await?;
        }
        Ok(())
    }

    /// Resolves a bearer token to an actor, enforcing idle and absolute expiry. Enrol-only
    /// sessions are refused with [`DomainError::MfaEnrolmentRequired`].
    pub async fn authenticate(&self, token: &str) -> Result<Actor, DomainError> {
        let actor = self.authenticate_for_enrolment(token).await?;
        if token.starts_with(super::security::ENROL_ONLY_PREFIX) {
            return Err(DomainError::MfaEnrolmentRequired);
        }
        Ok(actor)
    }

    /// As [`Services::authenticate`], also accepting enrol-only sessions: for the endpoints
    /// that enrol a second factor, show its state, and log out.
    pub async fn authenticate_for_enrolment(&self, token: &str) -> Result<Actor, DomainError> {
        if token.is_empty() || token.len() > 256 {
            return Err(DomainError::Unauthenticated);
        }
        // App tokens carry their kind in the prefix, so a person's session costs no extra read.
        if token.starts_with(super::apps::APP_TOKEN_PREFIX) {
            return self.authenticate_app(token).await;
        }
        let hash = credentials::token_hash(token);
        let session = self
            .store
            .session(&hash)
            .await?
            .ok_or(DomainError::Unauthenticated)?;
        let now = self.clock.now();
        let idle_deadline = session
            .last_seen_at
            .checked_add(self.limits.session_idle_timeout)
            .unwrap_or(now);
        if now >= session.expires_at || now >= idle_deadline {
            self.store.delete_session(&hash).await?;
            return Err(DomainError::Unauthenticated);
        }
        let user = self
            .store
            .user(session.user_id)
            .await?
            .ok_or(DomainError::Unauthenticated)?;
        if now.duration_since(session.last_seen_at) >= TOUCH_EVERY {
            self.store.touch_session(&hash, now).await?;
        }
        Ok(Actor {
            user_id: user.id,
            session: Some(hash),
            ip: None,
            org: self.org(),
            app: None,
        })
    }

    /// A person's name card. The directory may see everyone's; guests only those they share
    /// a channel with (whose names they need). The full profile needs `directory.read`.
    pub async fn user(&self, actor: &Actor, id: UserId) -> Result<User, DomainError> {
        // Without the directory (guests), only themselves and people they share a channel
        // with; anyone else is reported missing, so ids reveal nothing.
        if id != actor.user_id
            && !actor.can(crate::org::perm::DIRECTORY_READ, None)
            && !self.store.share_a_channel(actor.user_id, id).await?
        {
            return Err(DomainError::NotFound("user"));
        }
        self.store
            .user(id)
            .await?
            .ok_or(DomainError::NotFound("user"))
    }

    pub(crate) fn page_limit(&self, limit: Option<i64>) -> Result<i64, DomainError> {
        match limit {
            None => Ok(50),
            Some(l) if (1..=self.limits.history_page_max).contains(&l) => Ok(l),
            Some(_) => Err(DomainError::invalid(
                "limit",
                format!("must be between 1 and {}", self.limits.history_page_max),
            )),
        }
    }
}
