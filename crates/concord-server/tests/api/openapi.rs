//! The OpenAPI document and the operations endpoints: the document is OpenAPI 3.1, lists
//! exactly the routes the server has (spelled out here, so adding or removing a route
//! without updating its documentation fails), declares bearer auth on everything but the
//! public endpoints, and documents error responses with the shared `ErrorBody` schema.
//! `/healthz`, `/readyz` and `/metrics` answer as documented.

use crate::support::spawn_app;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every operation the server serves, as `METHOD path` in the document's spelling.
const EXPECTED_OPERATIONS: &[&str] = &[
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/login/mfa",
    "POST /api/v1/auth/logout",
    "GET /api/v1/users/me/mfa",
    "POST /api/v1/users/me/mfa/totp",
    "POST /api/v1/users/me/mfa/totp/confirm",
    "POST /api/v1/users/me/mfa/totp/disable",
    "GET /api/v1/users/me/sessions",
    "DELETE /api/v1/users/me/sessions",
    "DELETE /api/v1/users/me/sessions/{session_id}",
    "DELETE /api/v1/users/{user_id}/sessions",
    "GET /api/v1/users/me",
    "GET /api/v1/users",
    "POST /api/v1/users",
    "GET /api/v1/users/{user_id}",
    "PATCH /api/v1/users/{user_id}",
    "GET /api/v1/users/{user_id}/profile",
    "PATCH /api/v1/users/me",
    "GET /api/v1/users/me/permissions",
    "GET /api/v1/client-settings",
    "GET /api/v1/departments",
    "POST /api/v1/departments",
    "GET /api/v1/departments/{department_id}",
    "PATCH /api/v1/departments/{department_id}",
    "DELETE /api/v1/departments/{department_id}",
    "GET /api/v1/departments/{department_id}/members",
    "GET /api/v1/permissions",
    "POST /api/v1/permissions",
    "GET /api/v1/permissions/check",
    "GET /api/v1/roles",
    "POST /api/v1/roles",
    "GET /api/v1/roles/{role_id}",
    "PATCH /api/v1/roles/{role_id}",
    "DELETE /api/v1/roles/{role_id}",
    "GET /api/v1/role-assignments",
    "POST /api/v1/role-assignments",
    "DELETE /api/v1/role-assignments/{assignment_id}",
    "GET /api/v1/audit",
    "GET /api/v1/audit/export",
    "GET /api/v1/channels",
    "POST /api/v1/channels",
    "GET /api/v1/channels/browse",
    "GET /api/v1/channels/{channel_id}",
    "PATCH /api/v1/channels/{channel_id}",
    "POST /api/v1/channels/{channel_id}/join",
    "POST /api/v1/channels/{channel_id}/leave",
    "GET /api/v1/channels/{channel_id}/members",
    "POST /api/v1/channels/{channel_id}/members",
    "DELETE /api/v1/channels/{channel_id}/members/{user_id}",
    "GET /api/v1/channels/{channel_id}/messages",
    "POST /api/v1/channels/{channel_id}/messages",
    "GET /api/v1/channels/{channel_id}/pins",
    "POST /api/v1/channels/{channel_id}/read",
    "POST /api/v1/channels/{channel_id}/typing",
    "POST /api/v1/dms",
    "GET /api/v1/channels/{channel_id}/membership-rule",
    "PUT /api/v1/channels/{channel_id}/membership-rule",
    "DELETE /api/v1/channels/{channel_id}/membership-rule",
    "POST /api/v1/channels/{channel_id}/membership-rule/preview",
    "GET /api/v1/channels/{channel_id}/geofence",
    "PUT /api/v1/channels/{channel_id}/geofence",
    "DELETE /api/v1/channels/{channel_id}/geofence",
    "POST /api/v1/me/location",
    "GET /api/v1/channels/{channel_id}/dlp",
    "PUT /api/v1/channels/{channel_id}/dlp",
    "GET /api/v1/search",
    "GET /api/v1/compliance/search",
    "POST /api/v1/admin/import/messages",
    "GET /api/v1/admin/search/reindex",
    "POST /api/v1/admin/search/reindex",
    "GET /api/v1/retention/policies",
    "PUT /api/v1/retention/policies",
    "GET /api/v1/retention/holds",
    "POST /api/v1/retention/holds",
    "DELETE /api/v1/retention/holds/{hold_id}",
    "POST /api/v1/retention/run",
    "GET /api/v1/channels/{channel_id}/chain",
    // Compliance and personal exports.
    "POST /api/v1/compliance/exports",
    "GET /api/v1/users/me/export",
    "GET /api/v1/messages/{message_id}",
    "PATCH /api/v1/messages/{message_id}",
    "DELETE /api/v1/messages/{message_id}",
    "GET /api/v1/messages/{message_id}/versions",
    "GET /api/v1/messages/{message_id}/thread",
    "PUT /api/v1/messages/{message_id}/reactions/{emoji}",
    "DELETE /api/v1/messages/{message_id}/reactions/{emoji}",
    "PUT /api/v1/messages/{message_id}/pin",
    "DELETE /api/v1/messages/{message_id}/pin",
    "GET /api/v1/channels/{channel_id}/files",
    "POST /api/v1/channels/{channel_id}/files",
    "GET /api/v1/channels/{channel_id}/file-policy",
    "PUT /api/v1/channels/{channel_id}/file-policy",
    "GET /api/v1/files/{file_id}",
    "PATCH /api/v1/files/{file_id}",
    "DELETE /api/v1/files/{file_id}",
    "GET /api/v1/files/{file_id}/content",
    "GET /api/v1/files/{file_id}/thumbnail",
    "GET /api/v1/files/{file_id}/preview",
    "POST /api/v1/files/{file_id}/link",
    "GET /api/v1/files/{file_id}/versions",
    "POST /api/v1/files/{file_id}/versions",
    "POST /api/v1/files/{file_id}/versions/{version}/restore",
    "GET /api/v1/files/{file_id}/comments",
    "POST /api/v1/files/{file_id}/comments",
    "GET /api/v1/apps",
    "POST /api/v1/apps",
    "GET /api/v1/apps/scopes",
    "GET /api/v1/apps/{app_id}",
    "DELETE /api/v1/apps/{app_id}",
    "POST /api/v1/apps/{app_id}/token",
    "GET /api/v1/ws",
    "GET /api/v1/openapi.json",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
];

