//! The organisation: departments, the permission catalogue and check, roles, role
//! assignments, and the audit log.

use crate::error::{ApiError, ApiErrors};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use concord_proto::{
    AssignmentId, AssignmentQuery, AuditEntry, AuditQuery, CreateAssignmentRequest,
    CreateDepartmentRequest, CreateRoleRequest, Department, DepartmentId, Permission,
    PermissionCheck, PermissionCheckQuery, RegisterPermissionRequest, Role, RoleAssignment, RoleId,
    UpdateDepartmentRequest, UpdateRoleRequest, User,
};

/// The department tree, parents before children.
#[utoipa::path(get, path = "/departments", tag = "organisation", responses((status = 200, body = Vec<Department>), ApiErrors), security(("bearer" = [])))]
pub async fn list_departments(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<Vec<Department>>, ApiError> {
    Ok(Json(state.services.list_departments(&actor)?))
}

/// Creates a department (`org.manage` in the parent, or org-wide for a top-level one).
#[utoipa::path(post, path = "/departments", tag = "organisation", request_body = CreateDepartmentRequest, responses((status = 201, body = Department), ApiErrors), security(("bearer" = [])))]
pub async fn create_department(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<CreateDepartmentRequest>,
) -> Result<(StatusCode, Json<Department>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.create_department(&actor, req).await?),
    ))
}

#[utoipa::path(get, path = "/departments/{department_id}", tag = "organisation", params(("department_id" = i64, Path)), responses((status = 200, body = Department), ApiErrors), security(("bearer" = [])))]
pub async fn get_department(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Department>, ApiError> {
    Ok(Json(
        state.services.get_department(&actor, DepartmentId(id))?,
    ))
}

/// Renames and/or moves a department; moving under itself or its own sub-department is refused.
#[utoipa::path(patch, path = "/departments/{department_id}", tag = "organisation", params(("department_id" = i64, Path)), request_body = UpdateDepartmentRequest, responses((status = 200, body = Department), ApiErrors), security(("bearer" = [])))]
pub async fn update_department(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateDepartmentRequest>,
) -> Result<Json<Department>, ApiError> {
    Ok(Json(
        state
            .services
            .update_department(&actor, DepartmentId(id), req)
            .await?,
    ))
}

/// Deletes an empty department (no sub-departments, people or role grants).
#[utoipa::path(delete, path = "/departments/{department_id}", tag = "organisation", params(("department_id" = i64, Path)), responses((status = 204), ApiErrors), security(("bearer" = [])))]
pub async fn delete_department(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .delete_department(&actor, DepartmentId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// People placed directly in a department (primary or secondary).
#[utoipa::path(get, path = "/departments/{department_id}/members", tag = "organisation", params(("department_id" = i64, Path)), responses((status = 200, body = Vec<User>), ApiErrors), security(("bearer" = [])))]
pub async fn department_members(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(
        state
            .services
            .department_members(&actor, DepartmentId(id))
            .await?,
    ))
}

/// The permission catalogue: built-in and registered permissions.
#[utoipa::path(get, path = "/permissions", tag = "organisation", responses((status = 200, body = Vec<Permission>), ApiErrors), security(("bearer" = [])))]
pub async fn list_permissions(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<Vec<Permission>>, ApiError> {
    Ok(Json(state.services.list_permissions(&actor)?))
}

/// Registers a custom permission, e.g. `resume_library.read` (`role.manage`).
#[utoipa::path(post, path = "/permissions", tag = "organisation", request_body = RegisterPermissionRequest, responses((status = 201, body = Permission), ApiErrors), security(("bearer" = [])))]
pub async fn register_permission(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<RegisterPermissionRequest>,
) -> Result<(StatusCode, Json<Permission>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.register_permission(&actor, req).await?),
    ))
}

/// May user U do P in department D? (About others: `permission.check`.)
#[utoipa::path(get, path = "/permissions/check", tag = "organisation", params(PermissionCheckQuery), responses((status = 200, body = PermissionCheck), ApiErrors), security(("bearer" = [])))]
pub async fn check_permission(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<PermissionCheckQuery>,
) -> Result<Json<PermissionCheck>, ApiError> {
    Ok(Json(state.services.check_permission(&actor, q).await?))
}

#[utoipa::path(get, path = "/roles", tag = "organisation", responses((status = 200, body = Vec<Role>), ApiErrors), security(("bearer" = [])))]
pub async fn list_roles(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<Vec<Role>>, ApiError> {
    Ok(Json(state.services.list_roles(&actor)?))
}

/// Defines a role: a named set of permissions from the catalogue (`role.manage`).
#[utoipa::path(post, path = "/roles", tag = "organisation", request_body = CreateRoleRequest, responses((status = 201, body = Role), ApiErrors), security(("bearer" = [])))]
pub async fn create_role(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<CreateRoleRequest>,
) -> Result<(StatusCode, Json<Role>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.create_role(&actor, req).await?),
    ))
}

