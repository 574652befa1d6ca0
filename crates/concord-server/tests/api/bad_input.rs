//! Bad input at every edge: malformed and mistyped JSON, unknown fields, wrong content types,
//! oversized bodies, unknown and malformed ids, bad query parameters, invalid texts and
//! emoji, unknown routes and methods, bad WebSocket frames, and rate limits.
//!
//! Every refusal must be a JSON error with a stable code (never a 500), and a refused write
//! must leave nothing behind: each test compares what a member sees before and after.
//!
//! Requests are written as `"METHOD /path {json body}"` with `{placeholders}` for ids (see
//! [`Room::fill`]); the body is sent exactly as written, as `application/json`.

use crate::support::{PASSWORD, TestApp, TestUser, WsClient, spawn_app, spawn_app_configured};
use concord_proto::CreateUserRequest;
use futures_util::SinkExt;
use reqwest::header::{CONTENT_TYPE, HeaderName, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// An id no channel, message or user has in these tests.
const MISSING: i64 = 999_999;

/// Every endpoint that takes a JSON body, with a body it accepts (in [`room`]).
const JSON_ENDPOINTS: &[&str] = &[
    r#"POST /api/v1/auth/login {"login": "alice", "password": "correct horse battery"}"#,
    r#"POST /api/v1/users {"username": "newbie", "password": "a long password"}"#,
    r#"POST /api/v1/channels {"name": "fresh", "kind": "public"}"#,
    r#"PATCH /api/v1/channels/{g} {"topic": "new topic"}"#,
    r#"POST /api/v1/channels/{g}/members {"user_ids": [{bob}]}"#,
    r#"POST /api/v1/channels/{g}/messages {"text": "hello"}"#,
    r#"POST /api/v1/channels/{g}/read {"seq": 1}"#,
    r#"POST /api/v1/channels/{g}/typing {}"#,
    r#"POST /api/v1/dms {"user_ids": [{bob}]}"#,
    r#"PATCH /api/v1/messages/{m} {"text": "edited"}"#,
];

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    retry_after: Option<String>,
    www_authenticate: Option<String>,
    body: Value,
}

/// `"METHOD /path {body}"` -> (method, path, body).
fn split_spec(spec: &str) -> (Method, &str, Option<&str>) {
    let (method, rest) = spec.split_once(' ').expect("METHOD /path");
    let (path, body) = rest
        .split_once(' ')
        .map_or((rest, None), |(p, b)| (p, Some(b)));
    (Method::from_bytes(method.as_bytes()).unwrap(), path, body)
}

