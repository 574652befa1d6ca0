//! Apps: install (a bot account and a scoped token, shown once), list, rotate the token,
//! uninstall; and the scope catalogue. All need `app.install` and a person's session.

use crate::error::{ApiError, ApiErrors};
use crate::extract::{ApiJson, ApiPath, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use concord_proto::{App, AppId, AppScope, AppWithToken, InstallAppRequest};

/// The scopes an app may be granted.
#[utoipa::path(get, path = "/apps/scopes", tag = "apps", responses((status = 200, body = Vec<AppScope>), ApiErrors), security(("bearer" = [])))]
pub async fn app_scopes(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<Vec<AppScope>>, ApiError> {
    Ok(Json(state.services.app_scopes(&actor)?))
}

/// Installed apps.
#[utoipa::path(get, path = "/apps", tag = "apps", responses((status = 200, body = Vec<App>), ApiErrors), security(("bearer" = [])))]
pub async fn list_apps(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<Vec<App>>, ApiError> {
    Ok(Json(state.services.list_apps(&actor).await?))
}

/// Installs an app with the scopes consented to: creates its bot account and returns its
/// token, which is shown only this once (audited as `app.install`).
#[utoipa::path(post, path = "/apps", tag = "apps", request_body = InstallAppRequest, responses((status = 201, body = AppWithToken), ApiErrors), security(("bearer" = [])))]
pub async fn install_app(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<InstallAppRequest>,
) -> Result<(StatusCode, Json<AppWithToken>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.install_app(&actor, req).await?),
    ))
}

#[utoipa::path(get, path = "/apps/{app_id}", tag = "apps", params(("app_id" = i64, Path)), responses((status = 200, body = App), ApiErrors), security(("bearer" = [])))]
pub async fn get_app(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<App>, ApiError> {
    Ok(Json(state.services.get_app(&actor, AppId(id)).await?))
}

/// Uninstalls an app: revokes its token and deactivates its bot account (its messages stay).
#[utoipa::path(delete, path = "/apps/{app_id}", tag = "apps", params(("app_id" = i64, Path)), responses((status = 204), ApiErrors), security(("bearer" = [])))]
pub async fn uninstall_app(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state.services.uninstall_app(&actor, AppId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revokes the app's token and issues a new one, shown only this once.
#[utoipa::path(post, path = "/apps/{app_id}/token", tag = "apps", params(("app_id" = i64, Path)), responses((status = 200, body = AppWithToken), ApiErrors), security(("bearer" = [])))]
pub async fn rotate_app_token(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AppWithToken>, ApiError> {
    Ok(Json(
        state.services.rotate_app_token(&actor, AppId(id)).await?,
    ))
}
