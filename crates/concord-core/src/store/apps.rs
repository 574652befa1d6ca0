//! Apps the store keeps: installed apps with their bot users, and their tokens (hashed).
//! A sub-trait of [`super::Store`], so the feature's methods sit together.

use super::{NewAudit, NewUser, StoreError};
use async_trait::async_trait;
use concord_proto::{AppId, User, UserId};
use jiff::Timestamp;

/// An app to install: the app, its bot user and its first token, written with the audit entry
/// in one transaction (`{id}` in the audit target becomes the app's id).
#[derive(Clone, Debug)]
pub struct NewApp {
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
    /// Created with `is_bot` set and a password hash that verifies nothing.
    pub bot: NewUser,
    pub token_hash: String,
    pub installed_by: Option<UserId>,
    pub at: Timestamp,
    pub audit: NewAudit,
}

/// An installed app as stored.
#[derive(Clone, Debug)]
pub struct AppRecord {
    pub id: AppId,
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub bot_user: User,
    pub installed_by: Option<UserId>,
    pub installed_at: Timestamp,
    /// When the live token was issued (`None` if it has none).
    pub token_issued_at: Option<Timestamp>,
}

/// What a live app token resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppTokenGrant {
    pub app_id: AppId,
    pub bot_user_id: UserId,
    pub scopes: Vec<String>,
}

#[async_trait]
pub trait AppStore: Send + Sync + 'static {
    /// Creates the bot user, the app and its token; `Conflict` when the username is taken.
    async fn install_app(&self, app: NewApp) -> Result<AppRecord, StoreError>;
    /// Installed apps, by id.
    async fn apps(&self) -> Result<Vec<AppRecord>, StoreError>;
    /// An installed app.
    async fn app(&self, id: AppId) -> Result<Option<AppRecord>, StoreError>;
    /// Revokes the app's live tokens and stores a new one; `NotFound` unless installed.
    async fn rotate_app_token(
        &self,
        id: AppId,
        token_hash: String,
        at: Timestamp,
        audit: NewAudit,
    ) -> Result<(), StoreError>;
    /// Marks the app uninstalled, revokes its tokens and deactivates its bot user (its
    /// messages stay); `NotFound` unless installed.
    async fn uninstall_app(
        &self,
        id: AppId,
        at: Timestamp,
        audit: NewAudit,
    ) -> Result<(), StoreError>;
    /// The grant of a live token of an installed app whose bot user is active.
    async fn app_token(&self, token_hash: &str) -> Result<Option<AppTokenGrant>, StoreError>;
}
