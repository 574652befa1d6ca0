//! SCIM 2.0 (RFC 7643/7644) at `/scim/v2`, for identity providers that provision people and
//! departments: the router, bearer-token authentication, SCIM errors, list parameters and
//! filters, and the discovery endpoints (`ServiceProviderConfig`, `Schemas`,
//! `ResourceTypes`). Users are in `scim_users.rs`, Groups (departments) in `scim_groups.rs`.
//!
//! Not part of the OpenAPI document (SCIM describes itself through its discovery endpoints).
//! Every endpoint, discovery included, needs the configured bearer token; only its SHA-256 is
//! kept and compared in constant time. Responses are `application/scim+json`.

use super::{scim_groups, scim_users};
use crate::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use concord_core::DomainError;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Concord's extension of Group: where the department sits in the tree.
pub const DEPARTMENT_SCHEMA: &str = "urn:concord:scim:schemas:extension:2.0:Department";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const CONTENT_TYPE: &str = "application/scim+json";
/// Largest page (`count`).
pub const MAX_RESULTS: usize = 200;

/// A SCIM error response (RFC 7644 §3.12).
#[derive(Debug)]
pub struct ScimError {
    pub status: StatusCode,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            None,
            format!("{what} {id} not found"),
        )
    }
}

impl From<DomainError> for ScimError {
    fn from(e: DomainError) -> Self {
        let detail = e.to_string();
        match e {
            DomainError::NotFound("user" | "department") => {
                Self::new(StatusCode::NOT_FOUND, None, detail)
            }
            // Something the request refers to (a manager, a member, a parent) does not exist.
            DomainError::NotFound(_) => Self::bad("invalidValue", detail),
            DomainError::Invalid { .. } | DomainError::MessageTooLong { .. } => {
                Self::bad("invalidValue", detail)
            }
            DomainError::Conflict(_) => Self::new(StatusCode::CONFLICT, Some("uniqueness"), detail),
            DomainError::Unauthenticated | DomainError::BadCredentials => {
                Self::new(StatusCode::UNAUTHORIZED, None, detail)
            }
            DomainError::Forbidden(_) | DomainError::MissingPermission(_) => {
                Self::new(StatusCode::FORBIDDEN, None, detail)
            }
            DomainError::Unavailable(cause) => {
                tracing::error!(%cause, "SCIM request failed: store unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    "the server cannot reach its storage right now; retry later",
                )
            }
            // Anything else the domain refuses is about the request's content.
            _ => Self::bad("invalidValue", detail),
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = json!(t);
        }
        let mut response = scim_json(self.status, body);
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ScimResult = Result<Response, ScimError>;

/// A response with SCIM's content type.
pub fn scim_json(status: StatusCode, body: Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

/// `201 Created` with a `Location` header.
pub fn created(body: Value) -> Response {
    let location = body["meta"]["location"].as_str().map(str::to_owned);
    let mut response = scim_json(StatusCode::CREATED, body);
    if let Some(v) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// The JSON object a request carries (SCIM or plain JSON); anything else is `invalidSyntax`.
pub fn parse_body(
    body: Result<Bytes, BytesRejection>,
) -> Result<serde_json::Map<String, Value>, ScimError> {
    let bytes =
        body.map_err(|e| ScimError::new(e.status(), Some("invalidSyntax"), e.body_text()))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ScimError::bad(
            "invalidSyntax",
            "the body must be a JSON object",
        )),
        Err(e) => Err(ScimError::bad(
            "invalidSyntax",
            format!("the body is not valid JSON: {e}"),
        )),
    }
}

/// A resource id from the path: Concord's ids are numbers, so anything else is not found.
pub fn parse_id(what: &str, raw: &str) -> Result<i64, ScimError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ScimError::not_found(what, raw))
}

/// Where this server's SCIM endpoints are, as the client reached them.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let proto = match headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{proto}://{host}/scim/v2")
}

/// `startIndex` (1-based) and `count` of a list request.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub start: usize,
    pub count: usize,
}

/// A list request's `filter=attr eq "value"`: the attribute (as named by the client) and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EqFilter {
    pub attribute: String,
    pub value: String,
}

pub fn page(q: &HashMap<String, String>) -> Result<Page, ScimError> {
    let int = |name: &str| -> Result<Option<i64>, ScimError> {
        match q.get(name).map(|s| s.trim()) {
            None | Some("") => Ok(None),
            Some(s) => s
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ScimError::bad("invalidValue", format!("{name} must be an integer"))),
        }
    };
    let start = int("startIndex")?.unwrap_or(1).max(1);
    let count = int("count")?.unwrap_or(100).clamp(0, MAX_RESULTS as i64);
    Ok(Page {
        start: usize::try_from(start).unwrap_or(usize::MAX),
        count: count as usize,
    })
}

