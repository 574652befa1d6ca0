//! The online rebuild of the search index: start it and follow it (org admins, `org.manage`;
//! starting is audited). The old index keeps answering searches until the new one takes over.

use crate::error::{ApiError, ApiErrors};
use crate::extract::Auth;
use crate::search::ReindexRefused;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use concord_core::org::perm;
use concord_proto::ReindexStatus;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(reindex_status, start_reindex))
}

/// Starts rebuilding the search index (messages and files) into a new directory while the
/// server keeps searching and indexing with the old one; when the new one has caught up with
/// the event log it takes over. Answers at once (202) with the status to follow; 409 if one is
/// already running, 503 if search is off. Audited (`search.reindex`).
#[utoipa::path(
    post,
    path = "/admin/search/reindex",
    tag = "messages",
    responses((status = 202, body = ReindexStatus), ApiErrors),
    security(("bearer" = []))
)]
pub async fn start_reindex(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<(StatusCode, Json<ReindexStatus>), ApiError> {
    actor.require(perm::ORG_MANAGE, None)?;
    if state.search.index().is_none() {
        return Err(refused(ReindexRefused::Disabled));
    }
    state
        .services
        .audit(Some(&actor), "search.reindex", "search".into(), None)
        .await?;
    let status = state
        .search
        .start_reindex(state.services.clock.now())
        .map_err(refused)?;
    Ok((StatusCode::ACCEPTED, Json(status)))
}

/// Where the last online reindex since the server started is: `idle`, `running`, `done` (with
/// the documents indexed and the log position reached) or `failed` (with why).
#[utoipa::path(
    get,
    path = "/admin/search/reindex",
    tag = "messages",
    responses((status = 200, body = ReindexStatus), ApiErrors),
    security(("bearer" = []))
)]
pub async fn reindex_status(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<ReindexStatus>, ApiError> {
    actor.require(perm::ORG_MANAGE, None)?;
    Ok(Json(state.search.reindex_status()))
}

fn refused(why: ReindexRefused) -> ApiError {
    match why {
        ReindexRefused::Disabled => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "search is not enabled on this server",
        ),
        ReindexRefused::Running => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "a reindex is already running",
        ),
    }
}