/// Operations anyone may call without a token.
const PUBLIC_OPERATIONS: &[&str] = &[
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/login/mfa",
    "GET /api/v1/openapi.json",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
];

/// Operations that cannot fail with a client error of their own (no input, no auth), so
/// they document no 4xx responses.
const INFALLIBLE_OPERATIONS: &[&str] =
    &["GET /api/v1/openapi.json", "GET /healthz", "GET /metrics"];

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

const ERROR_BODY_REF: &str = "#/components/schemas/ErrorBody";

/// One documented operation.
struct Operation {
    /// `METHOD path`.
    key: String,
    method: Method,
    path: String,
    op: Value,
}

async fn document() -> Value {
    let app = spawn_app().await;
    let (status, doc) = app.get(None, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    doc
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("`paths` is an object") {
        for (method, op) in item.as_object().expect("a path item is an object") {
            if !HTTP_METHODS.contains(&method.as_str()) {
                continue;
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            out.push(Operation {
                key: format!("{method} {path}"),
                method,
                path: path.clone(),
                op: op.clone(),
            });
        }
    }
    out
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_the_api_version() {
    let doc = document().await;
    let version = doc["openapi"].as_str().expect("`openapi` is a string");
    assert!(version.starts_with("3.1"), "OpenAPI version {version}");
    assert!(
        doc["info"]["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{}",
        doc["info"]
    );
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn the_document_lists_exactly_the_served_routes() {
    let doc = document().await;
    let documented: BTreeSet<String> = operations(&doc).into_iter().map(|o| o.key).collect();
    let expected = set(EXPECTED_OPERATIONS);
    let missing: Vec<_> = expected.difference(&documented).collect();
    let unexpected: Vec<_> = documented.difference(&expected).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "undocumented or removed: {missing:?}; not in EXPECTED_OPERATIONS: {unexpected:?}"
    );
    assert_eq!(
        EXPECTED_OPERATIONS.len(),
        expected.len(),
        "duplicates in the list"
    );
}

/// Each documented operation is really served: with an invalid token, it answers with
/// something other than the fallback's "no such endpoint" or a 405.
#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = spawn_app().await;
    let (_, doc) = app.get(None, "/api/v1/openapi.json").await;
    let fallback = app.get(None, "/api/v1/surely-not-a-route").await;
    assert_eq!(fallback.0, StatusCode::NOT_FOUND);
    for o in operations(&doc) {
        let path = fill_path_params(&o.path);
        let (status, body) = app
            .request(o.method.clone(), Some("invalid"), &path, None)
            .await;
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{} is not routed: {body}",
            o.key
        );
        assert!(
            !(status == StatusCode::NOT_FOUND && body == fallback.1),
            "{} is documented but not served",
            o.key
        );
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{}: {body}",
            o.key
        );
    }
}

/// `/channels/{channel_id}/members/{user_id}` -> `/channels/1/members/1`.
fn fill_path_params(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').expect("unclosed path parameter") + open;
        out.push('1');
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_operation_but_the_public_ones_requires_the_bearer_scheme() {
    let doc = document().await;
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http", "bearer scheme: {scheme}");
    assert_eq!(
        scheme["scheme"].as_str().map(str::to_lowercase).as_deref(),
        Some("bearer"),
        "bearer scheme: {scheme}"
    );
    let public = set(PUBLIC_OPERATIONS);
    let mut seen_public = BTreeSet::new();
    for o in operations(&doc) {
        let security = o.op.get("security").and_then(Value::as_array);
        // Every requirement an operation names must be a scheme the document defines.
        for requirement in security.into_iter().flatten() {
            for name in requirement
                .as_object()
                .expect("a security requirement")
                .keys()
            {
                assert!(
                    doc["components"]["securitySchemes"].get(name).is_some(),
                    "{} names the undefined scheme {name}",
                    o.key
                );
            }
        }
        let bearer = security.is_some_and(|reqs| reqs.iter().any(|r| r.get("bearer").is_some()));
        // An empty requirement (`{}`) would make authentication optional.
        let optional = security.is_some_and(|reqs| {
            reqs.iter()
                .any(|r| r.as_object().is_some_and(|m| m.is_empty()))
        });
        if public.contains(&o.key) {
            assert!(
                !bearer,
                "{} is public but documented as requiring a token",
                o.key
            );
            seen_public.insert(o.key);
        } else {
            assert!(
                bearer && !optional,
                "{} does not declare the bearer requirement: {}",
                o.key,
                o.op
            );
        }
    }
    assert_eq!(seen_public, public);
    // Without a top-level requirement, operations without `security` are truly public.
    assert!(
        doc.get("security")
            .is_none_or(|s| s.as_array().is_some_and(|a| a.is_empty()))
    );
}

#[tokio::test]
async fn every_operation_documents_its_errors_with_the_error_body_schema() {
    let doc = document().await;
    let schema = &doc["components"]["schemas"]["ErrorBody"];
    assert!(
        schema["properties"]["error"].is_object(),
        "ErrorBody has an `error` property: {schema}"
    );
    let detail = schema["properties"]["error"]["$ref"]
        .as_str()
        .unwrap_or_default();
    if let Some(name) = detail.strip_prefix("#/components/schemas/") {
        let detail = &doc["components"]["schemas"][name];
        for field in ["code", "message"] {
            assert!(
                detail["properties"][field].is_object(),
                "{name}.{field}: {detail}"
            );
        }
    }
    let infallible = set(INFALLIBLE_OPERATIONS);
    for o in operations(&doc) {
        let responses = o.op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{} has no responses", o.key));
        assert!(
            responses.keys().any(|s| s.starts_with('2') || s == "101"),
            "{} documents no success response",
            o.key
        );
        let errors: BTreeSet<&str> = responses
            .keys()
            .map(String::as_str)
            .filter(|s| s.starts_with('4') || s.starts_with('5'))
            .collect();
        for status in &errors {
            let content = &responses[*status]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(
                content, ERROR_BODY_REF,
                "{} {status} must reference ErrorBody: {}",
                o.key, responses[*status]
            );
        }
        if infallible.contains(&o.key) {
            continue;
        }
        let mut required = vec!["400"];
        if o.op.get("security").is_some() || o.key.ends_with("/auth/login") {
            required.push("401");
        }
        if o.op.get("security").is_some() {
            required.push("403");
        }
        if o.path.contains('{') {
            required.push("404");
        }
        if o.op.get("requestBody").is_some() {
            required.extend(["413", "415"]);
        }
        for status in required {
            assert!(
                errors.contains(status),
                "{} does not document {status}; it documents {errors:?}",
                o.key
            );
        }
    }
}

/// Path parameters in a route are all documented as path parameters.
#[tokio::test]
async fn every_path_parameter_is_documented() {
    let doc = document().await;
    for o in operations(&doc) {
        let params: BTreeSet<String> = o.op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        let in_path: BTreeSet<String> = o
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(String::from)
            .collect();
        assert_eq!(params, in_path, "{} path parameters", o.key);
    }
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    let (status, body) = app.get(None, "/healthz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.get(None, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, Value::String("ready".into()));

    // A request the metrics must count, on a route with an id.
    let alice = app.user("alice").await;
    let general = app.channel(&alice, "general", "public", &[]).await;
    let (status, _) = app
        .get(Some(&alice.token), &format!("/api/v1/channels/{general}"))
        .await;
    assert_eq!(status, StatusCode::OK);

    let resp = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(resp.status(), StatusCode::OK);
    let content_type = resp.headers()[CONTENT_TYPE].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = resp.text().await.unwrap();
    let requests: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("concord_http_requests_total{"))
        .collect();
    assert!(
        !requests.is_empty(),
        "no concord_http_requests_total in:\n{text}"
    );
    // Labelled by the route pattern, never by the raw path (which would explode the series).
    assert!(
        requests
            .iter()
            .any(|l| l.contains("route=\"/api/v1/channels/{channel_id}\"")
                && l.contains("method=\"GET\"")
                && l.contains("status=\"200\"")),
        "no series for the channel route in {requests:#?}"
    );
    assert!(
        !requests
            .iter()
            .any(|l| l.contains(&format!("/api/v1/channels/{general}\""))),
        "a raw path leaked into the labels: {requests:#?}"
    );
    assert!(
        text.contains("concord_http_request_duration_seconds"),
        "{text}"
    );
}