/// Parses `attr eq "value"`; `allowed` are the attributes that may be filtered on.
pub fn filter(
    q: &HashMap<String, String>,
    allowed: &[&str],
) -> Result<Option<EqFilter>, ScimError> {
    let Some(raw) = q.get("filter").map(|f| f.trim()).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let unsupported = || {
        ScimError::bad(
            "invalidFilter",
            format!(
                "unsupported filter {raw:?}: only {} eq \"value\" are supported",
                allowed.join(", ")
            ),
        )
    };
    let (attribute, rest) = raw
        .split_once(char::is_whitespace)
        .ok_or_else(unsupported)?;
    let (op, value) = rest
        .trim_start()
        .split_once(char::is_whitespace)
        .ok_or_else(unsupported)?;
    if !op.eq_ignore_ascii_case("eq") {
        return Err(unsupported());
    }
    let canonical = allowed
        .iter()
        .find(|a| a.eq_ignore_ascii_case(attribute))
        .ok_or_else(unsupported)?;
    let value = value.trim();
    let value: String = if value.starts_with('"') {
        serde_json::from_str(value).map_err(|_| unsupported())?
    } else {
        return Err(unsupported());
    };
    Ok(Some(EqFilter {
        attribute: canonical.to_string(),
        value,
    }))
}

/// A list response over one page.
pub fn list_response(total: usize, page: Page, resources: Vec<Value>) -> Response {
    scim_json(
        StatusCode::OK,
        json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": page.start,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    )
}

/// What authentication compares: the token's SHA-256 (none when SCIM is off).
#[derive(Clone)]
struct ScimAuth {
    token_sha256: Option<[u8; 32]>,
}

fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Equal in time independent of where the inputs differ.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn authenticate(State(auth): State<Arc<ScimAuth>>, req: Request, next: Next) -> Response {
    let Some(expected) = auth.token_sha256 else {
        return ScimError::new(
            StatusCode::NOT_FOUND,
            None,
            "SCIM provisioning is not enabled on this server ([scim] enabled)",
        )
        .into_response();
    };
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            let (scheme, token) = h.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    match presented {
        Some(token) if constant_time_eq(&sha256(token.as_bytes()), &expected) => {
            next.run(req).await
        }
        _ => ScimError::new(
            StatusCode::UNAUTHORIZED,
            None,
            "a valid SCIM bearer token is required",
        )
        .into_response(),
    }
}

/// The SCIM router, to be nested at `/scim/v2`.
pub fn router(config: &crate::config::ScimConfig) -> Router<AppState> {
    let auth = Arc::new(ScimAuth {
        token_sha256: config
            .bearer_token
            .as_ref()
            .filter(|_| config.enabled)
            .map(|t| sha256(t.as_bytes())),
    });
    Router::new()
        .route("/Users", get(scim_users::list).post(scim_users::create))
        .route(
            "/Users/{id}",
            get(scim_users::get)
                .put(scim_users::replace)
                .patch(scim_users::patch)
                .delete(scim_users::delete),
        )
        .route("/Groups", get(scim_groups::list).post(scim_groups::create))
        .route(
            "/Groups/{id}",
            get(scim_groups::get)
                .put(scim_groups::replace)
                .patch(scim_groups::patch)
                .delete(scim_groups::delete),
        )
        .route("/ServiceProviderConfig", get(service_provider_config))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{id}", get(resource_type))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{id}", get(schema))
        .fallback(|| async { ScimError::new(StatusCode::NOT_FOUND, None, "no such SCIM endpoint") })
        .method_not_allowed_fallback(|| async {
            ScimError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                None,
                "this SCIM endpoint does not accept that method",
            )
        })
        .layer(axum::middleware::from_fn_with_state(auth, authenticate))
}

// Discovery (RFC 7644 §4, RFC 7643 §5-7).

async fn service_provider_config(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    scim_json(
        StatusCode::OK,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": MAX_RESULTS},
            "changePassword": {"supported": true},
            "sort": {"supported": false},
            "etag": {"supported": false},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "The bearer token configured in [scim] bearer_token",
                "primary": true,
            }],
            "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
        }),
    )
}

fn resource_type_list(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User", "name": "User", "endpoint": "/Users",
            "description": "People",
            "schema": USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE_SCHEMA, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User")},
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group", "name": "Group", "endpoint": "/Groups",
            "description": "Departments; members are the people whose primary department it is",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [{"schema": DEPARTMENT_SCHEMA, "required": false}],
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group")},
        }),
    ]
}

async fn resource_types(headers: HeaderMap) -> Response {
    let list = resource_type_list(&base_url(&headers));
    let n = list.len();
    list_response(n, Page { start: 1, count: n }, list)
}

async fn resource_type(headers: HeaderMap, Path(id): Path<String>) -> ScimResult {
    resource_type_list(&base_url(&headers))
        .into_iter()
        .find(|r| r["id"] == id.as_str())
        .map(|r| scim_json(StatusCode::OK, r))
        .ok_or_else(|| ScimError::not_found("resource type", &id))
}

