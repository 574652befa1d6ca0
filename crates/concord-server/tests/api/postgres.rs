//! The core guarantees again, on PostgreSQL (compiled when `CONCORD_TEST_POSTGRES_URL` is
//! set; each test gets a fresh schema).

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

async fn pg_app() -> TestApp {
    spawn_app_with(Backend::Postgres, |_| {}, None).await
}

#[tokio::test]
async fn sends_are_gapless_and_idempotent_across_a_restart() {
    let app = pg_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let ch = app.channel(&alice, "general", "public", &[&bob]).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let user = if i % 2 == 0 {
            alice.clone()
        } else {
            bob.clone()
        };
        let http = app.http.clone();
        let url = app.url(&format!("/api/v1/channels/{ch}/messages"));
        tasks.push(tokio::spawn(async move {
            let resp = http
                .post(url)
                .bearer_auth(&user.token)
                .json(&json!({"text": format!("m{i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::CREATED);
            resp.json::<serde_json::Value>().await.unwrap()["seq"]
                .as_i64()
                .unwrap()
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());

    let path = format!("/api/v1/channels/{ch}/messages");
    let body = json!({"text": "once", "client_msg_id": "k-1"});
    let (s1, first) = app.post(Some(&alice.token), &path, body.clone()).await;
    assert_eq!(s1, StatusCode::CREATED);
    let app = app.restart().await;
    let token = app.login("alice", PASSWORD).await;
    let (s2, again) = app.post(Some(&token), &path, body).await;
    assert_eq!(s2, StatusCode::OK);
    assert_eq!(again["id"], first["id"]);
    let (_, page) = app.get(Some(&token), &format!("{path}?limit=200")).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 41);
}

#[tokio::test]
async fn resume_replays_missed_events_and_counts_unread() {
    let app = pg_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let ch = app.channel(&alice, "general", "private", &[&bob]).await;
    let mut ws = app.ws(&bob, None).await;
    let position = ws.hello().await["position"].as_i64().unwrap();
    drop(ws);
    app.send(&alice, ch, "@bob one").await;
    app.send(&alice, ch, "two").await;
    let mut ws = app.ws(&bob, Some(position)).await;
    let texts = [ws.next_event().await, ws.next_event().await]
        .map(|f| f["event"]["message"]["text"].as_str().unwrap().to_string());
    assert_eq!(texts, ["@bob one".to_string(), "two".to_string()]);
    assert_eq!(ws.hello().await["replayed"], 2);
    let (_, mine) = app.get(Some(&bob.token), "/api/v1/channels").await;
    assert_eq!(mine[0]["unread_count"], 2);
    assert_eq!(mine[0]["mention_count"], 1);
}
