//! Apps and bot tokens over the API: install (the bot account, the token shown once),
//! list, rotate and uninstall with their audit entries; scopes allowing and denying REST
//! endpoints and WebSocket frames; the permission check with and without its scope; a bot
//! posting as itself. The lifecycle runs on SQLite and, when `CONCORD_TEST_POSTGRES_URL` is
//! set, on PostgreSQL.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(crate::support::Backend::Sqlite).await
                }
            )*
        }
        #[cfg(postgres_tests)]
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(crate::support::Backend::Postgres).await
                }
            )*
        }
    };
}

on_both_backends!(install_list_rotate_uninstall_with_audit_entries);

/// An installed app's id, its bot as a test user (with the app token), and the reply.
async fn install(
    app: &TestApp,
    admin: &TestUser,
    username: &str,
    scopes: &[&str],
) -> (i64, TestUser) {
    let body = json!({"name": format!("App {username}"), "username": username, "scopes": scopes});
    let (status, reply) = app.post(Some(&admin.token), "/api/v1/apps", body).await;
    assert_eq!(status, StatusCode::CREATED, "install: {reply}");
    let bot = TestUser {
        id: reply["app"]["bot_user"]["id"].as_i64().unwrap(),
        username: username.into(),
        token: reply["token"].as_str().unwrap().into(),
    };
    (reply["app"]["id"].as_i64().unwrap(), bot)
}

