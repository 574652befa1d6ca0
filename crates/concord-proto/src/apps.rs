//! Apps on the wire: installing an app (its bot account and scoped token), the installed
//! apps an admin sees, and the scope catalogue.

use crate::ids::{AppId, UserId};
use crate::model::User;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One scope an app may be granted: what its token may be used for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AppScope {
    /// E.g. `messages:write`.
    pub name: String,
    pub description: String,
}

/// Installs an app: creates its bot account (`username`, shown as `name`) and issues its token.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallAppRequest {
    /// The app's name, also the bot's display name (1-64 characters).
    pub name: String,
    /// The bot account's username (the rules of usernames; must be free).
    pub username: String,
    #[serde(default)]
    pub description: String,
    /// Scopes from the catalogue (`GET /api/v1/apps/scopes`); the installer consents to them.
    pub scopes: Vec<String>,
}

/// An installed app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct App {
    pub id: AppId,
    pub name: String,
    pub description: String,
    /// The scopes granted at install, sorted.
    pub scopes: Vec<String>,
    /// The bot account the app acts as (`is_bot`).
    pub bot_user: User,
    pub installed_by: Option<UserId>,
    #[schema(value_type = String, format = DateTime)]
    pub installed_at: Timestamp,
    /// When the current token was issued.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub token_issued_at: Option<Timestamp>,
}

/// An app with its new token: shown once (at install and after rotation), stored only hashed.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AppWithToken {
    pub app: App,
    /// `ccb_...`: send as `Authorization: Bearer <token>`.
    pub token: String,
}
