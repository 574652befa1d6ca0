//! Dynamic membership: a channel's membership rule (with a preview) and geofence, and the
//! location reports that drive geofences.

use crate::error::{ApiError, ApiErrors};
use crate::extract::{ApiJson, ApiPath, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use concord_proto::{
    ChannelDlp, ChannelId, Geofence, LocationOutcome, LocationReport, MembershipPreview,
    MembershipRule, SetChannelDlpRequest,
};

/// The channel's membership rule (channel admins).
#[utoipa::path(get, path = "/channels/{channel_id}/membership-rule", tag = "channels", params(("channel_id" = i64, Path)), responses((status = 200, body = MembershipRule), ApiErrors), security(("bearer" = [])))]
pub async fn get_rule(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<MembershipRule>, ApiError> {
    Ok(Json(
        state
            .services
            .membership_rule(&actor, ChannelId(id))
            .await?,
    ))
}

/// Saves the rule and applies it: people it selects join, people it added and no longer
/// selects leave; people added by hand stay. Answers who joined and who left.
#[utoipa::path(put, path = "/channels/{channel_id}/membership-rule", tag = "channels", params(("channel_id" = i64, Path)), request_body = MembershipRule, responses((status = 200, body = MembershipPreview), ApiErrors), security(("bearer" = [])))]
pub async fn set_rule(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(rule): ApiJson<MembershipRule>,
) -> Result<Json<MembershipPreview>, ApiError> {
    Ok(Json(
        state
            .services
            .set_membership_rule(&actor, ChannelId(id), rule)
            .await?,
    ))
}

/// Removes the rule; the members it added stay.
#[utoipa::path(delete, path = "/channels/{channel_id}/membership-rule", tag = "channels", params(("channel_id" = i64, Path)), responses((status = 204), ApiErrors), security(("bearer" = [])))]
pub async fn delete_rule(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .delete_membership_rule(&actor, ChannelId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who would join and who would leave if this rule were saved; changes nothing.
#[utoipa::path(post, path = "/channels/{channel_id}/membership-rule/preview", tag = "channels", params(("channel_id" = i64, Path)), request_body = MembershipRule, responses((status = 200, body = MembershipPreview), ApiErrors), security(("bearer" = [])))]
pub async fn preview_rule(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(rule): ApiJson<MembershipRule>,
) -> Result<Json<MembershipPreview>, ApiError> {
    Ok(Json(
        state
            .services
            .preview_membership_rule(&actor, ChannelId(id), rule)
            .await?,
    ))
}

/// The channel's geofence (GeoJSON Polygon or MultiPolygon; channel admins).
#[utoipa::path(get, path = "/channels/{channel_id}/geofence", tag = "channels", params(("channel_id" = i64, Path)), responses((status = 200, body = Geofence), ApiErrors), security(("bearer" = [])))]
pub async fn get_geofence(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Geofence>, ApiError> {
    Ok(Json(state.services.geofence(&actor, ChannelId(id)).await?))
}

/// Attaches a geofence: people whose reported location is inside join; they leave after
/// staying outside for the configured dwell time. Invalid shapes get a 400 saying what is wrong.
#[utoipa::path(put, path = "/channels/{channel_id}/geofence", tag = "channels", params(("channel_id" = i64, Path)), request_body = Geofence, responses((status = 200, body = Geofence), ApiErrors), security(("bearer" = [])))]
pub async fn set_geofence(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(fence): ApiJson<Geofence>,
) -> Result<Json<Geofence>, ApiError> {
    Ok(Json(
        state
            .services
            .set_geofence(&actor, ChannelId(id), fence)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/channels/{channel_id}/geofence", tag = "channels", params(("channel_id" = i64, Path)), responses((status = 204), ApiErrors), security(("bearer" = [])))]
pub async fn delete_geofence(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .delete_geofence(&actor, ChannelId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reports the caller's location (opt in first with `PATCH /users/me {"location_sharing": true}`).
/// Only the latest report is kept, for a short time.
#[utoipa::path(post, path = "/me/location", tag = "users", request_body = LocationReport, responses((status = 200, body = LocationOutcome), ApiErrors), security(("bearer" = [])))]
pub async fn report_location(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(report): ApiJson<LocationReport>,
) -> Result<Json<LocationOutcome>, ApiError> {
    Ok(Json(state.services.report_location(&actor, report).await?))
}

/// The channel's DLP policy (members).
#[utoipa::path(get, path = "/channels/{channel_id}/dlp", tag = "channels", params(("channel_id" = i64, Path)), responses((status = 200, body = ChannelDlp), ApiErrors), security(("bearer" = [])))]
pub async fn get_dlp(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ChannelDlp>, ApiError> {
    Ok(Json(
        state.services.channel_dlp(&actor, ChannelId(id)).await?,
    ))
}

/// Sets the channel's DLP action (`off`, `mask`, `block`; `null` follows the org default).
/// Channel admins holding `channel.manage_any`.
#[utoipa::path(put, path = "/channels/{channel_id}/dlp", tag = "channels", params(("channel_id" = i64, Path)), request_body = SetChannelDlpRequest, responses((status = 200, body = ChannelDlp), ApiErrors), security(("bearer" = [])))]
pub async fn set_dlp(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<SetChannelDlpRequest>,
) -> Result<Json<ChannelDlp>, ApiError> {
    Ok(Json(
        state
            .services
            .set_channel_dlp(&actor, ChannelId(id), req.action)
            .await?,
    ))
}
