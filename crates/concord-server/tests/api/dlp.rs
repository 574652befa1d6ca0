//! Data-loss prevention on sends and edits: with `dlp.action = "block"` a message carrying
//! personal data gets 422 `dlp_blocked` naming the detector (over REST and as the WebSocket
//! `send` frame's error) and nothing is stored; with `"mask"` the stored and delivered text
//! is masked; `"off"` leaves text alone. Custom patterns from configuration count too.

use crate::support::{TestApp, spawn_app, spawn_app_configured};
use concord_core::dlp::{CustomPattern, DlpAction};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

const ID_TEXT: &str = "新员工身份证 11010519491231002X，手机 138 0013 8000";
const ID_MASKED: &str = "新员工身份证 110105********002X，手机 138 **** 8000";

async fn history(app: &TestApp, token: &str, ch: i64) -> Vec<Value> {
    let (status, page) = app
        .get(Some(token), &format!("/api/v1/channels/{ch}/messages"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["messages"].as_array().unwrap().clone()
}

#[tokio::test]
async fn block_refuses_sends_and_edits_over_rest_and_stores_nothing() {
    let app = spawn_app_configured(|c| {
        c.dlp.action = DlpAction::Block;
        c.dlp.custom_patterns = vec![CustomPattern {
            name: "medical_record".into(),
            regex: r"MRN-\d{8}".into(),
        }];
    })
    .await;
    let alice = app.user("alice").await;
    let ch = app.channel(&alice, "hr", "private", &[]).await;
    let path = format!("/api/v1/channels/{ch}/messages");

    let (status, body) = app
        .post(Some(&alice.token), &path, json!({"text": ID_TEXT}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "dlp_blocked");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("cn_resident_id") && message.contains("cn_mobile"),
        "{message}"
    );
    assert!(
        !message.contains("11010519491231002X"),
        "the value is not echoed: {message}"
    );

    let (status, body) = app
        .post(
            Some(&alice.token),
            &path,
            json!({"text": "chart MRN-00123456 please"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("medical_record")
    );
    assert!(
        history(&app, &alice.token, ch).await.is_empty(),
        "nothing stored"
    );

    // Clean text goes through; an edit that adds personal data is refused and changes nothing.
    let sent = app
        .send(&alice, ch, "welcome aboard, order 202503152014004719")
        .await;
    let id = sent["id"].as_i64().unwrap();
    let (status, body) = app
        .patch(
            Some(&alice.token),
            &format!("/api/v1/messages/{id}"),
            json!({"text": "mail me at zhang.wei＠example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("email"));
    let stored = history(&app, &alice.token, ch).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0]["text"],
        "welcome aboard, order 202503152014004719"
    );
    assert!(stored[0]["edited_at"].is_null());
    let (_, versions) = app
        .get(
            Some(&alice.token),
            &format!("/api/v1/messages/{id}/versions"),
        )
        .await;
    assert!(!versions.to_string().contains("zhang.wei"), "{versions}");
}

#[tokio::test]
async fn block_over_the_websocket_answers_an_error_frame() {
    let app = spawn_app_configured(|c| c.dlp.action = DlpAction::Block).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let ch = app.channel(&alice, "ops", "private", &[&bob]).await;
    let mut a = app.ws(&alice, None).await;
    let mut b = app.ws(&bob, None).await;
    a.hello().await;
    b.hello().await;
    a.send_json(json!({"type": "send", "request_id": "r1", "channel_id": ch,
        "text": "SSN 078-05-1120, card 4111 1111 1111 1111"}))
        .await;
    let f = a.next_event().await;
    assert_eq!(f["type"], "error", "{f}");
    assert_eq!(f["request_id"], "r1");
    assert_eq!(f["code"], "dlp_blocked");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("us_ssn") && message.contains("bank_card"),
        "{message}"
    );
    b.expect_silence(Duration::from_millis(300)).await;
    assert!(history(&app, &alice.token, ch).await.is_empty());

    a.send_json(json!({"type": "send", "request_id": "r2", "channel_id": ch, "text": "all clear"}))
        .await;
    let ack = loop {
        let f = a.next_event().await;
        if f["type"] == "ack" {
            break f;
        }
    };
    assert_eq!(ack["request_id"], "r2");
}

#[tokio::test]
async fn mask_stores_and_delivers_masked_text_over_rest_and_websocket() {
    let app = spawn_app_configured(|c| c.dlp.action = DlpAction::Mask).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let ch = app.channel(&alice, "hr", "private", &[&bob]).await;
    let mut b = app.ws(&bob, None).await;
    b.hello().await;

    // REST: the answer, the delivered event and the history all carry the masked text.
    let sent = app.send(&alice, ch, ID_TEXT).await;
    assert_eq!(sent["text"], ID_MASKED);
    let f = b.next_of("message.created").await;
    assert_eq!(f["event"]["message"]["text"], ID_MASKED);

    // WebSocket `send`.
    let mut a = app.ws(&alice, None).await;
    a.hello().await;
    a.send_json(json!({"type": "send", "request_id": "w1", "channel_id": ch,
        "text": "reach me at zhang.wei@example.com or 10.20.30.40"}))
        .await;
    let ack = loop {
        let f = a.next_event().await;
        if f["type"] == "ack" {
            break f;
        }
    };
    let want = "reach me at z***@example.com or 10.20.**.**";
    assert_eq!(ack["message"]["text"], want);
    let f = b.next_of("message.created").await;
    assert_eq!(f["event"]["message"]["text"], want);

    // Edits are masked too, and no stored version holds the value.
    let id = sent["id"].as_i64().unwrap();
    let (status, edited) = app
        .patch(
            Some(&alice.token),
            &format!("/api/v1/messages/{id}"),
            json!({"text": "更正：卡号 6222600260001072444"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["text"], "更正：卡号 6222***********2444");
    let texts: Vec<String> = history(&app, &bob.token, ch)
        .await
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        texts,
        vec![
            "更正：卡号 6222***********2444".to_string(),
            want.to_string()
        ]
    );
    let (_, versions) = app
        .get(
            Some(&alice.token),
            &format!("/api/v1/messages/{id}/versions"),
        )
        .await;
    let all = versions.to_string();
    for secret in ["11010519491231002X", "138 0013 8000", "6222600260001072444"] {
        assert!(!all.contains(secret), "{secret} in {all}");
    }
}

#[tokio::test]
async fn off_by_default_leaves_text_alone() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let ch = app.channel(&alice, "hr", "private", &[]).await;
    let sent = app.send(&alice, ch, ID_TEXT).await;
    assert_eq!(sent["text"], ID_TEXT);
}

#[test]
fn dlp_scan_command_writes_the_predictions_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl");
    let output = dir.path().join("pred.jsonl");
    std::fs::write(
        &input,
        "{\"id\": \"m1\", \"text\": \"电话13800138000谢谢\", \"entities\": []}\n\
         {\"id\": \"m2\", \"text\": \"nothing here\"}\n",
    )
    .unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_concord"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CONCORD_") {
            cmd.env_remove(key);
        }
    }
    let status = cmd
        .args(["dlp", "scan"])
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success());
    let lines: Vec<Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![
            json!({"id": "m1", "entities": [{"type": "cn_mobile", "start": 2, "end": 13}]}),
            json!({"id": "m2", "entities": []}),
        ]
    );
}

