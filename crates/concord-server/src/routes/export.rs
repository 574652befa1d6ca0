//! Exports as zip downloads: a compliance export (`compliance.export`) and a person's own
//! data. Both are people only (not in the app scope table) and audited with the criteria,
//! the counts and the archive's SHA-256 before the archive is answered. The archive is built
//! in an unnamed temporary file under `data_dir/exports` and streamed from there, so memory
//! stays flat; these routes sit outside the request timeout (see `routes/mod.rs`).

use crate::error::{ApiError, ApiErrors};
use crate::export::{ExportJob, ExportKind, FinishedExport, write_export};
use crate::extract::{ApiJson, Auth};
use crate::state::AppState;
use axum::Extension;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use concord_core::authz::Actor;
use concord_proto::ComplianceExportRequest;
use serde_json::json;
use std::sync::Arc;
use tokio::io::AsyncReadExt;
use tokio::sync::Semaphore;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest criteria body accepted (ids are bounded by the service too).
pub const MAX_CRITERIA_BYTES: usize = 64 * 1024;
/// Bytes read from the archive per chunk of the response.
const CHUNK: usize = 64 * 1024;
/// Archives built at once; further exports wait their turn (each costs a blocking thread,
/// disk for the archive and its row files, and store reads).
pub const MAX_CONCURRENT_EXPORTS: usize = 2;

/// The turns to build an archive, shared by the export routes.
#[derive(Clone)]
pub struct ExportSlots(Arc<Semaphore>);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(compliance_export))
        .routes(routes!(my_export))
        .layer(Extension(ExportSlots(Arc::new(Semaphore::new(
            MAX_CONCURRENT_EXPORTS,
        )))))
}

/// Exports the messages (deleted ones with their last text), edits, deletions, reactions and
/// files of the given channels and/or people created in `[from, to)`, as a zip of JSON Lines
/// and CSV files with `manifest.json` (every entry's SHA-256 and size, the criteria, who
/// exported and when); with `include_files`, the files' contents too. Audited with the
/// criteria, the counts and the archive's SHA-256 (also in the `X-Export-Sha256` header).
#[utoipa::path(
    post,
    path = "/compliance/exports",
    tag = "organisation",
    request_body = ComplianceExportRequest,
    responses((status = 200, description = "the zip archive", content_type = "application/zip", headers(("X-Export-Sha256" = String, description = "the archive's SHA-256, as audited"))), ApiErrors),
    security(("bearer" = []))
)]
pub async fn compliance_export(
    State(state): State<AppState>,
    Extension(slots): Extension<ExportSlots>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<ComplianceExportRequest>,
) -> Result<Response, ApiError> {
    let criteria = json!(req);
    let plan = state.services.plan_compliance_export(&actor, req).await?;
    let job = ExportJob {
        kind: ExportKind::Compliance,
        plan,
        criteria,
        exported_by: exporter(&state, &actor).await?,
        at: state.services.clock.now(),
    };
    let done = run(&state, &slots, job.criteria.clone(), job).await?;
    audited_download(
        &state,
        &actor,
        "compliance.export",
        "export:compliance".into(),
        done,
    )
    .await
}

/// The caller's own data: profile, sessions, the messages they sent (with every edit and
/// deleted ones' last text), the reactions they made, and the files they uploaded with their
/// contents, as a zip with `manifest.json`. Audited.
#[utoipa::path(
    get,
    path = "/users/me/export",
    tag = "users",
    responses((status = 200, description = "the zip archive", content_type = "application/zip", headers(("X-Export-Sha256" = String, description = "the archive's SHA-256, as audited"))), ApiErrors),
    security(("bearer" = []))
)]
pub async fn my_export(
    State(state): State<AppState>,
    Extension(slots): Extension<ExportSlots>,
    Auth(actor): Auth,
) -> Result<Response, ApiError> {
    let profile = state.services.user_profile(&actor, actor.user_id).await?;
    let sessions: Vec<_> = state
        .services
        .my_sessions(&actor)
        .await?
        .into_iter()
        .map(|s| {
            json!({
                "id": s.id,
                "created_at": s.created_at.to_string(),
                "last_seen_at": s.last_seen_at.to_string(),
                "expires_at": s.expires_at.to_string(),
                "ip": s.ip,
                "user_agent": s.user_agent,
                "current": s.current,
            })
        })
        .collect();
    let criteria = json!({ "user_ids": [actor.user_id] });
    let job = ExportJob {
        kind: ExportKind::Personal {
            profile: json!(profile),
            sessions: json!(sessions),
        },
        plan: state.services.plan_personal_export(&actor),
        criteria: criteria.clone(),
        exported_by: exporter(&state, &actor).await?,
        at: state.services.clock.now(),
    };
    let done = run(&state, &slots, criteria, job).await?;
    let target = format!("user:{}", actor.user_id);
    audited_download(&state, &actor, "user.export", target, done).await
}

/// Who exports, for the manifest.
async fn exporter(
    state: &AppState,
    actor: &Actor,
) -> Result<Option<concord_proto::User>, ApiError> {
    Ok(state
        .services
        .store
        .user(actor.user_id)
        .await
        .map_err(concord_core::DomainError::from)?)
}

async fn run(
    state: &AppState,
    slots: &ExportSlots,
    criteria: serde_json::Value,
    job: ExportJob,
) -> Result<(FinishedExport, serde_json::Value), ApiError> {
    // Held while the archive is built; streaming it out needs no turn.
    let _turn = slots.0.acquire().await.map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the server is shutting down",
        )
    })?;
    let done = write_export(
        state.services.store.clone(),
        state.files.blobs.clone(),
        state.config.data_dir.join("exports"),
        job,
    )
    .await?;
    Ok((done, criteria))
}

/// Writes the audit entry (no entry, no archive), then streams the archive.
async fn audited_download(
    state: &AppState,
    actor: &Actor,
    action: &str,
    target: String,
    (done, criteria): (FinishedExport, serde_json::Value),
) -> Result<Response, ApiError> {
    state
        .services
        .audit(
            Some(actor),
            action,
            target,
            Some(done.audit_details(&criteria)),
        )
        .await?;
    let file = tokio::fs::File::from_std(done.archive.file);
    let body = futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let name = format!(
        "concord-export-{}.zip",
        state.services.clock.now().strftime("%Y%m%dT%H%M%SZ")
    );
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(done.archive.size));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&done.archive.sha256) {
        headers.insert("x-export-sha256", v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
