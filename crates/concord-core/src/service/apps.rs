//! Apps: an admin with `app.install` installs an app (its bot user and a scoped token, shown
//! once), lists, rotates the token of, and uninstalls apps; every change is audited in the
//! transaction that makes it. App tokens (`ccb_...`) authenticate as the bot user with the
//! token's scopes (see [`crate::authz::AppAccess`]).

use super::Services;
use crate::authz::{Actor, AppGrant};
use crate::credentials;
use crate::error::DomainError;
use crate::org::perm;
use crate::store::{AppRecord, NewApp, NewUser, StoreError};
use crate::validate;
use concord_proto::{App, AppId, AppScope, AppWithToken, InstallAppRequest};
use std::sync::Arc;

/// Token prefix of app tokens (sessions use `cct_`), so authenticating tells the kinds apart
/// without a read, and secret scanners recognise a leaked bot token.
pub const APP_TOKEN_PREFIX: &str = "ccb_";
/// Longest app description.
const MAX_DESCRIPTION_CHARS: usize = 500;

fn new_app_token() -> String {
    let token = credentials::new_token();
    format!("{APP_TOKEN_PREFIX}{}", &token[4..])
}

fn app_view(r: AppRecord) -> App {
    App {
        id: r.id,
        name: r.name,
        description: r.description,
        scopes: r.scopes,
        bot_user: r.bot_user,
        installed_by: r.installed_by,
        installed_at: r.installed_at,
        token_issued_at: r.token_issued_at,
    }
}

/// What the audit log keeps of an app (never its token).
fn audit_view(r: &AppRecord) -> serde_json::Value {
    serde_json::json!({
        "name": r.name,
        "scopes": r.scopes,
        "bot_user_id": r.bot_user.id,
        "bot_username": r.bot_user.username,
    })
}

impl Services {
    /// The scope catalogue, for an installer to choose from.
    pub fn app_scopes(&self, actor: &Actor) -> Result<Vec<AppScope>, DomainError> {
        actor.require(perm::APP_INSTALL, None)?;
        Ok(crate::scope::CATALOGUE
            .iter()
            .map(|s| AppScope {
                name: s.name.into(),
                description: s.description.into(),
            })
            .collect())
    }

    /// Installs an app: its bot user, its scopes (consented to by the installer, who must
    /// hold any permission a scope carries) and a token, returned once.
    pub async fn install_app(
        &self,
        actor: &Actor,
        req: InstallAppRequest,
    ) -> Result<AppWithToken, DomainError> {
        actor.require(perm::APP_INSTALL, None)?;
        let name = validate::label("name", &req.name, 64)?;
        let username = validate::username(&req.username)?;
        let description =
            validate::optional_text("description", &req.description, MAX_DESCRIPTION_CHARS)?;
        if req.scopes.len() > crate::scope::CATALOGUE.len() * 2 {
            return Err(DomainError::invalid("scopes", "too many scopes"));
        }
        let mut scopes = Vec::new();
        for raw in &req.scopes {
            let info = crate::scope::lookup(raw)
                .ok_or_else(|| DomainError::invalid("scopes", format!("unknown scope {raw:?}")))?;
            // No escalation: a scope's own permission is granted only by someone holding it.
            if let Some(p) = info.carries
                && !actor.can(p, None)
            {
                return Err(DomainError::MissingPermission(p.into()));
            }
            scopes.push(info.name.to_string());
        }
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(DomainError::invalid("scopes", "choose at least one scope"));
        }
        let token = new_app_token();
        let now = self.clock.now();
        let after = serde_json::json!({
            "name": name,
            "description": description,
            "scopes": scopes,
            "bot_username": username,
        });
        let audit = self.audit_entry(
            Some(actor),
            "app.install",
            "app:{id}".into(),
            None,
            Some(after),
        );
        let bot = NewUser {
            search_key: super::search_key(&username, &name, None, None),
            username,
            email: None,
            display_name: name.clone(),
            // Verifies no password: a bot never signs in.
            password_hash: String::new(),
            is_admin: false,
            guest: false,
            created_at: now,
            audit: None,
        };
        let record = self
            .store
            .install_app(NewApp {
                name,
                description,
                scopes,
                bot,
                token_hash: credentials::token_hash(&token),
                installed_by: Some(actor.user_id),
                at: now,
                audit,
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    DomainError::Conflict("that username is already taken".into())
                }
                other => other.into(),
            })?;
        Ok(AppWithToken {
            app: app_view(record),
            token,
        })
    }

    pub async fn list_apps(&self, actor: &Actor) -> Result<Vec<App>, DomainError> {
        actor.require(perm::APP_INSTALL, None)?;
        Ok(self.store.apps().await?.into_iter().map(app_view).collect())
    }

    async fn installed_app(&self, id: AppId) -> Result<AppRecord, DomainError> {
        self.store
            .app(id)
            .await?
            .ok_or(DomainError::NotFound("app"))
    }

    pub async fn get_app(&self, actor: &Actor, id: AppId) -> Result<App, DomainError> {
        actor.require(perm::APP_INSTALL, None)?;
        Ok(app_view(self.installed_app(id).await?))
    }

    /// Revokes the app's token and issues a new one, returned once; closes connections
    /// opened with the old token.
    pub async fn rotate_app_token(
        &self,
        actor: &Actor,
        id: AppId,
    ) -> Result<AppWithToken, DomainError> {
        actor.require(perm::APP_INSTALL, None)?;
        let before = self.installed_app(id).await?;
        let token = new_app_token();
        let audit = self.audit_entry(
            Some(actor),
            "app.token_rotate",
            format!("app:{}", id.0),
            Some(audit_view(&before)),
            None,
        );
        let now = self.clock.now();
        self.store
            .rotate_app_token(id, credentials::token_hash(&token), now, audit)
            .await?;
        self.presence.disconnect(before.bot_user.id);
        Ok(AppWithToken {
            app: app_view(self.installed_app(id).await?),
            token,
        })
    }

    /// Uninstalls the app: revokes its tokens, deactivates its bot user (keeping its
    /// messages) and closes its connections.
    pub async fn uninstall_app(&self, actor: &Actor, id: AppId) -> Result<(), DomainError> {
        actor.require(perm::APP_INSTALL, None)?;
        let before = self.installed_app(id).await?;
        let audit = self.audit_entry(
            Some(actor),
            "app.uninstall",
            format!("app:{}", id.0),
            Some(audit_view(&before)),
            None,
        );
        self.store
            .uninstall_app(id, self.clock.now(), audit)
            .await?;
        self.presence.disconnect(before.bot_user.id);
        Ok(())
    }

    /// Resolves an app token to its bot user with the token's scopes.
    pub(super) async fn authenticate_app(&self, token: &str) -> Result<Actor, DomainError> {
        let grant = self
            .store
            .app_token(&credentials::token_hash(token))
            .await?
            .ok_or(DomainError::Unauthenticated)?;
        Ok(Actor {
            user_id: grant.bot_user_id,
            session: None,
            ip: None,
            org: self.org(),
            app: Some(Arc::new(AppGrant::new(grant.app_id, &grant.scopes))),
        })
    }
}
