//! Authorisation at the HTTP and WebSocket edges: for every endpoint, the denied cases
//! (anonymous, non-member, member without the right) next to an allowed counterpart, so the
//! tests fail both when something is let through and when everything is refused.
//!
//! A non-member must not learn that a private channel or DM exists: every such request is
//! compared, full error body included, with the same request on an id that does not exist.
//!
//! Requests are written as `"METHOD /path {json body}"` with `{placeholders}` for ids (see
//! [`World::fill`]), so the tables read like the API.

use crate::support::{PASSWORD, TestApp, TestUser, WsClient, spawn_app};
use reqwest::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::Request as WsRequest;

/// An id no channel, message or user has in these tests.
const MISSING: i64 = 999_999;

/// How long a connection must stay quiet to count as "received nothing".
const SILENCE: Duration = Duration::from_millis(800);

/// Every endpoint scoped to a channel `{c}` (and a user `{u}`), with a body that would be
/// accepted if the caller were allowed.
const CHANNEL_OPS: &[&str] = &[
    "GET /api/v1/channels/{c}",
    r#"PATCH /api/v1/channels/{c} {"name": "renamed", "topic": "new"}"#,
    "POST /api/v1/channels/{c}/join",
    "POST /api/v1/channels/{c}/leave",
    "GET /api/v1/channels/{c}/members",
    r#"POST /api/v1/channels/{c}/members {"user_ids": [{u}]}"#,
    "DELETE /api/v1/channels/{c}/members/{u}",
    "GET /api/v1/channels/{c}/messages",
    r#"POST /api/v1/channels/{c}/messages {"text": "let me in"}"#,
    "GET /api/v1/channels/{c}/pins",
    r#"POST /api/v1/channels/{c}/read {"seq": 0}"#,
    "POST /api/v1/channels/{c}/typing {}",
];

/// Every endpoint scoped to a message `{m}`.
const MESSAGE_OPS: &[&str] = &[
    "GET /api/v1/messages/{m}",
    r#"PATCH /api/v1/messages/{m} {"text": "rewritten"}"#,
    "DELETE /api/v1/messages/{m}",
    "GET /api/v1/messages/{m}/versions",
    "GET /api/v1/messages/{m}/thread",
    "PUT /api/v1/messages/{m}/reactions/thumbsup",
    "DELETE /api/v1/messages/{m}/reactions/thumbsup",
    "PUT /api/v1/messages/{m}/pin",
    "DELETE /api/v1/messages/{m}/pin",
];

/// Every other endpoint that needs a token.
const ORG_OPS: &[&str] = &[
    "POST /api/v1/auth/logout",
    "GET /api/v1/users/me",
    "GET /api/v1/users",
    r#"POST /api/v1/users {"username": "mallory", "password": "long password"}"#,
    "GET /api/v1/users/{u}",
    "GET /api/v1/channels",
    r#"POST /api/v1/channels {"name": "sneaky", "kind": "public"}"#,
    "GET /api/v1/channels/browse",
    r#"POST /api/v1/dms {"user_ids": [{u}]}"#,
    "GET /api/v1/ws",
];

/// What a request carries as credentials.
#[derive(Clone, Copy, Debug)]
enum Cred<'a> {
    Anonymous,
    Bearer(&'a str),
    /// A raw `Authorization` header value.
    Header(&'a str),
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    www_authenticate: Option<String>,
    body: Value,
}

/// Replaces each `{name}` in `template` with its id.
fn fill_with(template: &str, vars: &[(&str, i64)]) -> String {
    let mut out = template.to_string();
    for (name, id) in vars {
        out = out.replace(&format!("{{{name}}}"), &id.to_string());
    }
    out
}

/// Sends `"METHOD /path"` or `"METHOD /path {json}"`; never accepts a 500.
async fn call(app: &TestApp, cred: Cred<'_>, spec: &str) -> Reply {
    let (method, rest) = spec.split_once(' ').expect("METHOD /path");
    let (path, body) = rest
        .split_once(' ')
        .map_or((rest, None), |(p, b)| (p, Some(b)));
    assert!(!path.contains('{'), "unfilled placeholder in {spec}");
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app.http.request(method, app.url(path));
    match cred {
        Cred::Anonymous => {}
        Cred::Bearer(t) => req = req.bearer_auth(t),
        Cred::Header(h) => req = req.header(AUTHORIZATION, h),
    }
    if let Some(b) = body {
        let v: Value = serde_json::from_str(b).unwrap_or_else(|e| panic!("{spec}: {e}"));
        req = req.json(&v);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let www_authenticate = resp
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap_or_default().to_string());
    let text = resp.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{spec}: 500 {body}"
    );
    Reply {
        status,
        www_authenticate,
        body,
    }
}

