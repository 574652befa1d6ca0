//! Retention policies, legal holds, running retention now (all `retention.manage`), and the
//! verification of a channel's message hash chain (`audit.read`).

use crate::error::{ApiError, ApiErrors};
use crate::extract::{ApiJson, ApiPath, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use concord_core::service::RetentionRun;
use concord_core::store::PruneReport;
use concord_proto::{
    ChainVerification, ChannelId, CreateLegalHoldRequest, LegalHold, RetentionChannelCount,
    RetentionPolicy, RetentionRunReport, RetentionRunRequest, SetRetentionPolicyRequest,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_policies, set_policy))
        .routes(routes!(list_holds, create_hold))
        .routes(routes!(release_hold))
        .routes(routes!(run_retention))
        .routes(routes!(verify_chain))
}

/// Every retention policy set. A channel follows its own policy, else its type's (public,
/// private, dm), else the org default; with none, messages are kept forever.
#[utoipa::path(get, path = "/retention/policies", tag = "organisation", responses((status = 200, body = Vec<RetentionPolicy>), ApiErrors), security(("bearer" = [])))]
pub async fn list_policies(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<Vec<RetentionPolicy>>, ApiError> {
    Ok(Json(state.services.retention_policies(&actor).await?))
}

/// Sets (or, with `inherit`, removes) one scope's policy; audited. Answers every policy.
#[utoipa::path(put, path = "/retention/policies", tag = "organisation", request_body = SetRetentionPolicyRequest, responses((status = 200, body = Vec<RetentionPolicy>), ApiErrors), security(("bearer" = [])))]
pub async fn set_policy(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<SetRetentionPolicyRequest>,
) -> Result<Json<Vec<RetentionPolicy>>, ApiError> {
    Ok(Json(
        state.services.set_retention_policy(&actor, req).await?,
    ))
}

/// Every legal hold, newest first, released and ended ones included.
#[utoipa::path(get, path = "/retention/holds", tag = "organisation", responses((status = 200, body = Vec<LegalHold>), ApiErrors), security(("bearer" = [])))]
pub async fn list_holds(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<Vec<LegalHold>>, ApiError> {
    Ok(Json(state.services.legal_holds(&actor).await?))
}

/// Places a legal hold on a person (their messages everywhere) or a channel (all its
/// messages): retention deletes nothing it covers until it is released or ends. Audited.
#[utoipa::path(post, path = "/retention/holds", tag = "organisation", request_body = CreateLegalHoldRequest, responses((status = 200, body = LegalHold), ApiErrors), security(("bearer" = [])))]
pub async fn create_hold(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<CreateLegalHoldRequest>,
) -> Result<Json<LegalHold>, ApiError> {
    Ok(Json(state.services.create_legal_hold(&actor, req).await?))
}

/// Releases a legal hold (the record stays); the next retention run may delete what it kept.
/// Audited; 409 if already released.
#[utoipa::path(delete, path = "/retention/holds/{hold_id}", tag = "organisation", params(("hold_id" = i64, Path)), responses((status = 200, body = LegalHold), ApiErrors), security(("bearer" = [])))]
pub async fn release_hold(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LegalHold>, ApiError> {
    Ok(Json(state.services.release_legal_hold(&actor, id).await?))
}

/// Runs retention now (or, with `dry_run`, counts what it would delete); audited with the
/// counts. Expired messages go with their edits, reactions, mentions, pins and search entries.
#[utoipa::path(post, path = "/retention/run", tag = "organisation", request_body = RetentionRunRequest, responses((status = 200, body = RetentionRunReport), ApiErrors), security(("bearer" = [])))]
pub async fn run_retention(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<RetentionRunRequest>,
) -> Result<Json<RetentionRunReport>, ApiError> {
    let run = RetentionRun {
        dry_run: req.dry_run,
        max_messages: state.config.retention.max_messages_per_run,
        scheduled: false,
    };
    let report = state.services.run_retention(Some(&actor), run).await?;
    if !report.dry_run {
        state
            .files
            .collect_garbage(state.services.store.as_ref())
            .await?;
    }
    Ok(Json(report_view(&report)))
}

/// Recomputes the channel's hash chain over messages, edits and deletions from the stored
/// rows, from the newest signed checkpoint on; names the first change made behind the
/// server's back.
#[utoipa::path(get, path = "/channels/{channel_id}/chain", tag = "organisation", params(("channel_id" = i64, Path)), responses((status = 200, body = ChainVerification), ApiErrors), security(("bearer" = [])))]
pub async fn verify_chain(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ChainVerification>, ApiError> {
    Ok(Json(
        state
            .services
            .verify_channel_chain(&actor, ChannelId(id))
            .await?,
    ))
}

/// The wire form of a run's report.
pub fn report_view(r: &PruneReport) -> RetentionRunReport {
    RetentionRunReport {
        dry_run: r.dry_run,
        messages: r.messages,
        versions: r.versions,
        reactions: r.reactions,
        mentions: r.mentions,
        pins: r.pins,
        files: r.files,
        channels: r
            .channels
            .iter()
            .map(|c| RetentionChannelCount {
                channel_id: ChannelId(c.channel_id),
                messages: c.messages,
                versions: c.versions,
                reactions: c.reactions,
                mentions: c.mentions,
                pins: c.pins,
            })
            .collect(),
        more_remaining: r.more_remaining,
    }
}