/// The newest audit entry with `action`.
async fn last_audit(app: &TestApp, admin: &TestUser, action: &str) -> Value {
    let (status, list) = app
        .get(
            Some(&admin.token),
            &format!("/api/v1/audit?action={action}&limit=1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array()
        .and_then(|l| l.first().cloned())
        .unwrap_or_else(|| panic!("no {action} entry: {list}"))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

async fn install_list_rotate_uninstall_with_audit_entries(backend: Backend) {
    let app = spawn_app_with(backend, |_| {}, None).await;
    let admin = app.admin("admin").await;
    let member = app.user("member").await;

    let body = json!({
        "name": "Dispatch",
        "username": "dispatch",
        "description": "Work orders as cards",
        "scopes": ["messages:write", "channels:read", "messages:read", "messages:read"],
    });
    let (status, installed) = app
        .post(Some(&admin.token), "/api/v1/apps", body.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{installed}");
    let token = installed["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("ccb_") && token.len() == 68, "{token}");
    let id = installed["app"]["id"].as_i64().unwrap();
    let bot = &installed["app"]["bot_user"];
    let bot_id = bot["id"].as_i64().unwrap();
    assert_eq!(bot["username"], "dispatch");
    assert_eq!(bot["display_name"], "Dispatch");
    assert_eq!(bot["is_bot"], true);
    assert_eq!(
        installed["app"]["scopes"],
        json!(["channels:read", "messages:read", "messages:write"])
    );
    assert_eq!(installed["app"]["installed_by"], admin.id);

    // The install is audited with who, what, the target, the scopes and the address.
    let entry = last_audit(&app, &admin, "app.install").await;
    assert_eq!(entry["actor_id"], admin.id);
    assert_eq!(entry["target"], format!("app:{id}"));
    assert_eq!(entry["after"]["scopes"], installed["app"]["scopes"]);
    assert_eq!(entry["after"]["bot_username"], "dispatch");
    assert_eq!(entry["ip"], "127.0.0.1");
    assert!(
        !entry.to_string().contains(&token[4..]),
        "the token leaked into {entry}"
    );

    // Listed for admins, without the token; the user card shows a bot.
    let (status, list) = app.get(Some(&admin.token), "/api/v1/apps").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["id"], id);
    assert!(list[0].get("token").is_none(), "{list}");
    let (status, card) = app
        .get(Some(&member.token), &format!("/api/v1/users/{bot_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{card}");
    assert_eq!(card["is_bot"], true);
    let (_, me) = app.get(Some(&member.token), "/api/v1/users/me").await;
    assert_eq!(me["is_bot"], false);

    // The bot acts with its token and never signs in with a password.
    let (status, who) = app.get(Some(&token), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::OK, "{who}");
    assert_eq!(who["id"], bot_id);
    for password in ["", PASSWORD, "whatever it is"] {
        let (status, reply) = app
            .post(
                None,
                "/api/v1/auth/login",
                json!({"login": "dispatch", "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
    }

    // Bad installs: 4xx naming what is wrong; only app.install may install.
    let mut taken = body.clone();
    taken["name"] = json!("Another");
    let (status, reply) = app.post(Some(&admin.token), "/api/v1/apps", taken).await;
    assert_eq!(status, StatusCode::CONFLICT, "{reply}");
    for (field, value) in [
        ("scopes", json!(["messages:admin"])),
        ("scopes", json!([])),
        ("username", json!("has space")),
        ("name", json!("   ")),
        ("description", json!("x".repeat(501))),
    ] {
        let mut bad = body.clone();
        bad["username"] = json!("other_bot");
        bad[field] = value;
        let (status, reply) = app.post(Some(&admin.token), "/api/v1/apps", bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {reply}");
        assert!(
            reply["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(field),
            "{reply}"
        );
    }
    let mut other = body.clone();
    other["username"] = json!("other_bot");
    let (status, reply) = app.post(Some(&member.token), "/api/v1/apps", other).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
    let (status, _) = app.get(Some(&member.token), "/api/v1/apps").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Rotation: the old token stops working at once, the new one works.
    let (status, rotated) = app
        .post(
            Some(&admin.token),
            &format!("/api/v1/apps/{id}/token"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new_token = rotated["token"].as_str().unwrap().to_string();
    assert_ne!(new_token, token);
    let (status, reply) = app.get(Some(&token), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
    let (status, _) = app.get(Some(&new_token), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::OK);
    let entry = last_audit(&app, &admin, "app.token_rotate").await;
    assert_eq!(entry["actor_id"], admin.id);
    assert_eq!(entry["target"], format!("app:{id}"));

    // Uninstall: the token is revoked, the bot deactivated, the app gone from the list.
    let (status, _) = app
        .delete(Some(&admin.token), &format!("/api/v1/apps/{id}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(Some(&new_token), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, list) = app.get(Some(&admin.token), "/api/v1/apps").await;
    assert_eq!(list, json!([]));
    let (status, _) = app
        .get(Some(&admin.token), &format!("/api/v1/apps/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .delete(Some(&admin.token), &format!("/api/v1/apps/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .post(
            Some(&admin.token),
            &format!("/api/v1/apps/{id}/token"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, profile) = app
        .get(
            Some(&admin.token),
            &format!("/api/v1/users/{bot_id}/profile"),
        )
        .await;
    assert_eq!(profile["status"], "deactivated", "{profile}");
    let entry = last_audit(&app, &admin, "app.uninstall").await;
    assert_eq!(entry["actor_id"], admin.id);
    assert_eq!(entry["before"]["bot_user_id"], bot_id);
}

#[tokio::test]
async fn a_bot_posts_as_itself_where_it_is_a_member_within_its_scopes() {
    let app = spawn_app().await;
    let admin = app.admin("admin").await;
    let owner = app.user("owner").await;
    let (_, bot) = install(
        &app,
        &admin,
        "dispatch",
        &["channels:read", "messages:read", "messages:write"],
    )
    .await;
    let ops = app.channel(&owner, "ops", "private", &[&bot]).await;
    let secret = app.channel(&owner, "secret", "private", &[]).await;

    let posted = app.send(&bot, ops, "work order 7 assigned").await;
    assert_eq!(posted["sender_id"], bot.id);
    let (status, history) = app
        .get(
            Some(&owner.token),
            &format!("/api/v1/channels/{ops}/messages"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let sent = history["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or(history.clone());
    assert_eq!(sent["sender_id"], bot.id, "{history}");

    // Scopes narrow, never widen: a private channel the bot is not in does not exist for it.
    let (status, _) = app
        .get(
            Some(&bot.token),
            &format!("/api/v1/channels/{secret}/messages"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .post(
            Some(&bot.token),
            &format!("/api/v1/channels/{secret}/messages"),
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Without the scope an endpoint declares: missing_scope, though the bot user may.
    for (method, path, body) in [
        (
            reqwest::Method::POST,
            "/api/v1/channels".to_string(),
            Some(json!({"name": "bots", "kind": "public"})),
        ),
        (reqwest::Method::GET, "/api/v1/users".to_string(), None),
        (
            reqwest::Method::GET,
            "/api/v1/departments".to_string(),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/channels/{ops}/leave"),
            None,
        ),
    ] {
        let (status, reply) = app.request(method, Some(&bot.token), &path, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {reply}");
        assert_eq!(code(&reply), "missing_scope", "{path}: {reply}");
    }
    // Endpoints for people only: sessions, second factor, own settings, the admin console.
    for (method, path, body) in [
        (
            reqwest::Method::PATCH,
            "/api/v1/users/me",
            Some(json!({"time_zone": "Asia/Shanghai"})),
        ),
        (reqwest::Method::GET, "/api/v1/users/me/sessions", None),
        (reqwest::Method::GET, "/api/v1/users/me/mfa", None),
        (reqwest::Method::POST, "/api/v1/auth/logout", None),
        (reqwest::Method::GET, "/api/v1/apps", None),
        (reqwest::Method::GET, "/api/v1/audit", None),
    ] {
        let (status, reply) = app.request(method, Some(&bot.token), path, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {reply}");
        assert_eq!(code(&reply), "session_only", "{path}: {reply}");
    }
    // Still signed in after the refused logout.
    let (status, _) = app.get(Some(&bot.token), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_bot_token_streams_and_sends_over_the_websocket_within_its_scopes() {
    let app = spawn_app().await;
    let admin = app.admin("admin").await;
    let owner = app.user("owner").await;
    let (_, bot) = install(&app, &admin, "relay", &["messages:read", "messages:write"]).await;
    let (_, reader) = install(&app, &admin, "reader", &["messages:read"]).await;
    let (_, lister) = install(&app, &admin, "lister", &["channels:read"]).await;
    let ops = app
        .channel(&owner, "ops", "private", &[&bot, &reader])
        .await;

    let mut ws = app.ws(&bot, None).await;
    ws.hello().await;
    app.send(&owner, ops, "new order").await;
    let event = ws.next_of("message.created").await;
    assert_eq!(event["event"]["message"]["text"], "new order", "{event}");
    ws.send_json(json!({"type": "send", "request_id": "r1", "channel_id": ops, "text": "on it"}))
        .await;
    let ack = loop {
        let f = ws.next_json().await;
        if f["type"] == "ack" || f["type"] == "error" {
            break f;
        }
    };
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["message"]["sender_id"], bot.id);

    // messages:read streams, but sending needs messages:write.
    let mut ws = app.ws(&reader, None).await;
    ws.hello().await;
    ws.send_json(json!({"type": "send", "request_id": "r2", "channel_id": ops, "text": "hi"}))
        .await;
    let refused = loop {
        let f = ws.next_json().await;
        if f["type"] == "ack" || f["type"] == "error" {
            break f;
        }
    };
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["code"], "missing_scope", "{refused}");
    assert_eq!(refused["request_id"], "r2");

    // Without messages:read the stream itself is refused, by query token or header.
    let url = format!("ws://{}/api/v1/ws?token={}", app.addr, lister.token);
    match tokio_tungstenite::connect_async(url).await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 403),
        other => panic!("expected a 403, got {:?}", other.map(|_| ())),
    }
    let (status, reply) = app.get(Some(&lister.token), "/api/v1/ws").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
}

#[tokio::test]
async fn the_permission_check_needs_its_scope() {
    let app = spawn_app().await;
    let admin = app.admin("admin").await;
    let member = app.user("member").await;
    let (_, checker) = install(&app, &admin, "hr_system", &["permissions:check"]).await;
    let (_, reader) = install(&app, &admin, "org_reader", &["org:read"]).await;

    let ask = |who: i64, permission: &str| {
        format!("/api/v1/permissions/check?user_id={who}&permission={permission}")
    };
    let (status, reply) = app
        .get(Some(&checker.token), &ask(member.id, "channel.create"))
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["allowed"], true);
    let (status, reply) = app
        .get(Some(&checker.token), &ask(member.id, "org.manage"))
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["allowed"], false);
    let (status, reply) = app
        .get(Some(&checker.token), &ask(admin.id, "org.manage"))
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["allowed"], true);
    // The scope is for the check only: nothing else it did not declare.
    let (status, reply) = app.get(Some(&checker.token), "/api/v1/departments").await;
    assert_eq!(
        (status, code(&reply)),
        (StatusCode::FORBIDDEN, "missing_scope")
    );

    for who in [member.id, reader.id] {
        let (status, reply) = app
            .get(Some(&reader.token), &ask(who, "channel.create"))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
        assert_eq!(code(&reply), "missing_scope");
    }
    let (status, _) = app.get(Some(&reader.token), "/api/v1/departments").await;
    assert_eq!(status, StatusCode::OK);

    // No escalation: a system administrator may install apps but not grant a permission it
    // lacks (permission.check) through a scope.
    let (_, roles) = app.get(Some(&admin.token), "/api/v1/roles").await;
    let system_admin = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["builtin"] == "system_admin")
        .and_then(|r| r["id"].as_i64())
        .expect("built-in system_admin role");
    let sysadmin = app.user("sysadmin").await;
    let body = json!({"role_id": system_admin, "subject": {"kind": "user", "id": sysadmin.id}, "scope_department_id": null});
    let (status, reply) = app
        .post(Some(&admin.token), "/api/v1/role-assignments", body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    let install_as =
        |scopes: Value| json!({"name": "Sys", "username": "sys_bot", "scopes": scopes});
    let (status, reply) = app
        .post(
            Some(&sysadmin.token),
            "/api/v1/apps",
            install_as(json!(["permissions:check"])),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
    let (status, reply) = app
        .post(
            Some(&sysadmin.token),
            "/api/v1/apps",
            install_as(json!(["org:read"])),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
}

#[tokio::test]
async fn the_document_shows_each_operations_app_scope() {
    let app = spawn_app().await;
    let (_, doc) = app.get(None, "/api/v1/openapi.json").await;
    let scope = |path: &str, method: &str| doc["paths"][path][method]["x-app-scope"].clone();
    assert_eq!(
        scope("/api/v1/channels/{channel_id}/messages", "post"),
        "messages:write"
    );
    assert_eq!(
        scope("/api/v1/permissions/check", "get"),
        "permissions:check"
    );
    assert_eq!(scope("/api/v1/users/me", "get"), "any");
    assert_eq!(scope("/api/v1/apps", "post"), "none");
    // Every entry of the table names a documented operation.
    for (op, _) in concord_server::routes::app_scopes::APP_ACCESS {
        let (method, path) = op.split_once(' ').unwrap();
        assert!(
            doc["paths"][path][method.to_lowercase()].is_object(),
            "{op} is in the app scope table but not documented"
        );
    }
}

#[tokio::test]
async fn membership_rules_never_add_bots() {
    let app = spawn_app().await;
    let admin = app.admin("admin").await;
    let member = app.user("member").await;
    let (_, bot) = install(&app, &admin, "dispatch", &["messages:read"]).await;
    let channel = app.channel(&admin, "all hands", "public", &[]).await;
    let rule = json!({"not": {"title": "Intern"}});
    let path = format!("/api/v1/channels/{channel}/membership-rule");
    let (status, preview) = app
        .post(Some(&admin.token), &format!("{path}/preview"), rule.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    let joining: Vec<i64> = preview["join"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["id"].as_i64())
        .collect();
    assert!(joining.contains(&member.id), "{preview}");
    assert!(
        !joining.contains(&bot.id),
        "a rule would add the bot: {preview}"
    );
    let (status, reply) = app.put_json(Some(&admin.token), &path, rule).await;
    assert!(status.is_success(), "{reply}");
    let (_, members) = app
        .get(
            Some(&admin.token),
            &format!("/api/v1/channels/{channel}/members"),
        )
        .await;
    let ids: Vec<i64> = members
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["user_id"].as_i64())
        .collect();
    assert!(ids.contains(&member.id), "{members}");
    assert!(!ids.contains(&bot.id), "{members}");
}
