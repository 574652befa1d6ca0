//! Compliance and personal exports end to end, on a manual clock: the archive holds every
//! message, edit, deletion, reaction and file in the criteria and nothing outside them (other
//! channels, a millisecond before `from`, exactly at `to`), the manifest's hashes match the
//! entries, file contents round-trip, CSV escapes commas, quotes, newlines and keeps Chinese
//! text, the export is audited with its counts and hash, and it needs `compliance.export`.
//! A person's own export holds only their data. Both backends. Encryption at rest is on (the
//! default), so the texts checked here were opened from their sealed form by the export reads.

use crate::support::*;
use concord_core::clock::ManualClock;
use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

const TRICKY: &str = "即时通讯, \"quoted\" and\nmore";

fn start() -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(1_800_000_000_000).unwrap()
}

/// An archive's entries by path.
fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip archive");
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.insert(entry.name().unwrap().to_string(), data);
    }
    out
}

fn lines(entries: &BTreeMap<String, Vec<u8>>, path: &str) -> Vec<Value> {
    std::str::from_utf8(&entries[path])
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// RFC 4180 records (quoted fields may hold commas, quotes and newlines), BOM stripped.
fn csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).unwrap();
    let text = text
        .strip_prefix('\u{feff}')
        .expect("CSV starts with a BOM");
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && record.is_empty(),
        "CSV ends with a newline"
    );
    records
}

fn ids(rows: &[Value], key: &str) -> BTreeSet<i64> {
    rows.iter().map(|r| r[key].as_i64().unwrap()).collect()
}

