//! Channels, DMs and membership.

use crate::error::{ApiError, ApiErrors};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use concord_proto::{
    Channel, ChannelId, ChannelPage, CreateChannelRequest, InviteRequest, Member, MyChannel,
    OpenDmRequest, PageQuery, UpdateChannelRequest, UserId,
};
use serde::Serialize;
use utoipa::ToSchema;

/// The caller's channels and DMs, with unread and mention counts.
#[utoipa::path(get, path = "/channels", tag = "channels", responses((status = 200, body = Vec<MyChannel>), ApiErrors), security(("bearer" = [])))]
pub async fn my_channels(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<Vec<MyChannel>>, ApiError> {
    Ok(Json(state.services.my_channels(&actor).await?))
}

/// Creates a public or private channel; the creator is its admin.
#[utoipa::path(
    post,
    path = "/channels",
    tag = "channels",
    request_body = CreateChannelRequest,
    responses((status = 201, body = Channel), ApiErrors),
    security(("bearer" = []))
)]
pub async fn create_channel(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<CreateChannelRequest>,
) -> Result<(StatusCode, Json<Channel>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.create_channel(&actor, req).await?),
    ))
}

/// Public channels anyone may join, by id.
#[utoipa::path(
    get,
    path = "/channels/browse",
    tag = "channels",
    params(PageQuery),
    responses((status = 200, body = ChannelPage), ApiErrors),
    security(("bearer" = []))
)]
pub async fn browse_channels(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ChannelPage>, ApiError> {
    let channels = state
        .services
        .browse_channels(&actor, q.after, q.limit)
        .await?;
    let full = channels.len() as i64 == q.limit.unwrap_or(50);
    let next_after = if full {
        channels.last().map(|c| c.id)
    } else {
        None
    };
    Ok(Json(ChannelPage {
        channels,
        next_after,
    }))
}

/// One channel (public, or one the caller is a member of).
#[utoipa::path(
    get,
    path = "/channels/{channel_id}",
    tag = "channels",
    params(("channel_id" = i64, Path)),
    responses((status = 200, body = Channel), ApiErrors),
    security(("bearer" = []))
)]
pub async fn get_channel(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Channel>, ApiError> {
    Ok(Json(state.services.channel(&actor, ChannelId(id)).await?))
}

/// Renames a channel or changes its topic or purpose (channel or org admins).
#[utoipa::path(
    patch,
    path = "/channels/{channel_id}",
    tag = "channels",
    params(("channel_id" = i64, Path)),
    request_body = UpdateChannelRequest,
    responses((status = 200, body = Channel), ApiErrors),
    security(("bearer" = []))
)]
pub async fn update_channel(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateChannelRequest>,
) -> Result<Json<Channel>, ApiError> {
    Ok(Json(
        state
            .services
            .update_channel(&actor, ChannelId(id), req)
            .await?,
    ))
}

/// Joins a public channel.
#[utoipa::path(
    post,
    path = "/channels/{channel_id}/join",
    tag = "channels",
    params(("channel_id" = i64, Path)),
    responses((status = 204, description = "joined"), ApiErrors),
    security(("bearer" = []))
)]
pub async fn join_channel(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state.services.join_channel(&actor, ChannelId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leaves a channel (not a DM).
#[utoipa::path(
    post,
    path = "/channels/{channel_id}/leave",
    tag = "channels",
    params(("channel_id" = i64, Path)),
    responses((status = 204, description = "left"), ApiErrors),
    security(("bearer" = []))
)]
pub async fn leave_channel(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state.services.leave_channel(&actor, ChannelId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Members of a channel.
#[utoipa::path(
    get,
    path = "/channels/{channel_id}/members",
    tag = "channels",
    params(("channel_id" = i64, Path)),
    responses((status = 200, body = Vec<Member>), ApiErrors),
    security(("bearer" = []))
)]
pub async fn list_members(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<Member>>, ApiError> {
    Ok(Json(state.services.members(&actor, ChannelId(id)).await?))
}

#[derive(Serialize, ToSchema)]
pub struct InviteResponse {
    /// Users who were not members before.
    pub added: Vec<UserId>,
}

/// Invites users (members may invite; not DMs).
#[utoipa::path(
    post,
    path = "/channels/{channel_id}/members",
    tag = "channels",
    params(("channel_id" = i64, Path)),
    request_body = InviteRequest,
    responses((status = 200, body = InviteResponse), ApiErrors),
    security(("bearer" = []))
)]
pub async fn invite_members(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<InviteRequest>,
) -> Result<Json<InviteResponse>, ApiError> {
    let added = state
        .services
        .invite(&actor, ChannelId(id), &req.user_ids)
        .await?;
    Ok(Json(InviteResponse { added }))
}

/// Removes a member (channel or org admins; anyone may remove themselves).
#[utoipa::path(
    delete,
    path = "/channels/{channel_id}/members/{user_id}",
    tag = "channels",
    params(("channel_id" = i64, Path), ("user_id" = i64, Path)),
    responses((status = 204, description = "removed"), ApiErrors),
    security(("bearer" = []))
)]
pub async fn remove_member(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, user)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .remove_member(&actor, ChannelId(id), UserId(user))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Opens a DM (one other user) or group DM (up to seven others), or returns the existing one.
#[utoipa::path(
    post,
    path = "/dms",
    tag = "channels",
    request_body = OpenDmRequest,
    responses((status = 200, body = Channel), ApiErrors),
    security(("bearer" = []))
)]
pub async fn open_dm(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<OpenDmRequest>,
) -> Result<Json<Channel>, ApiError> {
    Ok(Json(state.services.open_dm(&actor, &req.user_ids).await?))
}