#[utoipa::path(get, path = "/roles/{role_id}", tag = "organisation", params(("role_id" = i64, Path)), responses((status = 200, body = Role), ApiErrors), security(("bearer" = [])))]
pub async fn get_role(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Role>, ApiError> {
    Ok(Json(state.services.get_role(&actor, RoleId(id))?))
}

#[utoipa::path(patch, path = "/roles/{role_id}", tag = "organisation", params(("role_id" = i64, Path)), request_body = UpdateRoleRequest, responses((status = 200, body = Role), ApiErrors), security(("bearer" = [])))]
pub async fn update_role(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateRoleRequest>,
) -> Result<Json<Role>, ApiError> {
    Ok(Json(
        state.services.update_role(&actor, RoleId(id), req).await?,
    ))
}

/// Deletes a custom role and its assignments; built-in roles stay.
#[utoipa::path(delete, path = "/roles/{role_id}", tag = "organisation", params(("role_id" = i64, Path)), responses((status = 204), ApiErrors), security(("bearer" = [])))]
pub async fn delete_role(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_role(&actor, RoleId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Role assignments the caller may manage.
#[utoipa::path(get, path = "/role-assignments", tag = "organisation", params(AssignmentQuery), responses((status = 200, body = Vec<RoleAssignment>), ApiErrors), security(("bearer" = [])))]
pub async fn list_assignments(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<AssignmentQuery>,
) -> Result<Json<Vec<RoleAssignment>>, ApiError> {
    Ok(Json(state.services.list_assignments(&actor, q)?))
}

/// Gives a role to a user or a department (everyone in its subtree), org-wide or scoped to a
/// department subtree. `role.manage` at that scope, and every permission of the role there.
#[utoipa::path(post, path = "/role-assignments", tag = "organisation", request_body = CreateAssignmentRequest, responses((status = 201, body = RoleAssignment), ApiErrors), security(("bearer" = [])))]
pub async fn create_assignment(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiJson(req): ApiJson<CreateAssignmentRequest>,
) -> Result<(StatusCode, Json<RoleAssignment>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.create_assignment(&actor, req).await?),
    ))
}

#[utoipa::path(delete, path = "/role-assignments/{assignment_id}", tag = "organisation", params(("assignment_id" = i64, Path)), responses((status = 204), ApiErrors), security(("bearer" = [])))]
pub async fn delete_assignment(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .services
        .delete_assignment(&actor, AssignmentId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit log, newest first (`audit.read`).
#[utoipa::path(get, path = "/audit", tag = "organisation", params(AuditQuery), responses((status = 200, body = Vec<AuditEntry>), ApiErrors), security(("bearer" = [])))]
pub async fn audit_log(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    Ok(Json(state.services.audit_entries(&actor, q).await?))
}

#[derive(Clone, Copy, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// One JSON object per line.
    #[default]
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditExportQuery {
    pub format: Option<ExportFormat>,
    pub actor_id: Option<concord_proto::UserId>,
    /// Exact action, or a prefix ending in `.`.
    pub action: Option<String>,
    pub target: Option<String>,
    /// Inclusive, RFC 3339.
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<jiff::Timestamp>,
    /// Exclusive, RFC 3339.
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<jiff::Timestamp>,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn export_line(e: &AuditEntry, format: ExportFormat) -> String {
    match format {
        ExportFormat::Jsonl => format!("{}\n", serde_json::to_string(e).unwrap_or_default()),
        ExportFormat::Csv => {
            let json = |v: &Option<serde_json::Value>| {
                v.as_ref().map(|v| v.to_string()).unwrap_or_default()
            };
            let fields = [
                e.id.to_string(),
                e.at.to_string(),
                e.actor_id.map(|a| a.to_string()).unwrap_or_default(),
                e.ip.clone().unwrap_or_default(),
                e.action.clone(),
                e.target.clone(),
                json(&e.before),
                json(&e.after),
            ];
            let mut line = fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(",");
            line.push('\n');
            line
        }
    }
}

/// Exports every matching audit entry, newest first, as JSON Lines or CSV (`audit.read`).
/// The export itself is audited before anything is sent.
#[utoipa::path(get, path = "/audit/export", tag = "organisation", params(AuditExportQuery), responses((status = 200, description = "JSON Lines or CSV", content_type = "application/x-ndjson"), ApiErrors), security(("bearer" = [])))]
pub async fn audit_export(
    State(state): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<AuditExportQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let format = q.format.unwrap_or_default();
    let query = concord_proto::AuditQuery {
        actor_id: q.actor_id,
        action: q.action,
        target: q.target,
        from: q.from,
        to: q.to,
        before: None,
        limit: None,
    };
    let export = state.services.begin_audit_export(&actor, query).await?;
    let header = match format {
        ExportFormat::Jsonl => String::new(),
        ExportFormat::Csv => "id,at,actor_id,ip,action,target,before,after\n".to_string(),
    };
    let services = state.services.clone();
    let pages =
        futures_util::stream::unfold((Some(export), Some(header)), move |(export, header)| {
            let services = services.clone();
            async move {
                if let Some(h) = header.filter(|h| !h.is_empty()) {
                    return Some((Ok::<_, std::io::Error>(h), (export, None)));
                }
                let mut export = export?;
                match services.next_audit_export_page(&mut export).await {
                    Ok(page) if page.is_empty() => None,
                    Ok(page) => {
                        let chunk: String = page.iter().map(|e| export_line(e, format)).collect();
                        Some((Ok(chunk), (Some(export), None)))
                    }
                    Err(e) => Some((Err(std::io::Error::other(e.to_string())), (None, None))),
                }
            }
        });
    let (content_type, name) = match format {
        ExportFormat::Jsonl => ("application/x-ndjson", "audit.jsonl"),
        ExportFormat::Csv => ("text/csv; charset=utf-8", "audit.csv"),
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        axum::body::Body::from_stream(pages),
    )
        .into_response())
}