/// One attribute's definition (RFC 7643 §7).
fn attr(
    name: &str,
    kind: &str,
    multi: bool,
    required: bool,
    mutability: &str,
    uniqueness: &str,
) -> Value {
    json!({
        "name": name, "type": kind, "multiValued": multi, "required": required,
        "caseExact": false, "mutability": mutability, "returned": "default", "uniqueness": uniqueness,
    })
}

fn complex(name: &str, multi: bool, sub: Vec<Value>) -> Value {
    let mut a = attr(name, "complex", multi, false, "readWrite", "none");
    a["subAttributes"] = Value::Array(sub);
    a
}

fn schema_list(base: &str) -> Vec<Value> {
    let s = |v: &str| attr(v, "string", false, false, "readWrite", "none");
    let multi = |name: &str| {
        complex(
            name,
            true,
            vec![
                s("value"),
                s("type"),
                attr("primary", "boolean", false, false, "readWrite", "none"),
            ],
        )
    };
    let mut password = s("password");
    password["returned"] = json!("never");
    password["mutability"] = json!("writeOnly");
    let mut user_name = attr("userName", "string", false, true, "readWrite", "server");
    user_name["description"] = json!("Concord's username: 2 to 32 of a-z 0-9 . _ -; cannot change");
    let def = |id: &str, name: &str, description: &str, attributes: Vec<Value>| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": id, "name": name, "description": description, "attributes": attributes,
            "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")},
        })
    };
    vec![
        def(
            USER_SCHEMA,
            "User",
            "A person",
            vec![
                user_name,
                complex(
                    "name",
                    false,
                    vec![s("formatted"), s("givenName"), s("familyName")],
                ),
                s("displayName"),
                s("title"),
                s("timezone"),
                s("locale"),
                attr("active", "boolean", false, false, "readWrite", "none"),
                password,
                multi("emails"),
                multi("phoneNumbers"),
                complex("groups", true, vec![s("value"), s("display")]),
            ],
        ),
        def(
            ENTERPRISE_SCHEMA,
            "EnterpriseUser",
            "Enterprise attributes",
            vec![
                s("employeeNumber"),
                complex("manager", false, vec![s("value")]),
                attr("department", "string", false, false, "readOnly", "none"),
            ],
        ),
        def(
            GROUP_SCHEMA,
            "Group",
            "A department",
            vec![
                attr("displayName", "string", false, true, "readWrite", "none"),
                complex("members", true, vec![s("value"), s("type")]),
            ],
        ),
        def(
            DEPARTMENT_SCHEMA,
            "Department",
            "Where a department sits in Concord's tree",
            vec![s("parentId")],
        ),
    ]
}

async fn schemas(headers: HeaderMap) -> Response {
    let list = schema_list(&base_url(&headers));
    let n = list.len();
    list_response(n, Page { start: 1, count: n }, list)
}

async fn schema(headers: HeaderMap, Path(id): Path<String>) -> ScimResult {
    schema_list(&base_url(&headers))
        .into_iter()
        .find(|s| s["id"] == id.as_str())
        .map(|s| scim_json(StatusCode::OK, s))
        .ok_or_else(|| ScimError::not_found("schema", &id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(filter: &str) -> HashMap<String, String> {
        HashMap::from([("filter".to_string(), filter.to_string())])
    }

    #[test]
    fn eq_filters_parse_and_others_are_refused() {
        let f = filter(&q(r#"userName eq "alice""#), &["userName", "externalId"])
            .unwrap()
            .unwrap();
        assert_eq!(
            f,
            EqFilter {
                attribute: "userName".into(),
                value: "alice".into()
            }
        );
        let f = filter(&q(r#"USERNAME Eq "a \"q\"""#), &["userName"])
            .unwrap()
            .unwrap();
        assert_eq!(f.value, "a \"q\"");
        for bad in [
            r#"userName co "a""#,
            r#"userName eq "a" and active eq true"#,
            r#"title eq "x""#,
            "userName eq alice",
            "userName",
        ] {
            let e = filter(&q(bad), &["userName"]).unwrap_err();
            assert_eq!(e.scim_type, Some("invalidFilter"), "{bad}");
        }
    }

    #[test]
    fn pages_are_clamped() {
        let p = page(&HashMap::from([
            ("startIndex".into(), "0".into()),
            ("count".into(), "5000".into()),
        ]))
        .unwrap();
        assert_eq!((p.start, p.count), (1, MAX_RESULTS));
        assert!(page(&HashMap::from([("count".into(), "x".into())])).is_err());
    }

    #[test]
    fn token_comparison() {
        let a = sha256(b"token");
        assert!(constant_time_eq(&a, &sha256(b"token")));
        assert!(!constant_time_eq(&a, &sha256(b"tokem")));
    }
}