async fn download(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = app.http.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

/// Every entry but the manifest is listed with its true size and SHA-256.
fn check_manifest(entries: &BTreeMap<String, Vec<u8>>) -> Value {
    let manifest: Value = serde_json::from_slice(&entries["manifest.json"]).unwrap();
    let listed = manifest["entries"].as_array().unwrap();
    assert_eq!(listed.len(), entries.len() - 1, "{manifest}");
    for e in listed {
        let data = &entries[e["path"].as_str().unwrap()];
        assert_eq!(e["size"].as_u64().unwrap(), data.len() as u64, "{e}");
        assert_eq!(e["sha256"], hex::encode(Sha256::digest(data)), "{e}");
    }
    manifest
}

async fn completeness(backend: Backend) {
    let clock = Arc::new(ManualClock::new(start() - SignedDuration::from_millis(1)));
    let app = spawn_app_with(backend, |_| {}, Some(clock.clone())).await;
    let root = app.admin("root").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let finance = app.channel(&alice, "finance", "public", &[&bob]).await;
    let other = app.channel(&alice, "other", "public", &[&bob]).await;

    let before = app.send(&alice, finance, "a millisecond early").await["id"]
        .as_i64()
        .unwrap();
    clock.advance(SignedDuration::from_millis(1));
    let tricky = app.send(&alice, finance, TRICKY).await["id"]
        .as_i64()
        .unwrap();
    let edited = app.send(&bob, finance, "first draft").await["id"]
        .as_i64()
        .unwrap();
    let deleted = app.send(&alice, finance, "regrettable").await["id"]
        .as_i64()
        .unwrap();
    let elsewhere = app.send(&alice, other, "another channel").await["id"]
        .as_i64()
        .unwrap();
    clock.advance(SignedDuration::from_secs(1));
    for text in ["second draft", "final"] {
        let (status, body) = app
            .patch(
                Some(&bob.token),
                &format!("/api/v1/messages/{edited}"),
                json!({"text": text}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _) = app
        .delete(Some(&alice.token), &format!("/api/v1/messages/{deleted}"))
        .await;
    assert!(status.is_success(), "{status}");
    let (status, _) = app
        .put(
            Some(&bob.token),
            &format!("/api/v1/messages/{tricky}/reactions/:thumbsup:"),
        )
        .await;
    assert!(status.is_success());
    let (status, _) = app
        .put(
            Some(&bob.token),
            &format!("/api/v1/messages/{elsewhere}/reactions/:thumbsup:"),
        )
        .await;
    assert!(status.is_success());
    let content = "季度报告, v1\n".repeat(1000).into_bytes();
    let (status, file) = app
        .upload(&alice, finance, "报告, Q1.txt", content.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let file_id = file["id"].as_i64().unwrap();
    let (status, _) = app
        .upload(&alice, other, "elsewhere.txt", b"not exported".to_vec())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // Exactly `to`: excluded (the range is [from, to)).
    clock.advance(SignedDuration::from_secs(1));
    let at_to = app.send(&alice, finance, "exactly at to").await["id"]
        .as_i64()
        .unwrap();
    assert_ne!(at_to, before);

    let from = start();
    let to = start() + SignedDuration::from_secs(2);
    let criteria = json!({
        "channel_ids": [finance], "from": from.to_string(), "to": to.to_string(), "include_files": true,
    });
    let (status, headers, bytes) = download(
        &app,
        &root.token,
        reqwest::Method::POST,
        "/api/v1/compliance/exports",
        Some(criteria.clone()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(headers["content-type"], "application/zip");
    let archive_sha = hex::encode(Sha256::digest(&bytes));
    assert_eq!(headers["x-export-sha256"].to_str().unwrap(), archive_sha);
    let entries = unzip(&bytes);
    let manifest = check_manifest(&entries);
    assert_eq!(manifest["kind"], "compliance");
    assert_eq!(manifest["exported_by"]["username"], "root");
    assert_eq!(manifest["criteria"]["channel_ids"], json!([finance]));

    // Exactly the messages in the channel and [from, to): the boundary cases excluded.
    let messages = lines(&entries, "messages.jsonl");
    assert_eq!(
        ids(&messages, "message_id"),
        BTreeSet::from([tricky, edited, deleted])
    );
    let gone = messages
        .iter()
        .find(|m| m["message_id"] == deleted)
        .unwrap();
    assert_eq!(gone["deleted"], true);
    assert_eq!(
        gone["text"], "regrettable",
        "the store keeps a deleted message's last text"
    );
    let deletions = lines(&entries, "deletions.jsonl");
    assert_eq!(ids(&deletions, "message_id"), BTreeSet::from([deleted]));
    assert_eq!(deletions[0]["last_text"], "regrettable");
    let edits = lines(&entries, "edits.jsonl");
    let texts: Vec<&str> = edits.iter().map(|e| e["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["first draft", "second draft", "final"]);
    assert!(edits.iter().all(|e| e["message_id"] == edited));
    let reactions = lines(&entries, "reactions.jsonl");
    assert_eq!(reactions.len(), 1);
    assert_eq!(reactions[0]["message_id"], tricky);
    assert_eq!(reactions[0]["username"], "bob");

    // Files: metadata and content, nothing from the other channel.
    let files = lines(&entries, "files.jsonl");
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0]["file_id"], file_id);
    assert_eq!(files[0]["sha256"], hex::encode(Sha256::digest(&content)));
    let path = files[0]["content_path"].as_str().unwrap();
    assert!(path.starts_with(&format!("files/{file_id}/v1/")), "{path}");
    assert_eq!(entries[path], content);

    // CSV: one record per row, the tricky text intact.
    let rows = csv(&entries["messages.csv"]);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0][7], "text");
    let row = rows.iter().find(|r| r[0] == tricky.to_string()).unwrap();
    assert_eq!(row[7], TRICKY);
    assert_eq!(row[5], "alice");
    let files_csv = csv(&entries["files.csv"]);
    assert_eq!(files_csv[1][2], "报告, Q1.txt");
    assert_eq!(files[0]["name"], "报告, Q1.txt");
    assert_eq!(csv(&entries["edits.csv"]).len(), 4);
    assert_eq!(csv(&entries["deletions.csv"]).len(), 2);

    // Audited with the criteria, the counts and the archive's hash.
    let (status, log) = app
        .get(Some(&root.token), "/api/v1/audit?action=compliance.export")
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let entry = &log.as_array().unwrap()[0];
    assert_eq!(entry["after"]["archive_sha256"], archive_sha);
    assert_eq!(entry["after"]["counts"]["messages"], 3);
    assert_eq!(entry["after"]["counts"]["edits"], 3);
    assert_eq!(entry["after"]["counts"]["file_contents"], 1);
    assert_eq!(entry["after"]["criteria"]["channel_ids"], json!([finance]));

    // Without files: metadata only. By person: only bob's messages, anywhere.
    let (status, _, bytes) = download(
        &app,
        &root.token,
        reqwest::Method::POST,
        "/api/v1/compliance/exports",
        Some(json!({"user_ids": [bob.id]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let entries = unzip(&bytes);
    check_manifest(&entries);
    assert_eq!(
        ids(&lines(&entries, "messages.jsonl"), "message_id"),
        BTreeSet::from([edited])
    );
    assert!(lines(&entries, "files.jsonl").is_empty());
    assert!(!entries.keys().any(|k| k.starts_with("files/")));
}

#[tokio::test]
async fn compliance_export_is_complete_and_exact() {
    completeness(Backend::Sqlite).await;
}

#[cfg(postgres_tests)]
#[tokio::test]
async fn compliance_export_is_complete_and_exact_on_postgres() {
    completeness(Backend::Postgres).await;
}

#[tokio::test]
async fn compliance_export_needs_the_permission_and_valid_criteria() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let alice = app.user("alice").await;
    let channel = app.channel(&alice, "general", "public", &[]).await;
    let (status, body) = app
        .post(
            Some(&alice.token),
            "/api/v1/compliance/exports",
            json!({"channel_ids": [channel]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["error"]["code"].is_string());
    let cases = [
        (json!({}), StatusCode::BAD_REQUEST),
        (
            json!({"channel_ids": [channel], "from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"channel_ids": [channel], "from": "yesterday"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"channel_ids": [channel], "colour": "red"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"channel_ids": (0..501).collect::<Vec<i64>>()}),
            StatusCode::BAD_REQUEST,
        ),
        (json!({"channel_ids": [999_999]}), StatusCode::NOT_FOUND),
        (json!({"user_ids": [999_999]}), StatusCode::NOT_FOUND),
    ];
    for (criteria, expected) in cases {
        let (status, body) = app
            .post(
                Some(&root.token),
                "/api/v1/compliance/exports",
                criteria.clone(),
            )
            .await;
        let code = if status.is_client_error() {
            status
        } else {
            StatusCode::OK
        };
        assert!(
            code == expected
                || (expected == StatusCode::BAD_REQUEST
                    && status == StatusCode::UNPROCESSABLE_ENTITY),
            "{criteria}: {status} {body}"
        );
        assert!(body["error"]["code"].is_string(), "{criteria}: {body}");
    }
    let (status, log) = app
        .get(Some(&root.token), "/api/v1/audit?action=compliance.export")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        log.as_array().unwrap().is_empty(),
        "refused exports leave no entry: {log}"
    );
}

#[tokio::test]
async fn personal_export_holds_only_the_callers_data() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let channel = app.channel(&alice, "general", "public", &[&bob]).await;
    let mine = app.send(&alice, channel, "mine").await["id"]
        .as_i64()
        .unwrap();
    let theirs = app.send(&bob, channel, "theirs").await["id"]
        .as_i64()
        .unwrap();
    app.patch(
        Some(&alice.token),
        &format!("/api/v1/messages/{mine}"),
        json!({"text": "mine, edited"}),
    )
    .await;
    app.put(
        Some(&alice.token),
        &format!("/api/v1/messages/{theirs}/reactions/:smile:"),
    )
    .await;
    app.put(
        Some(&bob.token),
        &format!("/api/v1/messages/{mine}/reactions/:heart:"),
    )
    .await;
    let (status, _) = app
        .upload(&alice, channel, "mine.txt", b"my file".to_vec())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .upload(&bob, channel, "theirs.txt", b"their file".to_vec())
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, _, bytes) = download(
        &app,
        &alice.token,
        reqwest::Method::GET,
        "/api/v1/users/me/export",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let entries = unzip(&bytes);
    let manifest = check_manifest(&entries);
    assert_eq!(manifest["kind"], "personal");
    let profile: Value = serde_json::from_slice(&entries["profile.json"]).unwrap();
    assert_eq!(
        profile["user"]["username"]
            .as_str()
            .or(profile["username"].as_str()),
        Some("alice")
    );
    let sessions: Value = serde_json::from_slice(&entries["sessions.json"]).unwrap();
    assert!(!sessions.as_array().unwrap().is_empty());
    assert_eq!(
        ids(&lines(&entries, "messages.jsonl"), "message_id"),
        BTreeSet::from([mine])
    );
    assert_eq!(lines(&entries, "edits.jsonl").len(), 2);
    let reactions = lines(&entries, "reactions.jsonl");
    assert_eq!(
        reactions.len(),
        1,
        "only the reactions alice made: {reactions:?}"
    );
    assert_eq!(reactions[0]["message_id"], theirs);
    let files = lines(&entries, "files.jsonl");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["name"], "mine.txt");
    assert_eq!(
        entries[files[0]["content_path"].as_str().unwrap()],
        b"my file"
    );
    assert!(
        entries
            .values()
            .all(|v| !v.windows(10).any(|w| w == b"their file")),
        "bob's file is not in alice's export"
    );

    let (status, log) = app
        .get(Some(&root.token), "/api/v1/audit?action=user.export")
        .await;
    assert_eq!(status, StatusCode::OK);
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["target"], format!("user:{}", alice.id));
}

/// `concord compliance export` writes the same archive to a file and audits it.
#[tokio::test]
async fn the_cli_exports_to_a_file_and_audits() {
    let app = spawn_app().await;
    let root = app.admin("root").await;
    let alice = app.user("alice").await;
    let channel = app.channel(&alice, "general", "public", &[]).await;
    let other = app.channel(&alice, "other", "public", &[]).await;
    let sent = app.send(&alice, channel, TRICKY).await["id"]
        .as_i64()
        .unwrap();
    app.send(&alice, other, "not exported").await;
    let (status, _) = app
        .upload(&alice, channel, "notes.txt", b"cli content".to_vec())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let out = app.data_dir().join("cli-export.zip");
    let data_dir = app.data_dir();
    let args = [
        "--data-dir".to_string(),
        data_dir.to_str().unwrap().to_string(),
        "compliance".into(),
        "export".into(),
        "--channel".into(),
        channel.to_string(),
        "--user".into(),
        "alice".into(),
        "--include-files".into(),
        "--out".into(),
        out.to_str().unwrap().to_string(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_concord"));
        for (key, _) in std::env::vars() {
            if key.starts_with("CONCORD_") {
                cmd.env_remove(key);
            }
        }
        cmd.args(args).output().unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("exported 1 messages"), "{text}");
    let bytes = std::fs::read(&out).unwrap();
    assert!(
        text.contains(&hex::encode(Sha256::digest(&bytes))),
        "{text}"
    );
    let entries = unzip(&bytes);
    let manifest = check_manifest(&entries);
    assert!(manifest["exported_by"].is_null());
    assert_eq!(
        ids(&lines(&entries, "messages.jsonl"), "message_id"),
        BTreeSet::from([sent])
    );
    let files = lines(&entries, "files.jsonl");
    assert_eq!(
        entries[files[0]["content_path"].as_str().unwrap()],
        b"cli content"
    );

    let (status, log) = app
        .get(Some(&root.token), "/api/v1/audit?action=compliance.export")
        .await;
    assert_eq!(status, StatusCode::OK);
    let entry = &log.as_array().unwrap()[0];
    assert_eq!(entry["after"]["criteria"]["via"], "cli");
    assert_eq!(
        entry["after"]["archive_sha256"],
        hex::encode(Sha256::digest(&bytes))
    );
}