/// Sends a request with exactly this body and `Content-Type`. Never accepts a 500, and
/// every error must be the JSON error envelope.
async fn send(
    app: &TestApp,
    token: Option<&str>,
    (method, path): (Method, &str),
    content_type: Option<&str>,
    body: Option<Vec<u8>>,
) -> Reply {
    let what = format!("{method} {path}");
    let mut req = app.http.request(method, app.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(ct) = content_type {
        req = req.header(CONTENT_TYPE, ct);
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let header = |name: HeaderName| {
        let value = resp.headers().get(name)?;
        Some(value.to_str().unwrap_or_default().to_string())
    };
    let (retry_after, www_authenticate) = (header(RETRY_AFTER), header(WWW_AUTHENTICATE));
    let content_type = header(CONTENT_TYPE).unwrap_or_default();
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    assert!(!status.is_server_error(), "{what} gave {status}: {body}");
    let (code, message) = (&body["error"]["code"], &body["error"]["message"]);
    let envelope = code.is_string() && message.is_string();
    let json = content_type.starts_with("application/json");
    let ok = !status.is_client_error() || (json && envelope);
    assert!(
        ok,
        "{what}: not a JSON error: {status} {content_type} {body}"
    );
    Reply {
        status,
        retry_after,
        www_authenticate,
        body,
    }
}

/// Sends a spec; the body, if any, goes out as written with `Content-Type: application/json`.
async fn call(app: &TestApp, token: Option<&str>, spec: &str) -> Reply {
    let (method, path, body) = split_spec(spec);
    let (ct, body) = (body.map(|_| "application/json"), body.map(|b| b.into()));
    send(app, token, (method, path), ct, body).await
}

#[track_caller]
fn assert_error(reply: &Reply, status: u16, code: &str, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.body);
    assert_eq!(reply.body["error"]["code"], code, "{what}: {}", reply.body);
}

/// Alice is an org admin who owns the public channel `general`, where Bob is a member and
/// Alice has posted one message.
struct Room {
    app: TestApp,
    alice: TestUser,
    bob: TestUser,
    general: i64,
    msg: i64,
}

async fn room_on(app: TestApp) -> Room {
    let alice = app.admin("alice").await;
    let bob = app.user("bob").await;
    let general = app.channel(&alice, "general", "public", &[&bob]).await;
    let msg = app.send(&alice, general, "first").await["id"]
        .as_i64()
        .unwrap();
    Room {
        app,
        alice,
        bob,
        general,
        msg,
    }
}

async fn room() -> Room {
    room_on(spawn_app().await).await
}

impl Room {
    /// Fills `{g}` (general), `{m}` (its first message), `{x}` (a missing id), `{alice}`
    /// and `{bob}`.
    fn fill(&self, template: &str) -> String {
        let vars = [
            ("g", self.general),
            ("m", self.msg),
            ("x", MISSING),
            ("alice", self.alice.id),
            ("bob", self.bob.id),
        ];
        let mut out = template.to_string();
        for (name, id) in vars {
            out = out.replace(&format!("{{{name}}}"), &id.to_string());
        }
        out
    }

    async fn by(&self, user: &TestUser, spec: &str) -> Reply {
        call(&self.app, Some(&user.token), &self.fill(spec)).await
    }

    /// `user` sends `spec` and gets `status`.
    async fn expect(&self, user: &TestUser, spec: &str, status: u16) -> Reply {
        let r = self.by(user, spec).await;
        assert_eq!(r.status, status, "{} {spec}: {}", user.username, r.body);
        r
    }

    /// `user` sends `spec` and gets the error `code` with `status`.
    async fn refuse(&self, user: &TestUser, spec: &str, status: u16, code: &str) -> Reply {
        let r = self.by(user, spec).await;
        assert_error(&r, status, code, &format!("{} {spec}", user.username));
        r
    }

    /// Alice sends `spec` and gets `status`.
    async fn ok(&self, spec: &str, status: u16) -> Reply {
        self.expect(&self.alice, spec, status).await
    }

    /// Alice sends `spec` and gets the error `code` with `status`.
    async fn refused(&self, spec: &str, status: u16, code: &str) -> Reply {
        self.refuse(&self.alice, spec, status, code).await
    }

    /// What Alice sees of the org and of `channel`: her channels with read state, the user
    /// directory, and the channel's details, members, history and pins. Equal snapshots mean
    /// nothing was written.
    async fn snapshot_of(&self, channel: i64) -> Value {
        let mut out = serde_json::Map::new();
        for spec in [
            "GET /api/v1/channels".to_string(),
            "GET /api/v1/users?limit=200".to_string(),
            format!("GET /api/v1/channels/{channel}"),
            format!("GET /api/v1/channels/{channel}/members"),
            format!("GET /api/v1/channels/{channel}/messages?limit=200"),
            format!("GET /api/v1/channels/{channel}/pins"),
        ] {
            let body = self.expect(&self.alice, &spec, 200).await.body;
            out.insert(spec, body);
        }
        Value::Object(out)
    }

    async fn snapshot(&self) -> Value {
        self.snapshot_of(self.general).await
    }
}

// ---------------------------------------------------------------------------------------
// JSON bodies
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_json_is_400_malformed_json_and_writes_nothing() {
    let r = room().await;
    let before = r.snapshot().await;
    // Every syntax error comes before the first complete key, so no endpoint can refuse the
    // body for an unknown field first.
    let bodies: [&[u8]; 9] = [
        b"{\"te",
        b"{,}",
        b"{text: 1}",
        b"{'text': 'x'}",
        b"not json at all",
        b"",
        b"{\"\\ud800\": 1}",
        b"{\"\xff\xfe\": 1}",
        b"[",
    ];
    for spec in JSON_ENDPOINTS {
        let (method, path, _) = split_spec(spec);
        let path = r.fill(path);
        for body in bodies {
            let target = (method.clone(), path.as_str());
            let (token, json) = (Some(r.alice.token.as_str()), Some("application/json"));
            let reply = send(&r.app, token, target, json, Some(body.to_vec())).await;
            let what = format!("{method} {path} {:?}", String::from_utf8_lossy(body));
            assert_error(&reply, 400, "malformed_json", &what);
        }
    }
    assert_eq!(r.snapshot().await, before);
}

#[tokio::test]
async fn wrongly_typed_json_is_400_invalid_input_and_writes_nothing() {
    let r = room().await;
    let before = r.snapshot().await;
    for spec in [
        r#"POST /api/v1/channels/{g}/messages {"text": 1}"#,
        r#"POST /api/v1/channels/{g}/messages {"text": null}"#,
        r#"POST /api/v1/channels/{g}/messages {}"#,
        r#"POST /api/v1/channels/{g}/messages []"#,
        r#"POST /api/v1/channels/{g}/messages "hello""#,
        r#"POST /api/v1/channels/{g}/messages null"#,
        r#"POST /api/v1/channels/{g}/messages {"text": "x", "thread_root_id": "one"}"#,
        r#"POST /api/v1/channels/{g}/messages {"text": "x", "client_msg_id": 5}"#,
        r#"PATCH /api/v1/messages/{m} {"text": ["x"]}"#,
        r#"PATCH /api/v1/channels/{g} {"name": 5}"#,
        r#"POST /api/v1/channels {"name": "x", "kind": "dm"}"#,
        r#"POST /api/v1/channels {"name": "x"}"#,
        r#"POST /api/v1/channels {"name": "x", "kind": "public", "member_ids": "all"}"#,
        r#"POST /api/v1/channels/{g}/read {"seq": "1"}"#,
        r#"POST /api/v1/channels/{g}/read {"seq": 1.5}"#,
        r#"POST /api/v1/channels/{g}/read {"seq": 1e30}"#,
        r#"POST /api/v1/channels/{g}/read {"seq": 99999999999999999999}"#,
        r#"POST /api/v1/channels/{g}/members {"user_ids": [true]}"#,
        r#"POST /api/v1/dms {"user_ids": "bob"}"#,
        r#"POST /api/v1/channels/{g}/typing {"thread_root_id": "x"}"#,
        r#"POST /api/v1/users {"username": "x", "password": 12345678}"#,
        r#"POST /api/v1/auth/login {"login": 1, "password": "x"}"#,
        r#"POST /api/v1/auth/login {"login": "alice"}"#,
    ] {
        r.refused(spec, 400, "invalid_input").await;
    }
    assert_eq!(r.snapshot().await, before);
}

#[tokio::test]
async fn unknown_fields_are_rejected_and_write_nothing() {
    let r = room().await;
    let before = r.snapshot().await;
    for spec in JSON_ENDPOINTS.iter().filter(|s| !s.contains("/typing")) {
        let (method, path, body) = split_spec(spec);
        let mut body: Value = serde_json::from_str(&r.fill(body.unwrap())).unwrap();
        body["bogus_field"] = json!(true);
        let spec = format!("{method} {path} {body}");
        let reply = r.refused(&spec, 400, "invalid_input").await;
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("bogus_field"), "{message}");
    }
    assert_eq!(r.snapshot().await, before);

    // The allowed counterpart: the same bodies without the unknown field are accepted.
    for spec in JSON_ENDPOINTS {
        let reply = r.by(&r.alice, spec).await;
        assert!(reply.status.is_success(), "{spec}: {}", reply.body);
    }
}

