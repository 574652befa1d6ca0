//! Sign-in security for the signed-in user: the TOTP second factor (enrol, confirm, disable,
//! state) and sessions (list, end one, end all others); and administrators ending someone's
//! sessions. The second-factor endpoints also admit enrol-only sessions.

use crate::error::{ApiError, ApiErrors};
use crate::extract::{ApiJson, ApiPath, Auth, EnrolAuth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use concord_proto::UserId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The signed-in user's second factor.
#[derive(Serialize, ToSchema)]
pub struct MfaStatus {
    /// A TOTP second factor is in force.
    pub totp_enabled: bool,
    /// Enrolment was started and waits for a code.
    pub totp_pending: bool,
    pub recovery_codes_left: i64,
    /// The organisation's policy requires a second factor for this user.
    pub required: bool,
}

/// A new TOTP secret: type `secret` into an authenticator or show `otpauth_uri` as a QR code,
/// then confirm with a code.
#[derive(Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32.
    pub secret: String,
    pub otpauth_uri: String,
}

/// A code from the authenticator app (6 digits) or, where allowed, a recovery code.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub code: String,
}

/// Single-use recovery codes, shown only once: keep them somewhere safe.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// A session of the signed-in user.
#[derive(Serialize, ToSchema)]
pub struct SessionInfo {
    /// Names the session for `DELETE /users/me/sessions/{session_id}` (not a token).
    pub id: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: jiff::Timestamp,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The session this request was made with.
    pub current: bool,
    /// May only enrol a second factor.
    pub enrol_only: bool,
}

/// How many sessions were ended.
#[derive(Serialize, ToSchema)]
pub struct SessionsEnded {
    pub ended: u64,
}

/// The signed-in user's second factor.
#[utoipa::path(get, path = "/users/me/mfa", tag = "auth", responses((status = 200, body = MfaStatus), ApiErrors), security(("bearer" = [])))]
pub async fn mfa_status(
    State(state): State<AppState>,
    EnrolAuth(actor): EnrolAuth,
) -> Result<Json<MfaStatus>, ApiError> {
    let (totp_enabled, totp_pending, recovery_codes_left, required) =
        state.services.mfa_status(&actor).await?;
    Ok(Json(MfaStatus {
        totp_enabled,
        totp_pending,
        recovery_codes_left,
        required,
    }))
}

/// Starts TOTP enrolment (RFC 6238: SHA-1, 6 digits, 30 s): a new secret, in force once a
/// code confirms it. Starting again replaces a pending secret; 409 if one is enabled.
#[utoipa::path(post, path = "/users/me/mfa/totp", tag = "auth", responses((status = 201, body = TotpEnrolment), ApiErrors), security(("bearer" = [])))]
pub async fn begin_totp(
    State(state): State<AppState>,
    EnrolAuth(actor): EnrolAuth,
) -> Result<(StatusCode, Json<TotpEnrolment>), ApiError> {
    let e = state.services.begin_totp(&actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(TotpEnrolment {
            secret: e.secret,
            otpauth_uri: e.otpauth_uri,
        }),
    ))
}

/// Confirms enrolment with a current code; answers ten single-use recovery codes. From then
/// on, logging in takes the password and a code. An enrol-only session stays enrol-only:
/// sign in again.
#[utoipa::path(post, path = "/users/me/mfa/totp/confirm", tag = "auth", request_body = CodeRequest, responses((status = 200, body = RecoveryCodes), ApiErrors), security(("bearer" = [])))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    EnrolAuth(actor): EnrolAuth,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let recovery_codes = state.services.confirm_totp(&actor, &req.code).await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// Turns the second factor off, given a current code or a recovery code. 403 while the
/// organisation's policy requires one.
#[utoipa::path(post, path = "/users/me/mfa/totp/disable", tag = "auth", request_body = CodeRequest, responses((status = 204, description = "disabled"), ApiErrors), security(("bearer" = [])))]
pub async fn disable_totp(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<StatusCode, ApiError> {
    state.services.disable_totp(&actor, &req.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user's live sessions, newest first, the current one marked.
#[utoipa::path(get, path = "/users/me/sessions", tag = "auth", responses((status = 200, body = Vec<SessionInfo>), ApiErrors), security(("bearer" = [])))]
pub async fn my_sessions(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<Vec<SessionInfo>>, ApiError> {
    let sessions = state.services.my_sessions(&actor).await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| SessionInfo {
                id: s.id,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
                ip: s.ip,
                user_agent: s.user_agent,
                current: s.current,
                enrol_only: s.enrol_only,
            })
            .collect(),
    ))
}

/// Ends every session of the signed-in user except the current one.
#[utoipa::path(delete, path = "/users/me/sessions", tag = "auth", responses((status = 200, body = SessionsEnded), ApiErrors), security(("bearer" = [])))]
pub async fn end_other_sessions(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<SessionsEnded>, ApiError> {
    Ok(Json(SessionsEnded {
        ended: state.services.end_my_other_sessions(&actor).await?,
    }))
}

/// Ends one of the signed-in user's sessions (the current one too, like logging out).
#[utoipa::path(delete, path = "/users/me/sessions/{session_id}", tag = "auth", params(("session_id" = String, Path, description = "session id")), responses((status = 204, description = "ended"), ApiErrors), security(("bearer" = [])))]
pub async fn end_session(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.services.end_my_session(&actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends all of a person's sessions and closes their connections (user.manage where they are
/// placed, or security.manage).
#[utoipa::path(delete, path = "/users/{user_id}/sessions", tag = "users", params(("user_id" = i64, Path)), responses((status = 200, body = SessionsEnded), ApiErrors), security(("bearer" = [])))]
pub async fn end_user_sessions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SessionsEnded>, ApiError> {
    Ok(Json(SessionsEnded {
        ended: state.services.end_user_sessions(&actor, UserId(id)).await?,
    }))
}
