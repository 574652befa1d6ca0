//! People.

use crate::error::{ApiError, ApiErrors};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use concord_proto::{
    CreateUserRequest, MyPermissions, UpdateMeRequest, UpdateUserRequest, User, UserId,
    UserListQuery, UserPage, UserProfile,
};

/// The signed-in user.
#[utoipa::path(get, path = "/users/me", tag = "users", responses((status = 200, body = User), ApiErrors), security(("bearer" = [])))]
pub async fn me(State(state): State<AppState>, Auth(actor): Auth) -> Result<Json<User>, ApiError> {
    Ok(Json(state.services.user(&actor, actor.user_id).await?))
}

/// Changes what people may change about themselves: display name, phone, time zone, locale.
#[utoipa::path(patch, path = "/users/me", tag = "users", request_body = UpdateMeRequest, responses((status = 200, body = UserProfile), ApiErrors), security(("bearer" = [])))]
pub async fn update_me(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<UpdateMeRequest>,
) -> Result<Json<UserProfile>, ApiError> {
    Ok(Json(state.services.update_me(&actor, req).await?))
}

/// The permissions the signed-in user holds, org-wide and per department.
#[utoipa::path(get, path = "/users/me/permissions", tag = "users", responses((status = 200, body = MyPermissions), ApiErrors), security(("bearer" = [])))]
pub async fn my_permissions(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Json<MyPermissions> {
    Json(state.services.my_permissions(&actor))
}

/// The directory of active people: search by name, username, email, employee number or
/// pinyin (full or initials: "zs" finds 张三), within a department's subtree, paged by id.
#[utoipa::path(
    get,
    path = "/users",
    tag = "users",
    params(UserListQuery),
    responses((status = 200, body = UserPage), ApiErrors),
    security(("bearer" = []))
)]
pub async fn list_users(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<UserListQuery>,
) -> Result<Json<UserPage>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    let users = state.services.search_people(&actor, q).await?;
    let full = users.len() as i64 == limit;
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

/// A person's profile: attributes, departments (with the path from the top), local time.
#[utoipa::path(
    get,
    path = "/users/{user_id}/profile",
    tag = "users",
    params(("user_id" = i64, Path)),
    responses((status = 200, body = UserProfile), ApiErrors),
    security(("bearer" = []))
)]
pub async fn get_profile(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(user_id): ApiPath<i64>,
) -> Result<Json<UserProfile>, ApiError> {
    Ok(Json(
        state.services.user_profile(&actor, UserId(user_id)).await?,
    ))
}

/// Changes a person's attributes, departments or status (`user.manage` in their department).
/// Suspending or deactivating ends their sessions and connections; messages stay.
#[utoipa::path(
    patch,
    path = "/users/{user_id}",
    tag = "users",
    params(("user_id" = i64, Path)),
    request_body = UpdateUserRequest,
    responses((status = 200, body = UserProfile), ApiErrors),
    security(("bearer" = []))
)]
pub async fn update_user(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(user_id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateUserRequest>,
) -> Result<Json<UserProfile>, ApiError> {
    Ok(Json(
        state
            .services
            .update_user(&actor, UserId(user_id), req)
            .await?,
    ))
}
