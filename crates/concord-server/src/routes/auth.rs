//! Logging in and out.

use crate::error::{ApiError, ApiErrors};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use concord_proto::{LoginRequest, LoginResponse};
use std::net::SocketAddr;

/// Logs in with a username or email and a password; returns a bearer token.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), ApiErrors)
)]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    state
        .limiters
        .check_login(peer.ip(), &req.login)
        .map_err(ApiError::rate_limited)?;
    Ok(Json(state.services.login(&req.login, &req.password).await?))
}

/// Ends the current session; its token stops working at once.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    responses((status = 204, description = "logged out"), ApiErrors),
    security(("bearer" = []))
)]
pub async fn logout(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<StatusCode, ApiError> {
    state.services.logout(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
