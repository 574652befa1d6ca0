//! SCIM Groups (RFC 7643 §4.2) as Concord's departments.
//!
//! Mapping: `displayName` ↔ the department's name; `members` ↔ the people (any status) whose
//! *primary* department it is, so adding someone to a group moves them there (from their
//! previous primary department) and removing them leaves them without one; secondary
//! placements are not SCIM's business. `externalId` is stored with the department. The
//! extension `urn:concord:scim:schemas:extension:2.0:Department` carries `parentId` (a group
//! id, or null for the top level); a request without the extension keeps the parent.
//! DELETE removes an empty department; one with people, sub-departments or role grants
//! answers 409.

use super::scim::{
    DEPARTMENT_SCHEMA, GROUP_SCHEMA, Page, ScimError, ScimResult, base_url, created, filter,
    list_response, page, parse_body, parse_id, scim_json,
};
use super::scim_patch::apply_patch;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use concord_core::DomainError;
use concord_core::service::SOURCE_SCIM;
use concord_core::store::ExternalRef;
use concord_proto::{DepartmentId, UserId};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};

/// The people whose primary department `id` is.
async fn members(state: &AppState, id: DepartmentId) -> Result<BTreeSet<UserId>, ScimError> {
    Ok(state
        .services
        .store
        .department_people(id)
        .await
        .map_err(DomainError::from)?
        .into_iter()
        .filter(|(_, primary)| *primary)
        .map(|(u, _)| u)
        .collect())
}

async fn externals(state: &AppState) -> Result<HashMap<DepartmentId, ExternalRef>, ScimError> {
    Ok(state
        .services
        .store
        .department_external_refs()
        .await
        .map_err(DomainError::from)?
        .into_iter()
        .collect())
}

async fn render(
    state: &AppState,
    base: &str,
    id: DepartmentId,
    externals: &HashMap<DepartmentId, ExternalRef>,
    with_members: bool,
) -> Result<Value, ScimError> {
    let org = state.services.org();
    let d = org
        .department(id)
        .ok_or_else(|| ScimError::not_found("group", &id.to_string()))?;
    let mut g = json!({
        "schemas": [GROUP_SCHEMA, DEPARTMENT_SCHEMA],
        "id": id.0.to_string(),
        "displayName": d.name,
        DEPARTMENT_SCHEMA: {"parentId": d.parent_id.map(|p| p.0.to_string())},
        "meta": {
            "resourceType": "Group",
            "created": d.created_at.to_string(),
            "location": format!("{base}/Groups/{id}"),
        },
    });
    if let Some(e) = externals.get(&id).and_then(|e| e.id.as_ref()) {
        g["externalId"] = json!(e);
    }
    if with_members {
        let list: Vec<Value> = members(state, id)
            .await?
            .into_iter()
            .map(|u| json!({"value": u.0.to_string(), "type": "User", "$ref": format!("{base}/Users/{u}")}))
            .collect();
        g["members"] = Value::Array(list);
    }
    Ok(g)
}

fn get_ci<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn opt_string(o: &Map<String, Value>, name: &str) -> Result<Option<String>, ScimError> {
    match get_ci(o, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(ScimError::bad(
            "invalidValue",
            format!("{name} must be a string"),
        )),
    }
}

/// A Group resource as read from a request (or a patched representation).
struct GroupInput {
    name: String,
    external_id: Option<String>,
    /// `None`: the request did not say (keep); `Some(None)`: the top level.
    parent: Option<Option<DepartmentId>>,
    /// `None`: no `members` attribute.
    members: Option<BTreeSet<UserId>>,
}

fn numeric_id(v: &str, what: &str) -> Result<i64, ScimError> {
    v.trim()
        .parse::<i64>()
        .map_err(|_| ScimError::bad("invalidValue", format!("{what} {v:?} is not an id")))
}

fn group_from(o: &Map<String, Value>) -> Result<GroupInput, ScimError> {
    let name = opt_string(o, "displayName")?
        .ok_or_else(|| ScimError::bad("invalidValue", "displayName is required"))?;
    let parent = match get_ci(o, DEPARTMENT_SCHEMA) {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::Object(ext)) => Some(
            opt_string(ext, "parentId")?
                .map(|p| numeric_id(&p, "parentId").map(DepartmentId))
                .transpose()?,
        ),
        Some(_) => {
            return Err(ScimError::bad(
                "invalidValue",
                "the department extension must be an object",
            ));
        }
    };
    let members = match get_ci(o, "members") {
        None => None,
        Some(Value::Null) => Some(BTreeSet::new()),
        Some(Value::Array(items)) => {
            let mut set = BTreeSet::new();
            for item in items {
                let value = item
                    .as_object()
                    .map(|m| opt_string(m, "value"))
                    .transpose()?
                    .flatten()
                    .ok_or_else(|| {
                        ScimError::bad("invalidValue", "each member needs a value (a user id)")
                    })?;
                set.insert(UserId(numeric_id(&value, "member")?));
            }
            Some(set)
        }
        Some(_) => return Err(ScimError::bad("invalidValue", "members must be an array")),
    };
    Ok(GroupInput {
        name,
        external_id: opt_string(o, "externalId")?,
        parent,
        members,
    })
}