/// Asserts `reply` is the JSON error `code` with `status`.
#[track_caller]
fn assert_error(reply: &Reply, status: StatusCode, code: &str, what: &str) {
    assert_eq!(reply.status, status, "{what}: {}", reply.body);
    assert_eq!(reply.body["error"]["code"], code, "{what}: {}", reply.body);
    assert!(reply.body["error"]["message"].is_string(), "{what}");
}

/// Asserts a 401 that tells the client how to authenticate.
#[track_caller]
fn assert_unauthenticated(reply: &Reply, what: &str) {
    assert_error(reply, StatusCode::UNAUTHORIZED, "unauthenticated", what);
    let challenge = reply.www_authenticate.as_deref().unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{what}: {challenge:?}");
}

/// Alice owns a private channel `secret` and a public one `town`, both with Bob, and has a
/// DM with Bob; each has one message by Alice. Carol is in none of them; Dave is an org
/// admin in none of them.
struct World {
    app: TestApp,
    alice: TestUser,
    bob: TestUser,
    carol: TestUser,
    dave: TestUser,
    secret: i64,
    town: i64,
    dm: i64,
    secret_msg: i64,
    town_msg: i64,
    dm_msg: i64,
}

async fn world() -> World {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.admin("dave").await;
    let secret = app.channel(&alice, "secret", "private", &[&bob]).await;
    let town = app.channel(&alice, "town", "public", &[&bob]).await;
    let dm_req = json!({"user_ids": [bob.id]});
    let (status, dm) = app.post(Some(&alice.token), "/api/v1/dms", dm_req).await;
    assert_eq!(status, StatusCode::OK, "open dm: {dm}");
    let dm = dm["id"].as_i64().unwrap();
    let id = |m: Value| m["id"].as_i64().unwrap();
    let secret_msg = id(app.send(&alice, secret, "the plan").await);
    let town_msg = id(app.send(&alice, town, "hello town").await);
    let dm_msg = id(app.send(&alice, dm, "just us").await);
    World {
        app,
        alice,
        bob,
        carol,
        dave,
        secret,
        town,
        dm,
        secret_msg,
        town_msg,
        dm_msg,
    }
}

impl World {
    /// Fills `{secret}`, `{town}`, `{dm}`, `{secret_msg}`, `{town_msg}`, `{dm_msg}`, `{x}`
    /// (a missing id) and the users' ids `{alice}`, `{bob}`, `{carol}`, `{dave}`.
    fn fill(&self, template: &str) -> String {
        let vars = [
            ("secret_msg", self.secret_msg),
            ("town_msg", self.town_msg),
            ("dm_msg", self.dm_msg),
            ("secret", self.secret),
            ("town", self.town),
            ("dm", self.dm),
            ("alice", self.alice.id),
            ("bob", self.bob.id),
            ("carol", self.carol.id),
            ("dave", self.dave.id),
            ("x", MISSING),
        ];
        fill_with(template, &vars)
    }

    async fn call(&self, cred: Cred<'_>, spec: &str) -> Reply {
        call(&self.app, cred, &self.fill(spec)).await
    }

    async fn by(&self, user: &TestUser, spec: &str) -> Reply {
        self.call(Cred::Bearer(&user.token), spec).await
    }

    /// `user` sends `spec` and gets `status`.
    async fn expect(&self, user: &TestUser, spec: &str, status: u16) -> Reply {
        let r = self.by(user, spec).await;
        assert_eq!(r.status, status, "{} {spec}: {}", user.username, r.body);
        r
    }

    /// `user` sends `spec` and gets `403 forbidden`.
    async fn deny(&self, user: &TestUser, spec: &str) {
        let r = self.by(user, spec).await;
        assert_error(
            &r,
            StatusCode::FORBIDDEN,
            "forbidden",
            &format!("{} {spec}", user.username),
        );
    }

    /// Everything Alice (a member of all) sees of a channel: the channel, its members, its
    /// history (texts, reactions, pins) and its pins. Equal snapshots: nothing was written.
    async fn snapshot(&self, channel: i64) -> Value {
        let mut out = serde_json::Map::new();
        for suffix in ["", "/members", "/messages?limit=200", "/pins"] {
            let spec = format!("GET /api/v1/channels/{channel}{suffix}");
            out.insert(
                spec.clone(),
                self.expect(&self.alice, &spec, 200).await.body,
            );
        }
        Value::Object(out)
    }

