//! People.

use crate::error::{ApiError, ApiErrors};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use concord_proto::{CreateUserRequest, PageQuery, User, UserId, UserPage};

/// The signed-in user.
#[utoipa::path(get, path = "/users/me", tag = "users", responses((status = 200, body = User), ApiErrors), security(("bearer" = [])))]
pub async fn me(State(state): State<AppState>, Auth(actor): Auth) -> Result<Json<User>, ApiError> {
    Ok(Json(state.services.user(&actor, actor.user_id).await?))
}

/// The directory of active users, by id.
#[utoipa::path(
    get,
    path = "/users",
    tag = "users",
    params(PageQuery),
    responses((status = 200, body = UserPage), ApiErrors),
    security(("bearer" = []))
)]
pub async fn list_users(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<UserPage>, ApiError> {
    let users = state.services.list_users(&actor, q.after, q.limit).await?;
    let full = users.len() as i64 == q.limit.unwrap_or(50);
    let next_after = if full {
        users.last().map(|u| u.id)
    } else {
        None
    };
    Ok(Json(UserPage { users, next_after }))
}

/// Creates a user (org admins only).
#[utoipa::path(
    post,
    path = "/users",
    tag = "users",
    request_body = CreateUserRequest,
    responses((status = 201, body = User), ApiErrors),
    security(("bearer" = []))
)]
pub async fn create_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.create_user(Some(&actor), req).await?),
    ))
}

/// One user.
#[utoipa::path(
    get,
    path = "/users/{user_id}",
    tag = "users",
    params(("user_id" = i64, Path)),
    responses((status = 200, body = User), ApiErrors),
    security(("bearer" = []))
)]
pub async fn get_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(user_id): ApiPath<i64>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(state.services.user(&actor, UserId(user_id)).await?))
}
