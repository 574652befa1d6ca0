//! SCIM Users (RFC 7643 §4.1, with the enterprise extension §4.3) over Concord's people.
//!
//! Mapping: `userName` ↔ username (immutable but for case); `displayName`, else
//! `name.formatted`, else given and family name ↔ display name; the primary (else first)
//! of `emails` and `phoneNumbers`; `active` ↔ status (false deactivates: sessions end,
//! messages stay; a suspended person stays suspended); `title`, `timezone`, `locale`;
//! `externalId`; enterprise `employeeNumber` and `manager.value` (a Concord user id);
//! enterprise `department` and `groups` are read-only (the primary department; membership
//! is managed through Groups). DELETE deactivates. Passwords may be set; otherwise people
//! sign in through SSO.

use super::scim::{
    ENTERPRISE_SCHEMA, ScimError, ScimResult, USER_SCHEMA, base_url, created, filter,
    list_response, page, parse_body, parse_id, scim_json,
};
use super::scim_patch::apply_patch;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use concord_core::service::{DirectoryPerson, DirectoryRecord, SOURCE_SCIM};
use concord_core::store::DirectoryUserFilter;
use concord_proto::{UserId, UserStatus};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The SCIM representation of a person.
fn render(state: &AppState, base: &str, r: &DirectoryRecord) -> Value {
    let org = state.services.org();
    let p = &r.person;
    let id = r.profile.user.id;
    let mut u = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "id": id.0.to_string(),
        "userName": p.username,
        "name": {"formatted": p.display_name},
        "displayName": p.display_name,
        "active": r.profile.status == UserStatus::Active,
        "meta": {
            "resourceType": "User",
            "created": r.profile.user.created_at.to_string(),
            "location": format!("{base}/Users/{id}"),
        },
    });
    let mut set = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            u[k] = json!(v);
        }
    };
    set("externalId", &p.external_id);
    set("title", &p.title);
    set("timezone", &p.time_zone);
    set("locale", &p.locale);
    if let Some(e) = &p.email {
        u["emails"] = json!([{"value": e, "type": "work", "primary": true}]);
    }
    if let Some(ph) = &p.phone {
        u["phoneNumbers"] = json!([{"value": ph, "type": "work", "primary": true}]);
    }
    let mut ext = Map::new();
    if let Some(n) = &p.employee_no {
        ext.insert("employeeNumber".into(), json!(n));
    }
    if let Some(m) = p.manager_id {
        ext.insert(
            "manager".into(),
            json!({"value": m.0.to_string(), "$ref": format!("{base}/Users/{m}")}),
        );
    }
    if let Some(d) = p.primary_department.and_then(|d| org.department(d)) {
        ext.insert("department".into(), json!(d.name));
        u["groups"] = json!([{"value": d.id.0.to_string(), "display": d.name, "type": "direct",
            "$ref": format!("{base}/Groups/{}", d.id)}]);
    }
    if !ext.is_empty() {
        u[ENTERPRISE_SCHEMA] = Value::Object(ext);
    }
    u
}

fn get_ci<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// An optional string attribute: absent or null is `None`; another type is refused.
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

/// `true`, `false`, or Azure AD's `"True"`/`"False"`.
fn boolean(v: &Value, name: &str) -> Result<bool, ScimError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::bad(
            "invalidValue",
            format!("{name} must be a boolean"),
        )),
    }
}

/// The primary (else first) `value` of a multi-valued attribute such as `emails`.
fn primary_value(o: &Map<String, Value>, name: &str) -> Result<Option<String>, ScimError> {
    let items = match get_ci(o, name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ScimError::bad(
                "invalidValue",
                format!("{name} must be an array"),
            ));
        }
    };
    let mut chosen = None;
    for item in items {
        let Some(obj) = item.as_object() else {
            return Err(ScimError::bad(
                "invalidValue",
                format!("each of {name} must be an object"),
            ));
        };
        let value = opt_string(obj, "value")?;
        let primary = get_ci(obj, "primary")
            .map(|p| boolean(p, "primary"))
            .transpose()?
            .unwrap_or(false);
        if primary {
            return Ok(value);
        }
        if chosen.is_none() {
            chosen = value;
        }
    }
    Ok(chosen)
}

