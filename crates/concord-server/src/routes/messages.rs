//! Messages, threads, reactions, pins, read state and typing.

use crate::error::{ApiError, ApiErrors};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use concord_core::Audience;
use concord_core::service::SendInput;
use concord_proto::{
    ChannelId, EditMessageRequest, Event, HistoryPage, HistoryQuery, MarkReadRequest, Message,
    MessageId, MessageVersion, SendMessageRequest, ThreadPage, TypingRequest,
};
use serde::Serialize;
use utoipa::ToSchema;

/// A page of history around a sequence number or time, or the newest page.
#[utoipa::path(
    get,
    path = "/channels/{channel_id}/messages",
    tag = "messages",
    params(("channel_id" = i64, Path), HistoryQuery),
    responses((status = 200, body = HistoryPage), ApiErrors),
    security(("bearer" = []))
)]
pub async fn history(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Json<HistoryPage>, ApiError> {
    Ok(Json(
        state.services.history(&actor, ChannelId(id), q).await?,
    ))
}

/// Sends a message. `201` when new; `200` with the original when `client_msg_id` was used
/// before. Acknowledged only once durably committed.
#[utoipa::path(
    post,
    path = "/channels/{channel_id}/messages",
    tag = "messages",
    params(("channel_id" = i64, Path)),
    request_body = SendMessageRequest,
    responses(
        (status = 201, body = Message, description = "sent"),
        (status = 200, body = Message, description = "a retry: the original message"),
        ApiErrors
    ),
    security(("bearer" = []))
)]
pub async fn send_message(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<SendMessageRequest>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    state
        .limiters
        .check_send(actor.user_id)
        .map_err(ApiError::rate_limited)?;
    let input = SendInput {
        text: req.text,
        client_msg_id: req.client_msg_id,
        thread_root_id: req.thread_root_id,
        file_ids: req.file_ids,
    };
    let (message, created) = state
        .services
        .send_message(&actor, ChannelId(id), input)
        .await?;
    if created {
        metrics::counter!("concord_messages_sent_total").increment(1);
    }
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(message),
    ))
}

/// Pinned messages, newest pin first.
#[utoipa::path(
    get,
    path = "/channels/{channel_id}/pins",
    tag = "messages",
    params(("channel_id" = i64, Path)),
    responses((status = 200, body = Vec<Message>), ApiErrors),
    security(("bearer" = []))
)]
pub async fn pinned(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<Message>>, ApiError> {
    Ok(Json(
        state
            .services
            .pinned_messages(&actor, ChannelId(id))
            .await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct ReadState {
    pub last_read_seq: i64,
}

/// Marks the channel read up to `seq` (a smaller `seq` marks later messages unread).
#[utoipa::path(
    post,
    path = "/channels/{channel_id}/read",
    tag = "messages",
    params(("channel_id" = i64, Path)),
    request_body = MarkReadRequest,
    responses((status = 200, body = ReadState), ApiErrors),
    security(("bearer" = []))
)]
pub async fn mark_read(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<MarkReadRequest>,
) -> Result<Json<ReadState>, ApiError> {
    let last_read_seq = state
        .services
        .mark_read(&actor, ChannelId(id), req.seq)
        .await?;
    Ok(Json(ReadState { last_read_seq }))
}

/// Tells the channel's online members that the caller is typing.
#[utoipa::path(
    post,
    path = "/channels/{channel_id}/typing",
    tag = "messages",
    params(("channel_id" = i64, Path)),
    request_body = TypingRequest,
    responses((status = 204, description = "sent"), ApiErrors),
    security(("bearer" = []))
)]
pub async fn typing(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<TypingRequest>,
) -> Result<StatusCode, ApiError> {
    let channel_id = ChannelId(id);
    state.services.authorize_typing(&actor, channel_id).await?;
    let event = Event::Typing {
        channel_id,
        user_id: actor.user_id,
        thread_root_id: req.thread_root_id,
    };
    state
        .hub
        .ephemeral(Audience::Channel(channel_id), Some(actor.user_id), event);
    Ok(StatusCode::NO_CONTENT)
}