    /// Snapshots of the private channel, the public one and the DM.
    async fn snapshots(&self) -> [Value; 3] {
        [
            self.snapshot(self.secret).await,
            self.snapshot(self.town).await,
            self.snapshot(self.dm).await,
        ]
    }
}

fn ids(list: &Value, pick: impl Fn(&Value) -> &Value) -> BTreeSet<i64> {
    let items = list
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"));
    items.iter().map(|x| pick(x).as_i64().unwrap()).collect()
}

// ---------------------------------------------------------------------------------------
// Anonymous callers
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn every_endpoint_refuses_missing_bogus_and_revoked_tokens() {
    let w = world().await;
    // A session that was ended: its token must stop working everywhere.
    let revoked = w.app.login("carol", PASSWORD).await;
    let r = w
        .call(Cred::Bearer(&revoked), "POST /api/v1/auth/logout")
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "logout: {}", r.body);

    let before = w.snapshots().await;
    let mut specs = Vec::new();
    for (c, m) in [("{secret}", "{secret_msg}"), ("{dm}", "{dm_msg}")] {
        for spec in CHANNEL_OPS.iter().chain(MESSAGE_OPS).chain(ORG_OPS) {
            specs.push(
                spec.replace("{c}", c)
                    .replace("{m}", m)
                    .replace("{u}", "{carol}"),
            );
        }
    }
    let bogus = format!("cct_{}", "0".repeat(64));
    let creds = [
        Cred::Anonymous,
        Cred::Bearer(&bogus),
        Cred::Bearer("nonsense"),
        Cred::Bearer(&revoked),
        Cred::Header("Bearer "),
        Cred::Header("Basic YWxpY2U6Y29ycmVjdCBob3JzZSBiYXR0ZXJ5"),
        Cred::Header(&w.alice.token),
    ];
    for spec in &specs {
        for cred in creds {
            let r = w.call(cred, spec).await;
            assert_unauthenticated(&r, &format!("{spec} with {cred:?}"));
        }
    }
    assert_eq!(w.snapshots().await, before);
    let users = w.expect(&w.dave, "GET /api/v1/users?limit=200", 200).await;
    assert!(
        !users.body.to_string().contains("mallory"),
        "anonymous create"
    );

    // The allowed counterpart: a live token gets through, in either spelling of the scheme.
    let me = w.expect(&w.carol, "GET /api/v1/users/me", 200).await;
    assert_eq!(me.body["id"], w.carol.id);
    let lower = format!("bearer {}", w.carol.token);
    let r = w.call(Cred::Header(&lower), "GET /api/v1/users/me").await;
    assert_eq!(r.status, StatusCode::OK, "lower-case scheme: {}", r.body);
}

#[tokio::test]
async fn login_is_open_but_wrong_credentials_are_401() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let login = |password: &str| {
        let body = json!({"login": "alice", "password": password});
        format!("POST /api/v1/auth/login {body}")
    };
    let ok = call(&app, Cred::Anonymous, &login(PASSWORD)).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["user"]["id"], alice.id);
    assert!(ok.body["token"].as_str().is_some_and(|t| !t.is_empty()));

    let wrong = call(&app, Cred::Anonymous, &login("not the password")).await;
    assert_error(
        &wrong,
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
        "wrong password",
    );
    assert!(
        wrong.www_authenticate.is_some(),
        "401 without WWW-Authenticate"
    );
    assert!(wrong.body.get("token").is_none());
}