/// Given and family name, in the order their script writes them (张 + 三 = 张三).
fn join_names(given: Option<String>, family: Option<String>) -> Option<String> {
    match (given, family) {
        (Some(g), Some(f)) => {
            let cjk = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            Some(if cjk(&g) && cjk(&f) {
                format!("{f}{g}")
            } else {
                format!("{g} {f}")
            })
        }
        (Some(one), None) | (None, Some(one)) => Some(one),
        (None, None) => None,
    }
}

/// Reads a User resource (a POST or PUT body, or a patched representation).
fn person_from(o: &Map<String, Value>) -> Result<DirectoryPerson, ScimError> {
    let username = opt_string(o, "userName")?
        .ok_or_else(|| ScimError::bad("invalidValue", "userName is required"))?;
    let name = match get_ci(o, "name") {
        None | Some(Value::Null) => None,
        Some(Value::Object(n)) => Some(n),
        Some(_) => return Err(ScimError::bad("invalidValue", "name must be an object")),
    };
    let display_name = match opt_string(o, "displayName")? {
        Some(d) => Some(d),
        None => match name {
            Some(n) => match opt_string(n, "formatted")? {
                Some(f) => Some(f),
                None => join_names(opt_string(n, "givenName")?, opt_string(n, "familyName")?),
            },
            None => None,
        },
    };
    let active = get_ci(o, "active")
        .filter(|v| !v.is_null())
        .map(|v| boolean(v, "active"))
        .transpose()?;
    let ext = match get_ci(o, ENTERPRISE_SCHEMA) {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(e)) => e.clone(),
        Some(_) => {
            return Err(ScimError::bad(
                "invalidValue",
                "the enterprise extension must be an object",
            ));
        }
    };
    let manager = match get_ci(&ext, "manager") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(m)) => opt_string(m, "value")?,
        Some(_) => {
            return Err(ScimError::bad(
                "invalidValue",
                "manager must be an object with a value",
            ));
        }
    };
    let manager_id = manager
        .map(|m| {
            m.trim().parse::<i64>().map(UserId).map_err(|_| {
                ScimError::bad("invalidValue", format!("manager {m:?} is not a user id"))
            })
        })
        .transpose()?;
    Ok(DirectoryPerson {
        display_name: display_name.unwrap_or_else(|| username.clone()),
        username,
        email: primary_value(o, "emails")?,
        active: active.unwrap_or(true),
        title: opt_string(o, "title")?,
        phone: primary_value(o, "phoneNumbers")?,
        employee_no: opt_string(&ext, "employeeNumber")?,
        time_zone: opt_string(o, "timezone")?,
        locale: opt_string(o, "locale")?,
        manager_id,
        primary_department: None,
        external_id: opt_string(o, "externalId")?,
        password: match get_ci(o, "password") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) => Some(p.clone()),
            Some(_) => return Err(ScimError::bad("invalidValue", "password must be a string")),
        },
    })
}

