//! Message search through the API: the index follows sends, edits and deletes live and
//! catches up after a restart; results stay within what the caller may read; compliance search
//! needs its permission and is audited; Chinese and English queries; exact time boundaries;
//! bulk import of JSON Lines.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// `path?params`, percent-encoded.
fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    let url = reqwest::Url::parse_with_params(&format!("http://x{path}"), params).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or(""))
}

async fn search(app: &TestApp, user: &TestUser, params: &[(&str, &str)]) -> (StatusCode, Value) {
    app.get(Some(&user.token), &with_query("/api/v1/search", params))
        .await
}

/// Message ids of a successful search.
fn ids(body: &Value) -> Vec<i64> {
    body["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits in {body}"))
        .iter()
        .map(|h| h["message_id"].as_i64().unwrap())
        .collect()
}

/// Searches until `done` holds for the hit ids (the indexer commits within a fraction of a
/// second), for at most 5 s; returns the last body.
async fn search_until(
    app: &TestApp,
    user: &TestUser,
    params: &[(&str, &str)],
    done: impl Fn(&[i64]) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = search(app, user, params).await;
        assert_eq!(status, StatusCode::OK, "search {params:?}: {body}");
        if done(&ids(&body)) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "search {params:?} did not reach the expected result in 5 s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn id(message: &Value) -> i64 {
    message["id"].as_i64().unwrap()
}

