//! Graceful shutdown under load: every acknowledged send survives, the others fail cleanly and
//! can be retried with their `client_msg_id` without creating copies.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sends_in_flight_at_shutdown_finish_or_fail_cleanly() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let ch = app.channel(&alice, "general", "public", &[]).await;
    let url = app.url(&format!("/api/v1/channels/{ch}/messages"));
    let mut tasks = Vec::new();
    for worker in 0..20 {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let url = url.clone();
        let token = alice.token.clone();
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            let mut failed = Vec::new();
            for i in 0..25 {
                let key = format!("w{worker}-{i}");
                match http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"text": key, "client_msg_id": key}))
                    .send()
                    .await
                {
                    Ok(resp) if resp.status() == StatusCode::CREATED => acked.push(key),
                    Ok(resp) => {
                        let status = resp.status();
                        assert!(
                            status != StatusCode::INTERNAL_SERVER_ERROR,
                            "a send failed with 500"
                        );
                        let body: Value = resp.json().await.unwrap_or(Value::Null);
                        assert!(
                            body["error"]["code"].is_string(),
                            "a failure has a JSON error: {status} {body}"
                        );
                        failed.push(key);
                    }
                    Err(_) => failed.push(key), // connection refused or reset: the server is gone
                }
            }
            (acked, failed)
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let app = app.restart().await;
    let mut acked = BTreeSet::new();
    let mut failed = Vec::new();
    for t in tasks {
        let (a, f) = t.await.unwrap();
        acked.extend(a);
        failed.extend(f);
    }
    assert!(
        !acked.is_empty(),
        "some sends completed before the shutdown"
    );

    let token = app.login("alice", PASSWORD).await;
    let path = format!("/api/v1/channels/{ch}/messages");
    // Retries of the failed sends: each is created at most once.
    for key in &failed {
        let (status, body) = app
            .post(
                Some(&token),
                &path,
                json!({"text": key, "client_msg_id": key}),
            )
            .await;
        assert!(
            status == StatusCode::CREATED || status == StatusCode::OK,
            "{status} {body}"
        );
    }
    let mut texts = Vec::new();
    let mut before = None;
    loop {
        let q = match before {
            Some(b) => format!("{path}?limit=200&before={b}"),
            None => format!("{path}?limit=200"),
        };
        let (_, page) = app.get(Some(&token), &q).await;
        let msgs = page["messages"].as_array().unwrap();
        for m in msgs.iter().rev() {
            texts.push(m["text"].as_str().unwrap().to_string());
        }
        if page["has_more_before"] != true {
            break;
        }
        before = msgs.first().map(|m| m["seq"].as_i64().unwrap());
    }
    let stored: BTreeSet<String> = texts.iter().cloned().collect();
    assert_eq!(stored.len(), texts.len(), "no message stored twice");
    assert_eq!(
        texts.len(),
        500,
        "every send stored exactly once after retries"
    );
    assert!(
        acked.is_subset(&stored),
        "every acknowledged send survived the shutdown"
    );
}
