//! Org-wide settings the web client follows (`[web]` in the configuration), for signed-in
//! people. App tokens have no use for them and are not given them.

use crate::error::{ApiError, ApiErrors};
use crate::extract::Auth;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(client_settings))
}

/// What the org asks every web client to do.
#[derive(Serialize, ToSchema)]
pub struct ClientSettings {
    /// Overlay the chat area with a faint watermark of the viewer's name and id.
    pub watermark: bool,
}

/// The org's settings for the web client.
#[utoipa::path(get, path = "/client-settings", tag = "users", responses((status = 200, body = ClientSettings), ApiErrors), security(("bearer" = [])))]
pub async fn client_settings(
    State(state): State<AppState>,
    Auth(_actor): Auth,
) -> Result<Json<ClientSettings>, ApiError> {
    Ok(Json(ClientSettings {
        watermark: state.config.web.watermark,
    }))
}