async fn guest(app: &TestApp, admin: &TestUser, username: &str) -> TestUser {
    let (status, body) = app
        .post(
            Some(&admin.token),
            "/api/v1/users",
            json!({"username": username, "password": PASSWORD, "guest": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = app.login(username, PASSWORD).await;
    TestUser {
        id: body["id"].as_i64().unwrap(),
        username: username.into(),
        token,
    }
}

async fn import(app: &TestApp, user: &TestUser, jsonl: &str) -> (StatusCode, Value) {
    let resp = app
        .http
        .post(app.url("/api/v1/admin/import/messages"))
        .bearer_auth(&user.token)
        .header("content-type", "application/x-ndjson")
        .body(jsonl.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn index_follows_sends_edits_and_deletes_live() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "general", "public", &[]).await;
    let sent = app
        .send(&alice, room, "企业级即时通讯工具 ships today")
        .await;
    let body = search_until(&app, &alice, &[("q", "即时通讯")], |ids| {
        ids == [id(&sent)]
    })
    .await;
    let hit = &body["hits"][0];
    assert_eq!(hit["channel_id"], room);
    assert_eq!(hit["sender_id"], alice.id);
    assert_eq!(hit["message"]["text"], "企业级即时通讯工具 ships today");
    assert_eq!(body["total"], 1);
    let marked: Vec<&str> = hit["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["highlighted"] == true)
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["即时通讯"], "{hit}");

    let (status, _) = app
        .patch(
            Some(&alice.token),
            &format!("/api/v1/messages/{}", id(&sent)),
            json!({"text": "weekly meetings moved"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    search_until(&app, &alice, &[("q", "meeting")], |ids| ids == [id(&sent)]).await;
    search_until(&app, &alice, &[("q", "即时通讯")], |ids| ids.is_empty()).await;

    let (status, _) = app
        .delete(
            Some(&alice.token),
            &format!("/api/v1/messages/{}", id(&sent)),
        )
        .await;
    assert!(status.is_success());
    search_until(&app, &alice, &[("q", "meeting")], |ids| ids.is_empty()).await;
}

#[tokio::test]
async fn results_hold_only_what_the_caller_may_read() {
    let app = spawn_app().await;
    let admin = app.admin("boss").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let visitor = guest(&app, &admin, "visitor").await;
    let secret = app.channel(&alice, "secret", "private", &[&bob]).await;
    let open = app.channel(&alice, "open", "public", &[]).await;
    let hidden = app
        .send(&alice, secret, "药方 in the private room @bob")
        .await;
    let public = app.send(&alice, open, "药店 in the public room").await;

    search_until(&app, &bob, &[("q", "药")], |ids| ids.len() == 2).await;
    // carol is not in the private channel but may browse public ones.
    let body = search_until(&app, &carol, &[("q", "药")], |ids| ids == [id(&public)]).await;
    assert_eq!(body["total"], 1);
    let (status, _) = search(
        &app,
        &carol,
        &[("q", "药"), ("channel_id", &secret.to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An org admin is no member either: normal search does not reach private channels.
    let (_, body) = search(&app, &admin, &[("q", "药")]).await;
    assert_eq!(ids(&body), [id(&public)]);
    // Guests see only channels they are in.
    let (status, body) = search(&app, &visitor, &[("q", "药")]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ids(&body).is_empty(), "{body}");
    let (status, _) = search(
        &app,
        &visitor,
        &[("q", "药"), ("channel_id", &open.to_string())],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Filters: channel, mentions.
    let (_, body) = search(
        &app,
        &bob,
        &[("q", "药"), ("channel_id", &secret.to_string())],
    )
    .await;
    assert_eq!(ids(&body), [id(&hidden)]);
    let (_, body) = search(&app, &bob, &[("mentions_me", "true")]).await;
    assert_eq!(ids(&body), [id(&hidden)]);
    let (_, body) = search(&app, &carol, &[("mentions_me", "true")]).await;
    assert!(ids(&body).is_empty());

    // Bad input is a 400, never a panic.
    for params in [
        vec![("q", "")],
        vec![("q", "x"), ("from", "yesterday")],
        vec![("q", "x"), ("sort", "sideways")],
        vec![("q", "x"), ("limit", "0")],
        vec![("q", "x"), ("offset", "99999999")],
        vec![("q", "x"), ("has_file", "perhaps")],
    ] {
        let (status, body) = search(&app, &bob, &params).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{params:?}: {body}");
        assert!(body["error"]["code"].is_string());
    }
}

#[tokio::test]
async fn compliance_search_needs_the_permission_and_is_audited() {
    let app = spawn_app().await;
    let admin = app.admin("boss").await;
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    let secret = app.channel(&alice, "secret", "private", &[]).await;
    let hidden = app.send(&alice, secret, "the merger plan").await;
    search_until(&app, &alice, &[("q", "merger")], |ids| ids == [id(&hidden)]).await;

    let path = with_query("/api/v1/compliance/search", &[("q", "merger")]);
    let (status, _) = app.get(Some(&carol.token), &path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app.get(Some(&admin.token), &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), [id(&hidden)]);

    let (status, entries) = app
        .get(Some(&admin.token), "/api/v1/audit?action=compliance.search")
        .await;
    assert_eq!(status, StatusCode::OK, "{entries}");
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["actor_id"], admin.id);
    assert_eq!(entries[0]["after"]["q"], "merger");
}

#[tokio::test]
async fn restart_catches_up_with_what_was_sent_while_indexing_was_off() {
    let mut app = spawn_app_configured(|c| c.search.enabled = false).await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "general", "public", &[]).await;
    let (status, _) = search(&app, &alice, &[("q", "hello")]).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let first = app.send(&alice, room, "hello from before the index").await;
    let second = app.send(&alice, room, "药 and hello again").await;
    app.config.search.enabled = true;
    let app = app.restart().await;
    let alice = TestUser {
        token: app.login("alice", PASSWORD).await,
        ..alice
    };
    search_until(&app, &alice, &[("q", "hello"), ("sort", "oldest")], |ids| {
        ids == [id(&first), id(&second)]
    })
    .await;
    // And keeps following after catching up; a second restart resumes from its position.
    let third = app.send(&alice, room, "hello after the restart").await;
    search_until(&app, &alice, &[("q", "hello")], |ids| ids.len() == 3).await;
    let app = app.restart().await;
    let alice = TestUser {
        token: app.login("alice", PASSWORD).await,
        ..alice
    };
    let body = search_until(&app, &alice, &[("q", "hello"), ("sort", "newest")], |ids| {
        ids.len() == 3
    })
    .await;
    assert_eq!(ids(&body)[0], id(&third));
}

#[tokio::test]
async fn chinese_and_english_queries() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "general", "public", &[]).await;
    let im = app.send(&alice, room, "我们在做企业级即时通讯工具").await;
    let pharmacy = app.send(&alice, room, "楼下的药店关门了").await;
    let medicine = app.send(&alice, room, "记得吃药").await;
    let chinese_medicine = app.send(&alice, room, "中药很苦").await;
    let meetings = app.send(&alice, room, "Two meetings tomorrow").await;
    let mixed = app.send(&alice, room, "明天的meeting改到3点").await;
    let _other = app.send(&alice, room, "nothing relevant here").await;
    search_until(&app, &alice, &[("q", "即时通讯")], |ids| {
        ids == [id(&im)]
    })
    .await;
    let body = search_until(&app, &alice, &[("q", "药")], |ids| ids.len() == 3).await;
    let mut found = ids(&body);
    found.sort();
    let mut want = vec![id(&pharmacy), id(&medicine), id(&chinese_medicine)];
    want.sort();
    assert_eq!(found, want);
    let body = search_until(&app, &alice, &[("q", "meeting")], |ids| ids.len() == 2).await;
    let mut found = ids(&body);
    found.sort();
    assert_eq!(found, [id(&meetings), id(&mixed)]);
    let (_, body) = search(&app, &alice, &[("q", "明天 meeting")]).await;
    assert_eq!(ids(&body), [id(&mixed)]);
    let (_, body) = search(&app, &alice, &[("q", "meeting -明天")]).await;
    assert_eq!(ids(&body), [id(&meetings)]);
    // Paging.
    let (_, body) = search(&app, &alice, &[("q", "药"), ("limit", "2")]).await;
    assert_eq!(ids(&body).len(), 2);
    assert_eq!(body["next_offset"], 2);
    let (_, body) = search(
        &app,
        &alice,
        &[("q", "药"), ("limit", "2"), ("offset", "2")],
    )
    .await;
    assert_eq!(ids(&body).len(), 1);
    assert!(body["next_offset"].is_null());
}

#[tokio::test]
async fn import_creates_channels_and_users_keeps_time_and_order_and_filters_by_time() {
    let app = spawn_app().await;
    let admin = app.admin("boss").await;
    let carol = app.user("carol").await;
    let jsonl = r#"{"channel": "history", "sender": "old_wang", "ts": "2021-03-01T08:00:00+08:00", "text": "first 药 note"}
{"channel": "history", "sender": "old_li", "ts": "2021-03-01T00:00:00Z", "text": "second 药 note"}
{"channel": "history", "sender": "old_wang", "ts": 1614556800001, "text": "third 药 note"}

not json
{"channel": "history", "sender": "carol", "ts": "2021-03-02T00:00:00Z", "text": "fourth 药 note by an existing user"}
{"channel": "", "sender": "x", "ts": "2021-03-02T00:00:00Z", "text": "no channel"}
"#;
    let (status, _) = import(&app, &carol, jsonl).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, summary) = import(&app, &admin, jsonl).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["imported"], 4, "{summary}");
    assert_eq!(summary["skipped"], 2, "{summary}");
    assert_eq!(summary["channels_created"], 1);
    assert_eq!(summary["users_created"], 2);
    assert_eq!(summary["problems"][0]["line"], 5);

    // The channel is public and found by browsing; history keeps the file's order and times.
    let (_, page) = app.get(Some(&carol.token), "/api/v1/channels/browse").await;
    let channel = page["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "history")
        .unwrap_or_else(|| panic!("{page}"))["id"]
        .as_i64()
        .unwrap();
    let (_, history) = app
        .get(
            Some(&carol.token),
            &format!("/api/v1/channels/{channel}/messages"),
        )
        .await;
    let messages = history["messages"].as_array().unwrap();
    let times: Vec<&str> = messages
        .iter()
        .map(|m| m["created_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "2021-03-01T00:00:00Z",
            "2021-03-01T00:00:00Z",
            "2021-03-01T00:00:00.001Z",
            "2021-03-02T00:00:00Z"
        ]
    );
    let texts: Vec<&str> = messages
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts[0], "first 药 note");
    assert_eq!(texts[2], "third 药 note");
    let seqs: Vec<i64> = messages
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    // Imported users exist and cannot sign in with any password.
    let (status, _) = app
        .post(
            None,
            "/api/v1/auth/login",
            json!({"login": "old_wang", "password": "!imported"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Searchable, and time filters are exact at their boundaries (from inclusive, to exclusive).
    let all = search_until(&app, &carol, &[("q", "药"), ("sort", "oldest")], |ids| {
        ids.len() == 4
    })
    .await;
    let found = ids(&all);
    let q = |from: &'static str, to: &'static str| {
        let mut p = vec![("q", "药"), ("sort", "oldest")];
        if !from.is_empty() {
            p.push(("from", from));
        }
        if !to.is_empty() {
            p.push(("to", to));
        }
        p
    };
    let (_, body) = search(&app, &carol, &q("2021-03-01T08:00:00+08:00", "")).await;
    assert_eq!(ids(&body), found);
    let (_, body) = search(&app, &carol, &q("2021-03-01T00:00:00.001Z", "")).await;
    assert_eq!(ids(&body), found[2..]);
    let (_, body) = search(&app, &carol, &q("", "2021-03-01T00:00:00.001Z")).await;
    assert_eq!(ids(&body), found[..2]);
    let (_, body) = search(&app, &carol, &q("", "2021-03-01T08:00:00+08:00")).await;
    assert!(ids(&body).is_empty());
    let (_, body) = search(
        &app,
        &carol,
        &q("2021-03-01T00:00:00Z", "2021-03-02T00:00:00Z"),
    )
    .await;
    assert_eq!(ids(&body), found[..3]);
    let (_, body) = search(&app, &carol, &[("sender_id", &carol.id.to_string())]).await;
    assert_eq!(ids(&body), found[3..]);
}

/// `concord import messages` then `concord search reindex`, offline, on one data dir.
#[test]
fn cli_imports_indexes_and_reindexes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let file = dir.path().join("history.jsonl");
    let mut lines = String::new();
    for i in 0..300 {
        let channel = ["alpha", "beta", "gamma"][i % 3];
        let text = if i % 10 == 0 {
            "企业级即时通讯工具"
        } else {
            "weekly meetings"
        };
        lines.push_str(&format!(
            "{{\"channel\": \"{channel}\", \"sender\": \"user{}\", \"ts\": {}, \"text\": \"{text} {i}\"}}\n",
            i % 7,
            1_600_000_000_000i64 + i as i64 * 1000
        ));
    }
    std::fs::write(&file, lines).unwrap();
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_concord"));
        for (key, _) in std::env::vars() {
            if key.starts_with("CONCORD_") {
                cmd.env_remove(key);
            }
        }
        let out = cmd.arg("--data-dir").arg(data).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{args:?}: {stderr}");
        stderr
    };
    let log = run(&["import", "messages", file.to_str().unwrap()]);
    assert!(log.contains("imported 300 messages"), "{log}");
    assert!(log.contains("search index up to date"), "{log}");
    let count = |query: &str| {
        let index = concord_search::SearchIndex::open(
            &dir.path().join("search"),
            &concord_search::SearchIndexOptions::default(),
        )
        .unwrap();
        let request = concord_search::SearchRequest::new(query, concord_search::ChannelScope::All);
        index.search(&request).unwrap().total
    };
    assert_eq!(count("即时通讯"), 30);
    assert_eq!(count("meeting"), 270);
    let log = run(&["search", "reindex"]);
    assert!(log.contains("reindexed 300 messages"), "{log}");
    assert_eq!(count("即时通讯"), 30);
    assert_eq!(count("meeting"), 270);
}

/// If the event log was pruned past the index (a long outage), the index is rebuilt from the
/// messages.
#[tokio::test]
async fn a_log_pruned_past_the_index_is_rebuilt_from_the_messages() {
    let mut app = spawn_app_configured(|c| c.search.enabled = false).await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "general", "public", &[]).await;
    let kept = app.send(&alice, room, "药 survives the outage").await;
    let gone = app.send(&alice, room, "药 deleted during the outage").await;
    let (status, _) = app
        .delete(
            Some(&alice.token),
            &format!("/api/v1/messages/{}", id(&gone)),
        )
        .await;
    assert!(status.is_success());
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
    assert!(app.services.store.prune_events(later).await.unwrap() > 0);
    app.config.search.enabled = true;
    let app = app.restart().await;
    let alice = TestUser {
        token: app.login("alice", PASSWORD).await,
        ..alice
    };
    search_until(&app, &alice, &[("q", "药")], |ids| ids == [id(&kept)]).await;
}