/// Typing is the one request body that does not refuse unknown fields.
#[tokio::test]
async fn typing_rejects_unknown_fields() {
    let r = room().await;
    let spec = r#"POST /api/v1/channels/{g}/typing {"thread_root": 1}"#;
    r.refuse(&r.bob, spec, 400, "invalid_input").await;
    let known = r#"POST /api/v1/channels/{g}/typing {"thread_root_id": null}"#;
    r.expect(&r.bob, known, 204).await;
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_415() {
    let r = room().await;
    let before = r.snapshot().await;
    for spec in JSON_ENDPOINTS {
        let spec = r.fill(spec);
        let (method, path, body) = split_spec(&spec);
        let types = [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ];
        for ct in types {
            let target = (method.clone(), path);
            let bytes = Some(body.unwrap().as_bytes().to_vec());
            let reply = send(&r.app, Some(&r.alice.token), target, ct, bytes).await;
            let what = format!("{method} {path} with Content-Type {ct:?}");
            assert_error(&reply, 415, "unsupported_media_type", &what);
        }
    }
    assert_eq!(r.snapshot().await, before);

    let path = r.fill("/api/v1/channels/{g}/messages");
    let target = (Method::POST, path.as_str());
    let body = br#"{"text": "with charset"}"#.to_vec();
    let ct = Some("application/json; charset=utf-8");
    let reply = send(&r.app, Some(&r.alice.token), target, ct, Some(body)).await;
    assert_eq!(reply.status, 201, "JSON with a charset: {}", reply.body);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_writes_nothing() {
    let app = spawn_app_configured(|c| c.limits.max_body_bytes = 512).await;
    let r = room_on(app).await;
    let before = r.snapshot().await;
    let big = "a".repeat(600);
    for spec in [
        format!(r#"POST /api/v1/channels/{{g}}/messages {{"text": "{big}"}}"#),
        format!(r#"PATCH /api/v1/messages/{{m}} {{"text": "{big}"}}"#),
        format!(r#"PATCH /api/v1/channels/{{g}} {{"topic": "{big}"}}"#),
        format!(r#"POST /api/v1/channels {{"name": "b", "kind": "public", "purpose": "{big}"}}"#),
        format!(r#"POST /api/v1/users {{"username": "big", "password": "{big}"}}"#),
    ] {
        r.refused(&spec, 413, "payload_too_large").await;
    }
    let login = format!(r#"POST /api/v1/auth/login {{"login": "alice", "password": "{big}"}}"#);
    let reply = call(&r.app, None, &login).await;
    assert_error(&reply, 413, "payload_too_large", "login");
    assert_eq!(r.snapshot().await, before);

    // Just under the limit is fine.
    let text = "b".repeat(400);
    let spec = format!(r#"POST /api/v1/channels/{{g}}/messages {{"text": "{text}"}}"#);
    r.ok(&spec, 201).await;
}

// ---------------------------------------------------------------------------------------
// Ids, paths, queries, routes
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_ids_are_404_and_write_nothing() {
    let r = room().await;
    let before = r.snapshot().await;
    for spec in [
        "GET /api/v1/channels/{x}",
        "GET /api/v1/channels/-1",
        r#"PATCH /api/v1/channels/{x} {"topic": "t"}"#,
        "POST /api/v1/channels/{x}/join",
        "POST /api/v1/channels/{x}/leave",
        "GET /api/v1/channels/{x}/members",
        r#"POST /api/v1/channels/{x}/members {"user_ids": [{bob}]}"#,
        "DELETE /api/v1/channels/{x}/members/{bob}",
        "GET /api/v1/channels/{x}/messages",
        r#"POST /api/v1/channels/{x}/messages {"text": "into the void"}"#,
        "GET /api/v1/channels/{x}/pins",
        r#"POST /api/v1/channels/{x}/read {"seq": 0}"#,
        "POST /api/v1/channels/{x}/typing {}",
        "GET /api/v1/messages/{x}",
        r#"PATCH /api/v1/messages/{x} {"text": "t"}"#,
        "DELETE /api/v1/messages/{x}",
        "GET /api/v1/messages/{x}/versions",
        "GET /api/v1/messages/{x}/thread",
        "PUT /api/v1/messages/{x}/reactions/wave",
        "DELETE /api/v1/messages/{x}/reactions/wave",
        "PUT /api/v1/messages/{x}/pin",
        "DELETE /api/v1/messages/{x}/pin",
        "GET /api/v1/users/{x}",
        // Unknown users inside otherwise valid requests: nothing is half-applied.
        "DELETE /api/v1/channels/{g}/members/{x}",
        r#"POST /api/v1/channels/{g}/members {"user_ids": [{alice}, {x}]}"#,
        r#"POST /api/v1/dms {"user_ids": [{x}]}"#,
        r#"POST /api/v1/dms {"user_ids": [{bob}, {x}]}"#,
        r#"POST /api/v1/channels/{g}/messages {"text": "reply", "thread_root_id": {x}}"#,
    ] {
        r.refused(spec, 404, "not_found").await;
    }
    assert_eq!(r.snapshot().await, before);
    // The counterpart: known ids work.
    r.ok("GET /api/v1/messages/{m}", 200).await;
    r.ok("GET /api/v1/users/{bob}", 200).await;
}

#[tokio::test]
async fn malformed_path_ids_are_400_invalid_path() {
    let r = room().await;
    let before = r.snapshot().await;
    for spec in [
        "GET /api/v1/channels/abc",
        "GET /api/v1/channels/1.5",
        "GET /api/v1/channels/0x10",
        "GET /api/v1/channels/99999999999999999999",
        "GET /api/v1/channels/%20",
        r#"PATCH /api/v1/channels/abc {"topic": "t"}"#,
        "POST /api/v1/channels/abc/join",
        "POST /api/v1/channels/abc/leave",
        "GET /api/v1/channels/abc/members",
        r#"POST /api/v1/channels/abc/members {"user_ids": [1]}"#,
        "DELETE /api/v1/channels/1/members/abc",
        "DELETE /api/v1/channels/abc/members/1",
        "GET /api/v1/channels/abc/messages",
        r#"POST /api/v1/channels/abc/messages {"text": "hi"}"#,
        "GET /api/v1/channels/abc/pins",
        r#"POST /api/v1/channels/abc/read {"seq": 0}"#,
        "POST /api/v1/channels/abc/typing {}",
        "GET /api/v1/messages/abc",
        r#"PATCH /api/v1/messages/abc {"text": "t"}"#,
        "DELETE /api/v1/messages/abc",
        "GET /api/v1/messages/abc/versions",
        "GET /api/v1/messages/abc/thread",
        "PUT /api/v1/messages/abc/reactions/wave",
        "DELETE /api/v1/messages/abc/reactions/wave",
        "PUT /api/v1/messages/abc/pin",
        "DELETE /api/v1/messages/abc/pin",
        "GET /api/v1/users/abc",
    ] {
        r.refused(spec, 400, "invalid_path").await;
    }
    assert_eq!(r.snapshot().await, before);
}

#[tokio::test]
async fn malformed_query_parameters_are_400_invalid_query() {
    let r = room().await;
    for spec in [
        "GET /api/v1/channels/{g}/messages?limit=abc",
        "GET /api/v1/channels/{g}/messages?before=1.5",
        "GET /api/v1/channels/{g}/messages?after=x",
        "GET /api/v1/channels/{g}/messages?around=99999999999999999999",
        "GET /api/v1/channels/{g}/messages?at=yesterday",
        "GET /api/v1/channels/{g}/messages?at=2024-13-01T00:00:00Z",
        "GET /api/v1/channels/{g}/messages?unknown=1",
        "GET /api/v1/channels/browse?limit=ten",
        "GET /api/v1/channels/browse?after=x",
        "GET /api/v1/channels/browse?page=2",
        "GET /api/v1/users?limit=ten",
        "GET /api/v1/users?after=-x",
        "GET /api/v1/users?sort=name",
        "GET /api/v1/ws?since=abc",
    ] {
        r.refused(spec, 400, "invalid_query").await;
    }
    // Well-formed queries are accepted.
    for spec in [
        "GET /api/v1/channels/{g}/messages?limit=1",
        "GET /api/v1/channels/{g}/messages?at=2024-01-01T00:00:00Z",
        "GET /api/v1/channels/browse?after=0&limit=10",
        "GET /api/v1/users?after=0&limit=10",
    ] {
        r.ok(spec, 200).await;
    }
}

#[tokio::test]
async fn history_anchors_and_limits_are_validated() {
    let r = room().await;
    for i in 2..=5 {
        r.app
            .send(&r.alice, r.general, &format!("message {i}"))
            .await;
    }
    for q in [
        "before=3&after=1",
        "before=3&around=2",
        "after=1&at=2024-01-01T00:00:00Z",
        "around=2&at=2024-01-01T00:00:00Z",
        "before=1&after=1&around=1",
        "before=-1",
        "after=-1",
        "around=-5",
        "limit=0",
        "limit=-1",
        "limit=201",
        "limit=9223372036854775807",
    ] {
        let spec = format!("GET /api/v1/channels/{{g}}/messages?{q}");
        r.refused(&spec, 400, "invalid_input").await;
    }
    for (q, seqs) in [
        ("limit=2", vec![4, 5]),
        ("before=3", vec![1, 2]),
        ("after=3", vec![4, 5]),
        ("around=3&limit=3", vec![2, 3, 4]),
        ("limit=200", vec![1, 2, 3, 4, 5]),
        ("before=0", vec![]),
        ("after=5", vec![]),
    ] {
        let spec = format!("GET /api/v1/channels/{{g}}/messages?{q}");
        let page = r.ok(&spec, 200).await.body;
        assert_eq!(seqs_of(&page), seqs, "{q}");
    }
    for spec in [
        "GET /api/v1/users?limit=0",
        "GET /api/v1/users?limit=201",
        "GET /api/v1/users?after=-1",
        "GET /api/v1/channels/browse?limit=0",
        "GET /api/v1/channels/browse?after=-1",
    ] {
        r.refused(spec, 400, "invalid_input").await;
    }
}

/// The sequence numbers of a history page.
fn seqs_of(page: &Value) -> Vec<i64> {
    let messages = page["messages"].as_array().unwrap();
    messages
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect()
}

/// Anchors at the very end of the integer range are valid numbers and must give an empty
/// page, not an overflow.
#[tokio::test]
async fn history_anchors_at_the_integer_limit_do_not_overflow() {
    let r = room().await;
    let max = i64::MAX;
    for (q, want) in [
        (format!("after={max}"), vec![]),
        (format!("around={max}"), vec![]),
        (format!("around={max}&limit=200"), vec![]),
        (format!("after={}", max - 1), vec![]),
        (format!("before={max}"), vec![1]),
    ] {
        let spec = format!("GET /api/v1/channels/{{g}}/messages?{q}");
        let page = r.ok(&spec, 200).await.body;
        assert_eq!(seqs_of(&page), want, "{q}");
    }
    for list in ["channels/browse", "users"] {
        r.ok(&format!("GET /api/v1/{list}?after={max}"), 200).await;
    }
    let far = format!(r#"POST /api/v1/channels/{{g}}/read {{"seq": {max}}}"#);
    r.refused(&far, 400, "invalid_input").await;
}

#[tokio::test]
async fn unknown_routes_are_404_json_and_wrong_methods_405_json() {
    let r = room().await;
    for spec in [
        "GET /api/v1/nope",
        "GET /api/v1/channels/1/nope",
        "GET /api/v2/channels",
        "GET /api",
        "GET /api/v1/messages/1/reactions",
        // Other GET paths belong to the web client (see web_e2e); other methods stay JSON.
        "POST /nope",
        "DELETE /",
    ] {
        r.refused(spec, 404, "not_found").await;
        assert_error(&call(&r.app, None, spec).await, 404, "not_found", spec);
    }
    for spec in [
        "DELETE /api/v1/users",
        "PUT /api/v1/channels",
        "GET /api/v1/auth/login",
        "POST /api/v1/messages/{m}",
        "PATCH /api/v1/channels/{g}/messages",
        "POST /healthz",
        "DELETE /api/v1/openapi.json",
    ] {
        r.refused(spec, 405, "method_not_allowed").await;
    }
}

// ---------------------------------------------------------------------------------------
// Texts, emoji, names
// ---------------------------------------------------------------------------------------

fn send_spec(text: &str) -> String {
    let body = json!({"text": text});
    format!("POST /api/v1/channels/{{g}}/messages {body}")
}

fn edit_spec(text: &str) -> String {
    format!("PATCH /api/v1/messages/{{m}} {}", json!({"text": text}))
}

#[tokio::test]
async fn over_long_messages_are_400_message_too_long_everywhere() {
    let app = spawn_app_configured(|c| c.limits.max_message_chars = 10).await;
    let r = room_on(app).await;
    let before = r.snapshot().await;
    let mut too_long: Vec<String> = ["a", "é", "😀"].map(|c| c.repeat(11)).into();
    too_long.push(format!("{}\n", "a".repeat(10)));
    for text in too_long {
        r.refused(&send_spec(&text), 400, "message_too_long").await;
        r.refused(&edit_spec(&text), 400, "message_too_long").await;
    }
    let mut ws = r.app.ws(&r.alice, None).await;
    ws.hello().await;
    let frame = send_frame("l", r.general, &"z".repeat(11));
    ws.send_json(frame).await;
    expect_error_frame(&mut ws, "message_too_long", Some("l")).await;
    assert_eq!(r.snapshot().await, before);
    let versions = r.ok("GET /api/v1/messages/{m}/versions", 200).await.body;
    assert_eq!(versions.as_array().map(Vec::len), Some(1), "{versions}");

    // The limit counts characters, not bytes: ten of anything fits.
    for text in ["a".repeat(10), "你".repeat(10), "😀".repeat(10)] {
        let sent = r.ok(&send_spec(&text), 201).await;
        assert_eq!(sent.body["text"], text.as_str());
    }
    r.ok(&edit_spec(&"é".repeat(10)), 200).await;
}

#[tokio::test]
async fn blank_texts_control_characters_and_bad_keys_are_rejected() {
    let r = room().await;
    let other = r.app.channel(&r.alice, "other", "public", &[]).await;
    let reply = r#"POST /api/v1/channels/{g}/messages {"text": "re", "thread_root_id": {m}}"#;
    let reply = r.ok(reply, 201).await.body["id"].clone();
    let before = (r.snapshot().await, r.snapshot_of(other).await);
    let texts = [
        "",
        " ",
        "\n\t \r\n",
        "\0",
        "a\0b",
        "bell\x07",
        "\x1b[31mred",
        "del\x7f",
        "c1\u{85}",
    ];
    for text in texts {
        r.refused(&send_spec(text), 400, "invalid_input").await;
        r.refused(&edit_spec(text), 400, "invalid_input").await;
    }
    let long_key = "k".repeat(65);
    for key in ["", "has space", long_key.as_str(), "é", "tab\t"] {
        let body = json!({"text": "keyed", "client_msg_id": key});
        let spec = format!("POST /api/v1/channels/{{g}}/messages {body}");
        r.refused(&spec, 400, "invalid_input").await;
    }
    // A reply to a reply, and a reply across channels, are refused too.
    let nested = json!({"text": "nested", "thread_root_id": reply});
    let nested = format!("POST /api/v1/channels/{{g}}/messages {nested}");
    r.refused(&nested, 400, "invalid_input").await;
    let across = json!({"text": "across", "thread_root_id": r.msg});
    let across = format!("POST /api/v1/channels/{other}/messages {across}");
    r.refused(&across, 404, "not_found").await;
    assert_eq!((r.snapshot().await, r.snapshot_of(other).await), before);

    // The allowed counterpart: newlines and tabs inside a real text are fine.
    let body = json!({"text": "line one\nline two\twith tab", "client_msg_id": "key-1"});
    let spec = format!("POST /api/v1/channels/{{g}}/messages {body}");
    let ok = r.ok(&spec, 201).await;
    assert_eq!(ok.body["text"], "line one\nline two\twith tab");
}

#[tokio::test]
async fn invalid_emoji_are_rejected() {
    let r = room().await;
    let before = r.snapshot().await;
    let long = "x".repeat(65);
    let bad = ["a%20b", "a:b", "::", "%00", "%09", "%0A", "tab%09"];
    for emoji in bad.into_iter().chain([long.as_str()]) {
        for method in ["PUT", "DELETE"] {
            let spec = format!("{method} /api/v1/messages/{{m}}/reactions/{emoji}");
            r.refuse(&r.bob, &spec, 400, "invalid_input").await;
        }
    }
    assert_eq!(r.snapshot().await, before);

    // Shortcodes (with or without colons) and emoji characters are accepted.
    let good = [
        (":thumbsup:", "thumbsup"),
        ("%2B1", "+1"),
        ("%F0%9F%91%8D", "👍"),
    ];
    for (emoji, stored) in good {
        let spec = format!("PUT /api/v1/messages/{{m}}/reactions/{emoji}");
        r.expect(&r.bob, &spec, 204).await;
        let msg = r.ok("GET /api/v1/messages/{m}", 200).await.body;
        let found = msg["reactions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["emoji"] == stored);
        assert!(found, "{emoji}: {msg}");
    }
}

#[tokio::test]
async fn invalid_names_ids_and_read_positions_write_nothing() {
    let r = room().await;
    let before = r.snapshot().await;
    let (long_name, long_topic) = ("n".repeat(81), "t".repeat(251));
    let channel = |body: Value| format!("POST /api/v1/channels {body}");
    let update = |body: Value| format!("PATCH /api/v1/channels/{{g}} {body}");
    let user = |body: Value| format!("POST /api/v1/users {body}");
    let pw = "a long password";
    let crowd = json!({"user_ids": (1000..1008).collect::<Vec<_>>()});
    for spec in [
        channel(json!({"name": "", "kind": "public"})),
        channel(json!({"name": "   ", "kind": "public"})),
        channel(json!({"name": "a\u{0}b", "kind": "public"})),
        channel(json!({"name": "a\nb", "kind": "public"})),
        channel(json!({"name": long_name, "kind": "public"})),
        channel(json!({"name": "ok", "kind": "public", "topic": long_topic})),
        channel(json!({"name": "ok", "kind": "public", "purpose": "\u{7}"})),
        update(json!({"name": ""})),
        update(json!({"name": long_name})),
        update(json!({"name": "fine", "topic": long_topic})),
        r#"POST /api/v1/channels/{g}/members {"user_ids": []}"#.into(),
        r#"POST /api/v1/channels/{g}/read {"seq": -1}"#.into(),
        r#"POST /api/v1/channels/{g}/read {"seq": 2}"#.into(),
        format!("POST /api/v1/dms {crowd}"),
        user(json!({"username": "a", "password": pw})),
        user(json!({"username": "has space", "password": pw})),
        user(json!({"username": "here", "password": pw})),
        user(json!({"username": "shorty", "password": "short"})),
        user(json!({"username": "mailer", "password": pw, "email": "not-an-email"})),
        user(json!({"username": "named", "password": pw, "display_name": " "})),
    ] {
        r.refused(&spec, 400, "invalid_input").await;
    }
    let duplicate = user(json!({"username": "BOB", "password": pw}));
    r.refused(&duplicate, 409, "conflict").await;
    assert_eq!(r.snapshot().await, before);
}

// ---------------------------------------------------------------------------------------
// WebSocket frames
// ---------------------------------------------------------------------------------------

/// The next frame that is not an event must be an error with `code`.
async fn expect_error_frame(ws: &mut WsClient, code: &str, request_id: Option<&str>) {
    let mut f = ws.next_event().await;
    while f["type"] == "event" {
        f = ws.next_event().await;
    }
    assert_eq!(
        (&f["type"], &f["code"]),
        (&json!("error"), &json!(code)),
        "{f}"
    );
    assert!(f["message"].is_string(), "{f}");
    assert_eq!(f["request_id"].as_str(), request_id, "{f}");
}

/// Waits for the ack of a send, skipping the events it causes.
async fn expect_ack(ws: &mut WsClient, request_id: &str) -> Value {
    loop {
        let f = ws.next_event().await;
        if f["type"] == "ack" {
            assert_eq!(f["request_id"], request_id, "{f}");
            return f;
        }
        assert_eq!(f["type"], "event", "{f}");
    }
}

/// Text frames that are not a valid client frame.
const INVALID_FRAMES: &[&str] = &[
    "{not json",
    "",
    "[1,2",
    "\"just a string",
    "{}",
    "[]",
    r#"{"no_type": 1}"#,
    r#"{"type": "send"}"#,
    r#"{"type": "send", "channel_id": "general", "text": "x"}"#,
    r#"{"type": "send", "channel_id": 1, "text": 5}"#,
    r#"{"type": "typing"}"#,
];

/// Well-formed frames of a type the server does not know.
const UNKNOWN_TYPE_FRAMES: &[&str] = &[
    r#"{"type": "bogus"}"#,
    r#"{"type": "SEND"}"#,
    r#"{"type": "delete_everything", "channel_id": 1}"#,
];

fn send_frame(request_id: &str, channel: i64, text: &str) -> Value {
    json!({"type": "send", "request_id": request_id, "channel_id": channel, "text": text})
}

async fn expect_pong(ws: &mut WsClient) {
    ws.send_json(json!({"type": "ping"})).await;
    let f = ws.next_event().await;
    assert_eq!(f["type"], "pong", "the connection is still usable: {f}");
}

#[tokio::test]
async fn ws_bad_frames_get_error_frames_and_the_connection_survives() {
    let r = room().await;
    let before = r.snapshot().await;
    let mut ws = r.app.ws(&r.alice, None).await;
    ws.hello().await;

    for (frames, code) in [
        (INVALID_FRAMES, "invalid_frame"),
        (UNKNOWN_TYPE_FRAMES, "unknown_type"),
    ] {
        for text in frames {
            let frame = WsMessage::Text((*text).into());
            ws.stream.send(frame).await.unwrap();
            expect_error_frame(&mut ws, code, None).await;
            expect_pong(&mut ws).await;
        }
    }
    let binary = WsMessage::Binary(b"{}".to_vec().into());
    ws.stream.send(binary).await.unwrap();
    expect_error_frame(&mut ws, "unsupported_frame", None).await;
    expect_pong(&mut ws).await;

    // Valid JSON with invalid content: a domain error, with the request id echoed.
    let g = r.general;
    for (channel, text, code) in [
        (g, "   ", "invalid_input"),
        (g, "nul\0", "invalid_input"),
        (MISSING, "hi", "not_found"),
    ] {
        ws.send_json(send_frame("q", channel, text)).await;
        expect_error_frame(&mut ws, code, Some("q")).await;
    }
    assert_eq!(r.snapshot().await, before);

    // And the connection still does real work.
    ws.send_json(send_frame("ok", g, "still here")).await;
    let ack = expect_ack(&mut ws, "ok").await;
    assert_eq!(ack["message"]["text"], "still here");
}

#[tokio::test]
async fn ws_frames_over_the_limit_close_the_connection_with_1009() {
    let app = spawn_app_configured(|c| c.limits.max_ws_message_bytes = 1024).await;
    let r = room_on(app).await;
    let mut ws = r.app.ws(&r.alice, None).await;
    ws.hello().await;
    let frame = |id: &str, n: usize| send_frame(id, r.general, &"s".repeat(n));
    // Under the limit: fine.
    ws.send_json(frame("small", 500)).await;
    expect_ack(&mut ws, "small").await;
    let before = r.snapshot().await;

    ws.send_json(frame("big", 2000)).await;
    let (code, _reason) = ws.expect_close().await;
    assert_eq!(code, 1009, "close code for a frame over the limit");
    assert_eq!(r.snapshot().await, before);

    // The server is fine and a new connection works.
    let mut again = r.app.ws(&r.alice, None).await;
    again.hello().await;
    expect_pong(&mut again).await;
}

#[tokio::test]
async fn ws_endpoint_without_an_upgrade_is_a_json_400() {
    let r = room().await;
    let reply = r.by(&r.alice, "GET /api/v1/ws").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
}

// ---------------------------------------------------------------------------------------
// Rate limits and credentials
// ---------------------------------------------------------------------------------------

#[track_caller]
fn assert_rate_limited(reply: &Reply, what: &str) {
    assert_error(reply, 429, "rate_limited", what);
    let raw = reply.retry_after.clone().unwrap_or_default();
    let secs: u64 = raw.parse().unwrap_or(0);
    assert!((1..=60).contains(&secs), "{what}: Retry-After {raw:?}");
}

#[tokio::test]
async fn sends_over_the_rate_limit_get_429_with_retry_after() {
    let app = spawn_app_configured(|c| {
        c.rate_limits.sends_per_second = 1;
        c.rate_limits.send_burst = 2;
    })
    .await;
    let r = room_on(app).await;
    // Connected first, so the socket's send below follows the REST ones at once.
    let mut ws = r.app.ws(&r.bob, None).await;
    ws.hello().await;
    r.expect(&r.bob, &send_spec("one"), 201).await;
    r.expect(&r.bob, &send_spec("two"), 201).await;
    assert_rate_limited(&r.by(&r.bob, &send_spec("three")).await, "third quick send");
    let channel = r.expect(&r.bob, "GET /api/v1/channels/{g}", 200).await;
    assert_eq!(channel.body["last_seq"], 3, "the refused send wrote");

    // The WebSocket shares the limit and says so in an error frame.
    ws.send_json(send_frame("w", r.general, "ws")).await;
    expect_error_frame(&mut ws, "rate_limited", Some("w")).await;

    // The limit is per user: Alice (one message so far) still gets through.
    r.ok(&send_spec("alice"), 201).await;
}

async fn create_quietly(app: &TestApp, username: &str) {
    let req = CreateUserRequest {
        username: username.into(),
        password: PASSWORD.into(),
        email: None,
        display_name: None,
        is_admin: false,
        guest: false,
    };
    let created = app.services.create_user(None, req).await;
    created.expect("create user");
}

async fn login(app: &TestApp, login: &str, password: &str) -> Reply {
    let body = json!({"login": login, "password": password});
    call(app, None, &format!("POST /api/v1/auth/login {body}")).await
}

#[tokio::test]
async fn logins_over_the_per_account_limit_get_429() {
    let app = spawn_app_configured(|c| c.rate_limits.logins_per_minute_per_account = 2).await;
    create_quietly(&app, "alice").await;
    create_quietly(&app, "bob").await;
    assert_eq!(login(&app, "alice", PASSWORD).await.status, StatusCode::OK);
    let wrong = login(&app, "alice", "wrong password").await;
    assert_error(&wrong, 401, "bad_credentials", "second login");
    let third = login(&app, "alice", PASSWORD).await;
    assert_rate_limited(&third, "third login, even with the right password");
    assert!(third.body.get("token").is_none());
    let shouted = login(&app, " ALICE ", PASSWORD).await;
    assert_rate_limited(&shouted, "the same account spelled differently");
    // Another account is not affected.
    assert_eq!(login(&app, "bob", PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn logins_over_the_per_ip_limit_get_429() {
    let app = spawn_app_configured(|c| c.rate_limits.logins_per_minute_per_ip = 2).await;
    for name in ["alice", "bob", "carol"] {
        create_quietly(&app, name).await;
    }
    assert_eq!(login(&app, "alice", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(login(&app, "bob", PASSWORD).await.status, StatusCode::OK);
    let third = login(&app, "carol", PASSWORD).await;
    assert_rate_limited(&third, "third login from one address");
}

#[tokio::test]
async fn bad_credentials_do_not_reveal_whether_the_user_exists() {
    let app = spawn_app().await;
    create_quietly(&app, "alice").await;
    let wrong_password = login(&app, "alice", "not the password").await;
    assert_error(&wrong_password, 401, "bad_credentials", "wrong password");
    let challenge = wrong_password.www_authenticate.is_some();
    assert!(challenge, "401 without WWW-Authenticate");
    let want = (wrong_password.status, wrong_password.body);
    let (long_login, long_password) = ("x".repeat(300), "p".repeat(2000));
    for (who, password) in [
        ("nobody", "not the password"),
        ("nobody@example.com", "not the password"),
        ("alice", ""),
        (long_login.as_str(), "not the password"),
        ("alice", long_password.as_str()),
    ] {
        let r = login(&app, who, password).await;
        assert_eq!(
            (r.status, r.body),
            want,
            "{who:?} must look like a wrong password"
        );
    }
    assert_eq!(login(&app, "alice", PASSWORD).await.status, StatusCode::OK);
}