/// One message.
#[utoipa::path(
    get,
    path = "/messages/{message_id}",
    tag = "messages",
    params(("message_id" = i64, Path)),
    responses((status = 200, body = Message), ApiErrors),
    security(("bearer" = []))
)]
pub async fn get_message(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Message>, ApiError> {
    Ok(Json(state.services.message(&actor, MessageId(id)).await?))
}

/// Edits the caller's own message; the previous text is kept as a version.
#[utoipa::path(
    patch,
    path = "/messages/{message_id}",
    tag = "messages",
    params(("message_id" = i64, Path)),
    request_body = EditMessageRequest,
    responses((status = 200, body = Message), ApiErrors),
    security(("bearer" = []))
)]
pub async fn edit_message(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<EditMessageRequest>,
) -> Result<Json<Message>, ApiError> {
    Ok(Json(
        state
            .services
            .edit_message(&actor, MessageId(id), &req.text)
            .await?,
    ))
}

/// Deletes a message (its author, a channel admin or an org admin). Its sequence number stays,
/// as a tombstone.
#[utoipa::path(
    delete,
    path = "/messages/{message_id}",
    tag = "messages",
    params(("message_id" = i64, Path)),
    responses((status = 204, description = "deleted"), ApiErrors),
    security(("bearer" = []))
)]
pub async fn delete_message(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_message(&actor, MessageId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The edit history: every version, oldest first.
#[utoipa::path(
    get,
    path = "/messages/{message_id}/versions",
    tag = "messages",
    params(("message_id" = i64, Path)),
    responses((status = 200, body = Vec<MessageVersion>), ApiErrors),
    security(("bearer" = []))
)]
pub async fn versions(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<MessageVersion>>, ApiError> {
    Ok(Json(
        state
            .services
            .message_versions(&actor, MessageId(id))
            .await?,
    ))
}

/// A thread: its first message and the replies.
#[utoipa::path(
    get,
    path = "/messages/{message_id}/thread",
    tag = "messages",
    params(("message_id" = i64, Path)),
    responses((status = 200, body = ThreadPage), ApiErrors),
    security(("bearer" = []))
)]
pub async fn thread(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ThreadPage>, ApiError> {
    Ok(Json(state.services.thread(&actor, MessageId(id)).await?))
}

/// Adds the caller's reaction (idempotent).
#[utoipa::path(
    put,
    path = "/messages/{message_id}/reactions/{emoji}",
    tag = "messages",
    params(("message_id" = i64, Path), ("emoji" = String, Path)),
    responses((status = 204, description = "reacted"), ApiErrors),
    security(("bearer" = []))
)]
pub async fn add_reaction(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, emoji)): ApiPath<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .set_reaction(&actor, MessageId(id), &emoji, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the caller's reaction (idempotent).
#[utoipa::path(
    delete,
    path = "/messages/{message_id}/reactions/{emoji}",
    tag = "messages",
    params(("message_id" = i64, Path), ("emoji" = String, Path)),
    responses((status = 204, description = "removed"), ApiErrors),
    security(("bearer" = []))
)]
pub async fn remove_reaction(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, emoji)): ApiPath<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .set_reaction(&actor, MessageId(id), &emoji, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pins a message to its channel.
#[utoipa::path(
    put,
    path = "/messages/{message_id}/pin",
    tag = "messages",
    params(("message_id" = i64, Path)),
    responses((status = 204, description = "pinned"), ApiErrors),
    security(("bearer" = []))
)]
pub async fn pin(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .set_pinned(&actor, MessageId(id), true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unpins a message.
#[utoipa::path(
    delete,
    path = "/messages/{message_id}/pin",
    tag = "messages",
    params(("message_id" = i64, Path)),
    responses((status = 204, description = "unpinned"), ApiErrors),
    security(("bearer" = []))
)]
pub async fn unpin(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .set_pinned(&actor, MessageId(id), false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