fn query(
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<HashMap<String, String>, ScimError> {
    q.map(|Query(q)| q)
        .map_err(|e| ScimError::bad("invalidValue", e.body_text()))
}

async fn record(state: &AppState, raw_id: &str) -> Result<DirectoryRecord, ScimError> {
    let id = parse_id("user", raw_id)?;
    match state.services.directory_record(UserId(id)).await {
        Err(concord_core::DomainError::NotFound(_)) => Err(ScimError::not_found("user", raw_id)),
        other => Ok(other?),
    }
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ScimResult {
    let q = query(q)?;
    let page = page(&q)?;
    let store_filter = match filter(&q, &["userName", "externalId"])? {
        None => DirectoryUserFilter::All,
        Some(f) if f.attribute == "userName" => DirectoryUserFilter::Username(f.value),
        Some(f) => DirectoryUserFilter::ExternalId(f.value),
    };
    let offset = i64::try_from(page.start - 1).unwrap_or(i64::MAX);
    let (total, ids) = state
        .services
        .store
        .directory_users(store_filter, offset, page.count as i64)
        .await
        .map_err(concord_core::DomainError::from)?;
    let base = base_url(&headers);
    let mut resources = Vec::with_capacity(ids.len());
    for id in ids {
        // Someone removed between the two reads is simply left out.
        if let Ok(r) = state.services.directory_record(id).await {
            resources.push(render(&state, &base, &r));
        }
    }
    Ok(list_response(
        usize::try_from(total).unwrap_or(0),
        page,
        resources,
    ))
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ScimResult {
    let r = record(&state, &id).await?;
    Ok(scim_json(
        StatusCode::OK,
        render(&state, &base_url(&headers), &r),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ScimResult {
    let person = person_from(&parse_body(body)?)?;
    let id = state.services.provision_user(SOURCE_SCIM, person).await?;
    let r = state.services.directory_record(id).await?;
    Ok(created(render(&state, &base_url(&headers), &r)))
}

/// Replaces what SCIM manages about the person; their departments stay.
async fn update(
    state: &AppState,
    current: &DirectoryRecord,
    mut person: DirectoryPerson,
) -> Result<(), ScimError> {
    person.primary_department = current.person.primary_department;
    let id = current.profile.user.id;
    state
        .services
        .update_provisioned_user(SOURCE_SCIM, id, person)
        .await?;
    Ok(())
}

pub async fn replace(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ScimResult {
    let current = record(&state, &id).await?;
    let person = person_from(&parse_body(body)?)?;
    update(&state, &current, person).await?;
    let r = state
        .services
        .directory_record(current.profile.user.id)
        .await?;
    Ok(scim_json(
        StatusCode::OK,
        render(&state, &base_url(&headers), &r),
    ))
}

pub async fn patch(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ScimResult {
    let body = parse_body(body)?;
    let current = record(&state, &id).await?;
    let base = base_url(&headers);
    let Value::Object(mut resource) = render(&state, &base, &current) else {
        return Err(ScimError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "user did not render",
        ));
    };
    apply_patch(&mut resource, &body)?;
    let person = person_from(&resource)?;
    update(&state, &current, person).await?;
    let r = state
        .services
        .directory_record(current.profile.user.id)
        .await?;
    Ok(scim_json(StatusCode::OK, render(&state, &base, &r)))
}

/// Deactivates: the person's sessions end, their messages stay, and the record remains
/// (as `active: false`).
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> ScimResult {
    let current = record(&state, &id).await?;
    state
        .services
        .deactivate_provisioned_user(SOURCE_SCIM, current.profile.user.id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_come_from_the_best_source() {
        let p = person_from(
            json!({"userName": "zs", "name": {"givenName": "三", "familyName": "张"}})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(p.display_name, "张三");
        let p = person_from(
            json!({"userName": "al", "name": {"givenName": "Ada", "familyName": "Lovelace"}})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(p.display_name, "Ada Lovelace");
        let p = person_from(
            json!({"userName": "al", "displayName": "A. L."})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(p.display_name, "A. L.");
        let p = person_from(json!({"userName": "al"}).as_object().unwrap()).unwrap();
        assert_eq!(p.display_name, "al");
        assert!(p.active);
    }

    #[test]
    fn attributes_are_read_and_types_checked() {
        let body = json!({
            "userName": "al", "active": "False",
            "emails": [{"value": "x@a.com"}, {"value": "y@a.com", "primary": true}],
            ENTERPRISE_SCHEMA: {"employeeNumber": "E1", "manager": {"value": "7"}},
        });
        let p = person_from(body.as_object().unwrap()).unwrap();
        assert_eq!(p.email.as_deref(), Some("y@a.com"));
        assert!(!p.active);
        assert_eq!(p.manager_id, Some(UserId(7)));
        assert_eq!(p.employee_no.as_deref(), Some("E1"));
        for bad in [
            json!({"userName": 5}),
            json!({}),
            json!({"userName": "a", "emails": "x"}),
            json!({"userName": "a", "active": "maybe"}),
            json!({"userName": "a", ENTERPRISE_SCHEMA: {"manager": {"value": "boss"}}}),
        ] {
            assert!(person_from(bad.as_object().unwrap()).is_err(), "{bad}");
        }
    }
}