#[tokio::test]
async fn a_channel_policy_overrides_the_org_default() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let member = app.user("finance1").await;
    let finance = app.channel(&admin, "finance", "private", &[&member]).await;
    let lobby = app.channel(&admin, "lobby", "public", &[&member]).await;
    let text = "客户身份证 11010519491231002X 请核对";
    let path = format!("/api/v1/channels/{finance}/dlp");
    let (status, body) = app.get(Some(&member.token), &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"action": "off", "inherited": true}));
    // Channel admins alone are not enough: this adds a policy to everyone's messages.
    let (status, _) = app
        .put_json(Some(&member.token), &path, json!({"action": "block"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .put_json(Some(&admin.token), &path, json!({"action": "block"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"action": "block", "inherited": false}));

    let (status, err) = app
        .post(
            Some(&member.token),
            &format!("/api/v1/channels/{finance}/messages"),
            json!({"text": text}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cn_resident_id"),
        "{err}"
    );
    assert!(history(&app, &member.token, finance).await.is_empty());
    let (status, _) = app
        .post(
            Some(&member.token),
            &format!("/api/v1/channels/{lobby}/messages"),
            json!({"text": text}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "other channels follow the org default (off)"
    );

    let (status, body) = app
        .put_json(Some(&admin.token), &path, json!({"action": null}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["inherited"], true);
    let (status, _) = app
        .post(
            Some(&member.token),
            &format!("/api/v1/channels/{finance}/messages"),
            json!({"text": text}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}