fn query(
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<HashMap<String, String>, ScimError> {
    q.map(|Query(q)| q)
        .map_err(|e| ScimError::bad("invalidValue", e.body_text()))
}

fn department_id(state: &AppState, raw: &str) -> Result<DepartmentId, ScimError> {
    let id = DepartmentId(parse_id("group", raw)?);
    state
        .services
        .org()
        .department(id)
        .map(|d| d.id)
        .ok_or_else(|| ScimError::not_found("group", raw))
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ScimResult {
    let q = query(q)?;
    let page: Page = page(&q)?;
    let eq = filter(&q, &["displayName", "externalId"])?;
    let with_members = !q.get("excludedAttributes").is_some_and(|e| {
        e.split(',')
            .any(|a| a.trim().eq_ignore_ascii_case("members"))
    });
    let externals = externals(&state).await?;
    let org = state.services.org();
    let mut ids: Vec<DepartmentId> = org
        .departments()
        .filter(|d| match &eq {
            None => true,
            Some(f) if f.attribute == "displayName" => d.name.eq_ignore_ascii_case(&f.value),
            Some(f) => externals.get(&d.id).and_then(|e| e.id.as_deref()) == Some(f.value.as_str()),
        })
        .map(|d| d.id)
        .collect();
    ids.sort();
    let total = ids.len();
    let base = base_url(&headers);
    let mut resources = Vec::new();
    for id in ids.into_iter().skip(page.start - 1).take(page.count) {
        resources.push(render(&state, &base, id, &externals, with_members).await?);
    }
    Ok(list_response(total, page, resources))
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ScimResult {
    let id = department_id(&state, &id)?;
    let externals = externals(&state).await?;
    Ok(scim_json(
        StatusCode::OK,
        render(&state, &base_url(&headers), id, &externals, true).await?,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ScimResult {
    let g = group_from(&parse_body(body)?)?;
    let parent = g.parent.flatten();
    let id = state
        .services
        .provision_department(SOURCE_SCIM, &g.name, parent, g.external_id.as_deref())
        .await?;
    if let Some(members) = g.members {
        state
            .services
            .set_department_members(SOURCE_SCIM, id, members.into_iter().collect(), Vec::new())
            .await?;
    }
    let externals = externals(&state).await?;
    Ok(created(
        render(&state, &base_url(&headers), id, &externals, true).await?,
    ))
}

/// Brings department `id` to `g`: name, external id, parent (when given) and members (when
/// given).
async fn update(state: &AppState, id: DepartmentId, g: GroupInput) -> Result<(), ScimError> {
    let org = state.services.org();
    let current = org
        .department(id)
        .ok_or_else(|| ScimError::not_found("group", &id.to_string()))?;
    let parent = g.parent.unwrap_or(current.parent_id);
    let externals = externals(state).await?;
    let current_external = externals.get(&id).and_then(|e| e.id.clone());
    if g.name != current.name || parent != current.parent_id || g.external_id != current_external {
        state
            .services
            .update_provisioned_department(
                SOURCE_SCIM,
                id,
                &g.name,
                parent,
                Some(g.external_id.as_deref()),
            )
            .await?;
    }
    if let Some(wanted) = g.members {
        let now = members(state, id).await?;
        let add: Vec<UserId> = wanted.difference(&now).copied().collect();
        let remove: Vec<UserId> = now.difference(&wanted).copied().collect();
        state
            .services
            .set_department_members(SOURCE_SCIM, id, add, remove)
            .await?;
    }
    Ok(())
}

pub async fn replace(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ScimResult {
    let id = department_id(&state, &id)?;
    let mut g = group_from(&parse_body(body)?)?;
    // A replace without members means none.
    g.members.get_or_insert_with(BTreeSet::new);
    update(&state, id, g).await?;
    let externals = externals(&state).await?;
    Ok(scim_json(
        StatusCode::OK,
        render(&state, &base_url(&headers), id, &externals, true).await?,
    ))
}

pub async fn patch(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ScimResult {
    let body = parse_body(body)?;
    let id = department_id(&state, &id)?;
    let base = base_url(&headers);
    let Value::Object(mut resource) =
        render(&state, &base, id, &externals(&state).await?, true).await?
    else {
        return Err(ScimError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "group did not render",
        ));
    };
    apply_patch(&mut resource, &body)?;
    update(&state, id, group_from(&resource)?).await?;
    // Azure AD asks for no body after a PATCH of members; a body is allowed and helps others.
    let externals = externals(&state).await?;
    Ok(scim_json(
        StatusCode::OK,
        render(&state, &base, id, &externals, true).await?,
    ))
}

pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ScimResult {
    let id = department_id(&state, &id)?;
    match state
        .services
        .delete_provisioned_department(SOURCE_SCIM, id)
        .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        // Not a uniqueness clash: the department is in use.
        Err(DomainError::Conflict(why)) => Err(ScimError::new(StatusCode::CONFLICT, None, why)),
        Err(e) => Err(e.into()),
    }
}
