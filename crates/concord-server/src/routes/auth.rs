//! Logging in (one step, or two with a second factor) and out.

use crate::error::{ApiError, ApiErrors};
use crate::extract::{ApiJson, ClientInfo, EnrolAuth};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use concord_core::service::LoginOutcome;
use concord_proto::{ErrorDetail, LoginRequest, LoginResponse};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;

/// The first step's answer for an account with a second factor (status 401,
/// code `mfa_required`): send a code with `mfa_token` to `/auth/login/mfa`.
#[derive(Serialize, ToSchema)]
pub struct MfaRequiredBody {
    pub error: ErrorDetail,
    /// Valid for five minutes, for one successful code.
    pub mfa_token: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: jiff::Timestamp,
}

/// The second step of a two-step login.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MfaLoginRequest {
    pub mfa_token: String,
    /// The 6-digit code from the authenticator, or an unused recovery code.
    pub code: String,
}

/// Logs in with a username or email and a password; returns a bearer token. If the account
/// has a second factor, answers 401 `mfa_required` with an `mfa_token` for
/// `/auth/login/mfa`. If the organisation requires a second factor the account lacks, the
/// token is for an enrol-only session (`"mfa_enrolment_required": true`): it may only enrol
/// (`/users/me/mfa/...`) and log out. After `security.max_failed_logins` failures in a row the
/// account is locked (423 `account_locked`, `Retry-After`).
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "`bad_credentials`, or `mfa_required` with an `mfa_token`", body = MfaRequiredBody),
        ApiErrors
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ClientInfo(ctx): ClientInfo,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    state
        .limiters
        .check_login(peer.ip(), &req.login)
        .map_err(ApiError::rate_limited)?;
    Ok(
        match state.services.login(&req.login, &req.password, ctx).await? {
            LoginOutcome::Session(r) => Json(r).into_response(),
            LoginOutcome::EnrolmentRequired(r) => {
                let mut body = serde_json::to_value(r).unwrap_or_default();
                body["mfa_enrolment_required"] = serde_json::Value::Bool(true);
                Json(body).into_response()
            }
            LoginOutcome::MfaRequired {
                mfa_token,
                expires_at,
            } => {
                let body = MfaRequiredBody {
                error: ErrorDetail {
                    code: "mfa_required".into(),
                    message: "this account has a second factor: send the code with mfa_token to /api/v1/auth/login/mfa".into(),
                },
                mfa_token,
                expires_at,
            };
                (StatusCode::UNAUTHORIZED, Json(body)).into_response()
            }
        },
    )
}

/// The second step: the code from the authenticator app (or a recovery code, each usable
/// once) for the `mfa_token` of the first step. Wrong codes count towards the lockout.
#[utoipa::path(
    post,
    path = "/auth/login/mfa",
    tag = "auth",
    request_body = MfaLoginRequest,
    responses((status = 200, body = LoginResponse), ApiErrors)
)]
pub async fn login_mfa(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ClientInfo(ctx): ClientInfo,
    ApiJson(req): ApiJson<MfaLoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    state
        .limiters
        .check_login(peer.ip(), &req.mfa_token)
        .map_err(ApiError::rate_limited)?;
    Ok(Json(
        state
            .services
            .login_mfa(&req.mfa_token, &req.code, ctx)
            .await?,
    ))
}

/// Ends the current session (enrol-only sessions too); its token stops working at once.
#[utoipa::path(
    post,
    path = "/auth/logout",
    tag = "auth",
    responses((status = 204, description = "logged out"), ApiErrors),
    security(("bearer" = []))
)]
pub async fn logout(
    State(state): State<AppState>,
    EnrolAuth(actor): EnrolAuth,
) -> Result<StatusCode, ApiError> {
    state.services.logout(&actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