/// Every operation the OpenAPI document lists, with every path parameter set to 1 and no
/// token: those that declare the `bearer` requirement must answer 401, the few public ones
/// must not. A new endpoint that forgets `Auth`, or forgets to declare it, fails here.
#[tokio::test]
async fn every_documented_operation_requires_a_token_unless_declared_public() {
    let app = spawn_app().await;
    let (status, doc) = app.get(None, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    let public: BTreeSet<&str> = BTreeSet::from([
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/login/mfa",
        "GET /api/v1/openapi.json",
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
    ]);
    let methods = ["get", "put", "post", "delete", "patch", "head", "options"];
    let mut seen_public = BTreeSet::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().unwrap() {
            if !methods.contains(&method.as_str()) {
                continue;
            }
            let key = format!("{} {path}", method.to_uppercase());
            let mut spec = format!("{} {}", method.to_uppercase(), fill_path_params(path));
            if ["post", "patch", "put"].contains(&method.as_str()) {
                spec.push_str(" {}");
            }
            let bearer = operation["security"]
                .as_array()
                .is_some_and(|reqs| reqs.iter().any(|r| r.get("bearer").is_some()));
            for cred in [Cred::Anonymous, Cred::Bearer("bogus-token")] {
                let r = call(&app, cred, &spec).await;
                if bearer {
                    assert_unauthenticated(&r, &format!("{key} with {cred:?}"));
                } else {
                    assert_ne!(
                        r.status,
                        StatusCode::UNAUTHORIZED,
                        "{key} is public: {}",
                        r.body
                    );
                }
            }
            if !bearer {
                seen_public.insert(key);
            }
            checked += 1;
        }
    }
    let seen_public: BTreeSet<&str> = seen_public.iter().map(String::as_str).collect();
    assert_eq!(
        seen_public, public,
        "operations without the bearer requirement"
    );
    assert!(checked >= 30, "only {checked} operations documented");
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

// ---------------------------------------------------------------------------------------
// Non-members of private channels and DMs: 404, exactly as for a missing id
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn private_channels_and_dms_are_indistinguishable_from_missing_ids_for_non_members() {
    let w = world().await;
    let before = w.snapshots().await;
    // Carol is a plain outsider; Dave is an org admin but not a member either.
    for outsider in [&w.carol, &w.dave] {
        let me = outsider.id.to_string();
        let channel = CHANNEL_OPS
            .iter()
            .map(|s| (s.replace("{u}", &me), "{c}", "channel"));
        let message = MESSAGE_OPS
            .iter()
            .map(|s| (s.to_string(), "{m}", "message"));
        for (spec, slot, kind) in channel.chain(message) {
            let what = format!("{spec} as {}", outsider.username);
            let want = w.by(outsider, &spec.replace(slot, "{x}")).await;
            assert_error(&want, StatusCode::NOT_FOUND, "not_found", &what);
            let hidden: [&str; 2] = match kind {
                "channel" => ["{secret}", "{dm}"],
                _ => ["{secret_msg}", "{dm_msg}"],
            };
            for real in hidden {
                let got = w.by(outsider, &spec.replace(slot, real)).await;
                assert_eq!(
                    (got.status, &got.body),
                    (want.status, &want.body),
                    "{what} on {real} must look exactly like a missing {kind}"
                );
            }
        }
    }
    // Nothing the outsiders tried (rename, join, invite themselves, post, react, pin,
    // delete, edit, kick) left a trace.
    assert_eq!(w.snapshots().await, before);

    // The allowed counterpart: Bob is a member and gets the real thing.
    for (c, m) in [("{secret}", "{secret_msg}"), ("{dm}", "{dm_msg}")] {
        let ch = w
            .expect(&w.bob, &format!("GET /api/v1/channels/{c}"), 200)
            .await;
        assert_eq!(ch.body["id"].to_string(), w.fill(c));
        w.expect(&w.bob, &format!("GET /api/v1/messages/{m}"), 200)
            .await;
        let hist = format!("GET /api/v1/channels/{c}/messages");
        let hist = w.expect(&w.bob, &hist, 200).await;
        assert_eq!(hist.body["messages"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn lists_never_show_private_channels_or_dms_to_non_members() {
    let w = world().await;
    for outsider in [&w.carol, &w.dave] {
        let mine = w.expect(outsider, "GET /api/v1/channels", 200).await;
        let mine = ids(&mine.body, |c| &c["channel"]["id"]);
        assert!(mine.is_empty(), "{} is in {mine:?}", outsider.username);
        let page = w
            .expect(outsider, "GET /api/v1/channels/browse?limit=200", 200)
            .await;
        let browse = ids(&page.body["channels"], |c| &c["id"]);
        assert_eq!(
            browse,
            BTreeSet::from([w.town]),
            "browse shows public channels only"
        );
    }
    // Members do see them.
    let mine = w.expect(&w.bob, "GET /api/v1/channels", 200).await;
    let mine = ids(&mine.body, |c| &c["channel"]["id"]);
    assert_eq!(mine, BTreeSet::from([w.secret, w.town, w.dm]));
}

#[tokio::test]
async fn a_thread_reply_cannot_probe_messages_of_private_channels() {
    let w = world().await;
    w.expect(&w.carol, "POST /api/v1/channels/{town}/join", 204)
        .await;
    let reply = |root: &str| {
        let body = format!(r#"{{"text": "replying", "thread_root_id": {root}}}"#);
        format!("POST /api/v1/channels/{{town}}/messages {body}")
    };
    let missing = w.by(&w.carol, &reply("{x}")).await;
    assert_error(
        &missing,
        StatusCode::NOT_FOUND,
        "not_found",
        "reply to a missing root",
    );
    for hidden in ["{secret_msg}", "{dm_msg}"] {
        let r = w.by(&w.carol, &reply(hidden)).await;
        assert_eq!(
            (r.status, &r.body),
            (missing.status, &missing.body),
            "{hidden}"
        );
    }
    let ok = w.expect(&w.carol, &reply("{town_msg}"), 201).await;
    assert_eq!(ok.body["thread_root_id"], w.town_msg);
}

// ---------------------------------------------------------------------------------------
// Public channels: non-members read, but do not write
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn public_channel_non_members_may_read_but_not_post_react_pin_or_mark_read() {
    let w = world().await;
    for spec in [
        "GET /api/v1/channels/{town}",
        "GET /api/v1/channels/{town}/members",
        "GET /api/v1/channels/{town}/pins",
        "GET /api/v1/messages/{town_msg}",
        "GET /api/v1/messages/{town_msg}/versions",
        "GET /api/v1/messages/{town_msg}/thread",
    ] {
        w.expect(&w.carol, spec, 200).await;
    }
    let hist = w
        .expect(&w.carol, "GET /api/v1/channels/{town}/messages", 200)
        .await;
    assert_eq!(hist.body["messages"][0]["text"], "hello town");

    let before = w.snapshot(w.town).await;
    // What a member may do, with the member's status; then what needs more than that.
    let member_writes = [
        (
            r#"POST /api/v1/channels/{town}/messages {"text": "hi"}"#,
            201,
        ),
        ("PUT /api/v1/messages/{town_msg}/reactions/wave", 204),
        ("DELETE /api/v1/messages/{town_msg}/reactions/wave", 204),
        ("PUT /api/v1/messages/{town_msg}/pin", 204),
        ("DELETE /api/v1/messages/{town_msg}/pin", 204),
        (r#"POST /api/v1/channels/{town}/read {"seq": 1}"#, 200),
        ("POST /api/v1/channels/{town}/typing {}", 204),
    ];
    let other_writes = [
        "POST /api/v1/channels/{town}/leave",
        r#"POST /api/v1/channels/{town}/members {"user_ids": [{dave}]}"#,
        r#"PATCH /api/v1/messages/{town_msg} {"text": "not mine"}"#,
        r#"PATCH /api/v1/channels/{town} {"topic": "graffiti"}"#,
        "DELETE /api/v1/messages/{town_msg}",
        "DELETE /api/v1/channels/{town}/members/{bob}",
    ];
    for spec in member_writes.iter().map(|(s, _)| *s).chain(other_writes) {
        w.deny(&w.carol, spec).await;
    }
    assert_eq!(
        w.snapshot(w.town).await,
        before,
        "a refused write left a trace"
    );

    // The allowed counterpart: after joining, the member's writes go through.
    w.expect(&w.carol, "POST /api/v1/channels/{town}/join", 204)
        .await;
    for (spec, status) in member_writes {
        w.expect(&w.carol, spec, status).await;
    }
}

// ---------------------------------------------------------------------------------------
// Members without the right: 403
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn only_the_author_edits_a_message() {
    let w = world().await;
    let before = w.snapshots().await;
    // Bob is a member everywhere; Dave an org admin who is a member nowhere.
    for m in ["{town_msg}", "{secret_msg}", "{dm_msg}"] {
        w.deny(
            &w.bob,
            &format!(r#"PATCH /api/v1/messages/{m} {{"text": "forged"}}"#),
        )
        .await;
    }
    w.deny(
        &w.dave,
        r#"PATCH /api/v1/messages/{town_msg} {"text": "forged"}"#,
    )
    .await;
    assert_eq!(w.snapshots().await, before);
    let versions = w
        .expect(&w.alice, "GET /api/v1/messages/{secret_msg}/versions", 200)
        .await;
    assert_eq!(
        versions.body.as_array().unwrap().len(),
        1,
        "{}",
        versions.body
    );

    let edit = r#"PATCH /api/v1/messages/{secret_msg} {"text": "new plan"}"#;
    let ok = w.expect(&w.alice, edit, 200).await;
    assert_eq!(ok.body["text"], "new plan");
}

#[tokio::test]
async fn only_the_author_or_an_admin_deletes_a_message() {
    let w = world().await;
    let bobs = w.app.send(&w.bob, w.town, "bob was here").await["id"].clone();
    let before = w.snapshots().await;
    w.deny(&w.bob, "DELETE /api/v1/messages/{town_msg}").await;
    w.deny(&w.bob, "DELETE /api/v1/messages/{dm_msg}").await;
    assert_eq!(w.snapshots().await, before);

    // Allowed: the author, the channel admin, an org admin.
    w.expect(&w.bob, &format!("DELETE /api/v1/messages/{bobs}"), 204)
        .await;
    let again = w.app.send(&w.bob, w.town, "again").await["id"].clone();
    w.expect(&w.alice, &format!("DELETE /api/v1/messages/{again}"), 204)
        .await;
    w.expect(&w.dave, "DELETE /api/v1/messages/{town_msg}", 204)
        .await;
    let msg = w
        .expect(&w.alice, "GET /api/v1/messages/{town_msg}", 200)
        .await;
    assert_eq!(msg.body["deleted"], true);
}

#[tokio::test]
async fn only_channel_or_org_admins_rename_channels() {
    let w = world().await;
    let before = w.snapshots().await;
    for c in ["{secret}", "{town}", "{dm}"] {
        w.deny(
            &w.bob,
            &format!(r#"PATCH /api/v1/channels/{c} {{"name": "bob's"}}"#),
        )
        .await;
    }
    w.deny(
        &w.alice,
        r#"PATCH /api/v1/channels/{dm} {"name": "a dm name"}"#,
    )
    .await;
    assert_eq!(w.snapshots().await, before);

    let rename = r#"PATCH /api/v1/channels/{secret} {"name": "still secret"}"#;
    let r = w.expect(&w.alice, rename, 200).await;
    assert_eq!(r.body["name"], "still secret");
    let r = w
        .expect(
            &w.dave,
            r#"PATCH /api/v1/channels/{town} {"name": "city"}"#,
            200,
        )
        .await;
    assert_eq!(r.body["name"], "city");
}

#[tokio::test]
async fn only_channel_or_org_admins_remove_other_members() {
    let w = world().await;
    w.expect(&w.carol, "POST /api/v1/channels/{town}/join", 204)
        .await;
    let before = w.snapshots().await;
    for spec in [
        "DELETE /api/v1/channels/{town}/members/{carol}",
        "DELETE /api/v1/channels/{town}/members/{alice}",
        "DELETE /api/v1/channels/{secret}/members/{alice}",
        "DELETE /api/v1/channels/{dm}/members/{alice}",
        "DELETE /api/v1/channels/{dm}/members/{bob}",
    ] {
        w.deny(&w.bob, spec).await;
    }
    w.deny(&w.alice, "DELETE /api/v1/channels/{dm}/members/{bob}")
        .await;
    assert_eq!(w.snapshots().await, before);

    // Allowed: the channel admin, an org admin, and anyone removing themselves.
    w.expect(
        &w.alice,
        "DELETE /api/v1/channels/{town}/members/{carol}",
        204,
    )
    .await;
    w.expect(&w.dave, "DELETE /api/v1/channels/{town}/members/{bob}", 204)
        .await;
    w.expect(
        &w.bob,
        "DELETE /api/v1/channels/{secret}/members/{bob}",
        204,
    )
    .await;
    let members = w
        .expect(&w.alice, "GET /api/v1/channels/{town}/members", 200)
        .await;
    let members = ids(&members.body, |m| &m["user_id"]);
    assert_eq!(members, BTreeSet::from([w.alice.id]));
}

#[tokio::test]
async fn dm_membership_is_fixed() {
    let w = world().await;
    let before = w.snapshot(w.dm).await;
    for who in [&w.alice, &w.bob] {
        w.deny(who, "POST /api/v1/channels/{dm}/leave").await;
        w.deny(
            who,
            r#"POST /api/v1/channels/{dm}/members {"user_ids": [{carol}]}"#,
        )
        .await;
        w.deny(who, "POST /api/v1/channels/{dm}/join").await;
    }
    assert_eq!(w.snapshot(w.dm).await, before);

    // The allowed counterpart: the same operations on a private channel work for a member.
    let invite = r#"POST /api/v1/channels/{secret}/members {"user_ids": [{carol}]}"#;
    let r = w.expect(&w.bob, invite, 200).await;
    assert_eq!(r.body["added"], json!([w.carol.id]));
    w.expect(&w.bob, "POST /api/v1/channels/{secret}/leave", 204)
        .await;
    w.expect(&w.carol, "GET /api/v1/channels/{secret}", 200)
        .await;
}

#[tokio::test]
async fn only_org_admins_create_users() {
    let w = world().await;
    let create =
        r#"POST /api/v1/users {"username": "eve", "password": "long password", "is_admin": true}"#;
    w.deny(&w.alice, create).await;
    w.deny(&w.carol, create).await;
    let login = r#"POST /api/v1/auth/login {"login": "eve", "password": "long password"}"#;
    let r = w.call(Cred::Anonymous, login).await;
    assert_error(
        &r,
        StatusCode::UNAUTHORIZED,
        "bad_credentials",
        "eve was not created",
    );
    let users = w.expect(&w.dave, "GET /api/v1/users?limit=200", 200).await;
    let names: Vec<&Value> = users.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["username"])
        .collect();
    assert_eq!(names, ["alice", "bob", "carol", "dave"]);

    let r = w.expect(&w.dave, create, 201).await;
    assert_eq!(r.body["username"], "eve");
}

// ---------------------------------------------------------------------------------------
// WebSocket
// ---------------------------------------------------------------------------------------

fn ws_request(url: &str, authorization: Option<&str>) -> WsRequest {
    let mut req = url.into_client_request().unwrap();
    if let Some(a) = authorization {
        let value = HeaderValue::from_str(a).unwrap();
        req.headers_mut().insert(AUTHORIZATION, value);
    }
    req
}

#[tokio::test]
async fn ws_requires_a_valid_token_before_the_upgrade() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let base = format!("ws://{}/api/v1/ws", app.addr);
    let good_query = format!("{base}?token={}", alice.token);
    for (url, header) in [
        (base.clone(), None),
        (format!("{base}?token="), None),
        (format!("{base}?token=bogus"), None),
        (format!("{base}?since=0"), None),
        (base.clone(), Some("Bearer bogus")),
        // A bad header is refused even when the query carries a good token.
        (good_query.clone(), Some("Bearer bogus")),
    ] {
        let what = format!("{url} with {header:?}");
        let resp = match tokio_tungstenite::connect_async(ws_request(&url, header)).await {
            Err(tungstenite::Error::Http(resp)) => resp,
            Err(e) => panic!("{what}: expected an HTTP refusal, got {e}"),
            Ok(_) => panic!("{what}: upgraded without a valid token"),
        };
        assert_eq!(resp.status().as_u16(), 401, "{what}");
        let challenge = resp.headers().get(WWW_AUTHENTICATE);
        assert!(
            challenge.is_some_and(|v| v.as_bytes().starts_with(b"Bearer")),
            "{what}"
        );
        let body: Value = serde_json::from_slice(resp.body().as_deref().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{what}: body is not JSON: {e}"));
        assert_eq!(body["error"]["code"], "unauthenticated", "{what}");
    }

    // Allowed: a token in the header or in the query.
    let header = format!("Bearer {}", alice.token);
    for req in [
        ws_request(&base, Some(&header)),
        ws_request(&good_query, None),
    ] {
        let (stream, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("connect");
        let mut ws = WsClient { stream };
        assert_eq!(ws.hello().await["user_id"], alice.id);
    }
}

/// The channel an event frame is about, if any.
fn event_channel(frame: &Value) -> Option<i64> {
    let e = &frame["event"];
    let by_message = || e["message"]["channel_id"].as_i64();
    e["channel_id"]
        .as_i64()
        .or_else(by_message)
        .or_else(|| e["channel"]["id"].as_i64())
}

/// Reads frames up to `hello`; returns the channels of the replayed events.
async fn replayed_channels(ws: &mut WsClient) -> Vec<Option<i64>> {
    let mut out = Vec::new();
    loop {
        let f = ws.next_json().await;
        if f["type"] == "hello" {
            assert_eq!(f["replayed"], out.len(), "{f}");
            return out;
        }
        assert_eq!(f["type"], "event", "{f}");
        out.push(event_channel(&f));
    }
}

#[tokio::test]
async fn ws_non_members_receive_nothing_from_private_channels_and_dms() {
    let w = world().await;
    let mut carol = w.app.ws(&w.carol, None).await;
    let since = carol.hello().await["position"].as_i64().unwrap();
    let mut dave = w.app.ws(&w.dave, None).await;
    dave.hello().await;
    let mut bob = w.app.ws(&w.bob, None).await;
    bob.hello().await;

    // Activity of every kind in the private channel and the DM.
    let fresh = w.app.send(&w.alice, w.secret, "after hours").await["id"].clone();
    let m = format!("/api/v1/messages/{fresh}");
    for (spec, status) in [
        ("POST /api/v1/channels/{secret}/typing {}".to_string(), 204),
        (format!("PUT {m}/reactions/eyes"), 204),
        (format!("PUT {m}/pin"), 204),
        (format!(r#"PATCH {m} {{"text": "edited"}}"#), 200),
        (
            r#"PATCH /api/v1/channels/{secret} {"topic": "hush"}"#.into(),
            200,
        ),
        (format!("DELETE {m}"), 204),
        ("POST /api/v1/channels/{dm}/typing {}".into(), 204),
    ] {
        w.expect(&w.alice, &spec, status).await;
    }
    let last = w.app.send(&w.alice, w.dm, "dm after hours").await;

    // Bob, a member, gets it all, up to the last DM message.
    loop {
        let f = bob.next_event().await;
        if f["event"]["type"] == "message.created" && f["event"]["message"]["id"] == last["id"] {
            break;
        }
        let c = event_channel(&f);
        assert!(c == Some(w.secret) || c == Some(w.dm), "unexpected: {f}");
    }
    // The outsiders got nothing (typing included).
    carol.expect_silence(SILENCE).await;
    dave.expect_silence(SILENCE).await;

    // Carol's stream does work: once she joins the public channel she hears it.
    w.expect(&w.carol, "POST /api/v1/channels/{town}/join", 204)
        .await;
    w.app.send(&w.alice, w.town, "welcome carol").await;
    let f = carol.next_of("message.created").await;
    assert_eq!(event_channel(&f), Some(w.town), "{f}");

    // Resuming from before all that replays none of the hidden activity...
    let replayed = replayed_channels(&mut w.app.ws(&w.carol, Some(since)).await).await;
    assert!(
        !replayed.is_empty(),
        "the join and the town message are replayed"
    );
    assert!(
        replayed.iter().all(|c| *c == Some(w.town)),
        "leaked: {replayed:?}"
    );
    // ...while Bob's resume does replay the private activity.
    let replayed = replayed_channels(&mut w.app.ws(&w.bob, Some(since)).await).await;
    assert!(replayed.contains(&Some(w.secret)), "{replayed:?}");
}

#[tokio::test]
async fn ws_send_and_typing_to_hidden_channels_look_like_missing_ones() {
    let w = world().await;
    let before = w.snapshots().await;
    let mut carol = w.app.ws(&w.carol, None).await;
    carol.hello().await;
    let send = |c: i64| json!({"type": "send", "request_id": "r1", "channel_id": c, "text": "hi"});
    let kind = |f: &Value| (f["type"].clone(), f["code"].clone());

    carol.send_json(send(MISSING)).await;
    let want = carol.next_event().await;
    assert_eq!(kind(&want), (json!("error"), json!("not_found")), "{want}");
    assert_eq!(want["request_id"], "r1", "{want}");
    for hidden in [w.secret, w.dm] {
        carol.send_json(send(hidden)).await;
        let got = carol.next_event().await;
        assert_eq!(
            got, want,
            "a send to a hidden channel must look like a missing one"
        );
    }
    // A public channel Carol has not joined: visible, so forbidden.
    carol.send_json(send(w.town)).await;
    let f = carol.next_event().await;
    assert_eq!(kind(&f), (json!("error"), json!("forbidden")), "{f}");

    // Typing is throttled per connection, so one connection per attempt.
    let mut typing_errors = Vec::new();
    for c in [MISSING, w.secret, w.dm] {
        let mut ws = w.app.ws(&w.carol, None).await;
        ws.hello().await;
        ws.send_json(json!({"type": "typing", "channel_id": c}))
            .await;
        let f = ws.next_event().await;
        assert_eq!(kind(&f), (json!("error"), json!("not_found")), "{f}");
        typing_errors.push(f);
    }
    assert_eq!(typing_errors[0], typing_errors[1]);
    assert_eq!(typing_errors[0], typing_errors[2]);
    assert_eq!(w.snapshots().await, before);

    // The allowed counterpart: Bob, a member, sends over the socket.
    let mut bob = w.app.ws(&w.bob, None).await;
    bob.hello().await;
    let mut frame = send(w.secret);
    frame["request_id"] = json!("b1");
    bob.send_json(frame).await;
    let ack = loop {
        let f = bob.next_event().await;
        if f["type"] == "ack" {
            break f;
        }
    };
    assert_eq!(ack["request_id"], "b1");
    assert_eq!(ack["message"]["channel_id"], w.secret);
}
