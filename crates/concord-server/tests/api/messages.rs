//! Messages: sequence numbers, idempotent sends, threads, edits, deletes, reactions, pins,
//! mentions, read state and history paging.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn seqs(page: &Value) -> Vec<i64> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn concurrent_sends_get_gapless_per_channel_sequences() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let a = app.channel(&alice, "a", "public", &[&bob]).await;
    let b = app.channel(&alice, "b", "public", &[&bob]).await;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (user, ch) = match i % 3 {
            0 => (alice.clone(), a),
            1 => (bob.clone(), a),
            _ => (bob.clone(), b),
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
            let v: Value = resp.json().await.unwrap();
            (ch, v["seq"].as_i64().unwrap())
        }));
    }
    let mut got_a = Vec::new();
    let mut got_b = Vec::new();
    for t in tasks {
        let (ch, seq) = t.await.unwrap();
        if ch == a {
            got_a.push(seq)
        } else {
            got_b.push(seq)
        }
    }
    got_a.sort();
    got_b.sort();
    assert_eq!(got_a, (1..=40).collect::<Vec<_>>());
    assert_eq!(got_b, (1..=20).collect::<Vec<_>>());
    let (_, page) = app
        .get(
            Some(&alice.token),
            &format!("/api/v1/channels/{a}/messages?limit=200"),
        )
        .await;
    assert_eq!(seqs(&page), (1..=40).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_retried_send_returns_the_original_even_after_a_restart() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let ch = app.channel(&alice, "general", "public", &[]).await;
    let path = format!("/api/v1/channels/{ch}/messages");
    let body = json!({"text": "pay invoice 42", "client_msg_id": "retry-1"});
    let (s1, first) = app.post(Some(&alice.token), &path, body.clone()).await;
    assert_eq!(s1, StatusCode::CREATED);
    let (s2, second) = app.post(Some(&alice.token), &path, body.clone()).await;
    assert_eq!(s2, StatusCode::OK);
    assert_eq!(first, second);

    let app = app.restart().await;
    let token = app.login("alice", PASSWORD).await;
    let (s3, third) = app.post(Some(&token), &path, body).await;
    assert_eq!(s3, StatusCode::OK);
    assert_eq!(third["id"], first["id"]);
    assert_eq!(third["seq"], 1);
    let (_, page) = app.get(Some(&token), &path).await;
    assert_eq!(seqs(&page), vec![1], "exactly one copy");
}

#[tokio::test]
async fn threads_edits_and_deletes() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let ch = app.channel(&alice, "design", "private", &[&bob]).await;
    let root = app.send(&alice, ch, "Which logo?").await;
    let root_id = root["id"].as_i64().unwrap();
    let path = format!("/api/v1/channels/{ch}/messages");
    let (status, reply) = app
        .post(
            Some(&bob.token),
            &path,
            json!({"text": "The blue one", "thread_root_id": root_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(reply["thread_root_id"], root_id);
    // Replies to replies are refused: threads are one level deep.
    let (status, _) = app
        .post(
            Some(&alice.token),
            &path,
            json!({"text": "nested", "thread_root_id": reply["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, thread) = app
        .get(
            Some(&alice.token),
            &format!("/api/v1/messages/{root_id}/thread"),
        )
        .await;
    assert_eq!(thread["root"]["reply_count"], 1);
    assert_eq!(thread["replies"].as_array().unwrap().len(), 1);
    assert_eq!(thread["replies"][0]["text"], "The blue one");

    // Edits keep history, visible to members.
    let reply_id = reply["id"].as_i64().unwrap();
    let (status, _) = app
        .patch(
            Some(&alice.token),
            &format!("/api/v1/messages/{reply_id}"),
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only the author edits");
    let (status, edited) = app
        .patch(
            Some(&bob.token),
            &format!("/api/v1/messages/{reply_id}"),
            json!({"text": "The dark blue one"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(edited["text"], "The dark blue one");
    assert!(edited["edited_at"].is_string());
    app.patch(
        Some(&bob.token),
        &format!("/api/v1/messages/{reply_id}"),
        json!({"text": "Navy"}),
    )
    .await;
    let (_, versions) = app
        .get(
            Some(&alice.token),
            &format!("/api/v1/messages/{reply_id}/versions"),
        )
        .await;
    let texts: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, vec!["The blue one", "The dark blue one", "Navy"]);

    // Deletion leaves a tombstone so sequences stay gapless.
    let (status, _) = app
        .delete(Some(&bob.token), &format!("/api/v1/messages/{root_id}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .delete(Some(&alice.token), &format!("/api/v1/messages/{root_id}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, page) = app.get(Some(&bob.token), &path).await;
    assert_eq!(seqs(&page), vec![1, 2]);
    assert_eq!(page["messages"][0]["deleted"], true);
    assert_eq!(page["messages"][0]["text"], "");
    let (status, _) = app
        .patch(
            Some(&alice.token),
            &format!("/api/v1/messages/{root_id}"),
            json!({"text": "back"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn reactions_and_pins() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let ch = app.channel(&alice, "general", "public", &[&bob]).await;
    let m = app.send(&alice, ch, "ship it?").await;
    let id = m["id"].as_i64().unwrap();
    for user in [&alice, &bob, &bob] {
        let (status, _) = app
            .put(
                Some(&user.token),
                &format!("/api/v1/messages/{id}/reactions/:thumbsup:"),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    app.put(
        Some(&bob.token),
        &format!("/api/v1/messages/{id}/reactions/%F0%9F%8E%89"),
    )
    .await;
    let (_, msg) = app
        .get(Some(&alice.token), &format!("/api/v1/messages/{id}"))
        .await;
    assert_eq!(
        msg["reactions"],
        json!([{"emoji": "thumbsup", "user_ids": [alice.id, bob.id]}, {"emoji": "🎉", "user_ids": [bob.id]}])
    );
    app.delete(
        Some(&alice.token),
        &format!("/api/v1/messages/{id}/reactions/thumbsup"),
    )
    .await;
    let (_, msg) = app
        .get(Some(&alice.token), &format!("/api/v1/messages/{id}"))
        .await;
    assert_eq!(
        msg["reactions"][0],
        json!({"emoji": "thumbsup", "user_ids": [bob.id]})
    );

    let (status, _) = app
        .put(Some(&bob.token), &format!("/api/v1/messages/{id}/pin"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, pins) = app
        .get(Some(&alice.token), &format!("/api/v1/channels/{ch}/pins"))
        .await;
    assert_eq!(pins.as_array().unwrap().len(), 1);
    assert_eq!(pins[0]["pinned"], true);
    app.delete(Some(&alice.token), &format!("/api/v1/messages/{id}/pin"))
        .await;
    let (_, pins) = app
        .get(Some(&alice.token), &format!("/api/v1/channels/{ch}/pins"))
        .await;
    assert!(pins.as_array().unwrap().is_empty());
}

async fn counts(app: &TestApp, user: &TestUser, channel: i64) -> (i64, i64, i64) {
    let (_, mine) = app.get(Some(&user.token), "/api/v1/channels").await;
    let c = mine
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"]["id"] == channel)
        .expect("member of channel");
    (
        c["unread_count"].as_i64().unwrap(),
        c["mention_count"].as_i64().unwrap(),
        c["last_read_seq"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn unread_and_mention_counts_follow_reads() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let ch = app
        .channel(&alice, "general", "public", &[&bob, &carol])
        .await;
    app.send(&alice, ch, "hello all").await;
    app.send(&alice, ch, "@bob can you review?").await;
    app.send(&alice, ch, "请@carol 看一下").await;
    app.send(&alice, ch, "@channel standup in 5").await;
    app.send(&bob, ch, "on it").await;
    app.send(&alice, ch, "@here anyone online?").await; // nobody has a live connection

    assert_eq!(counts(&app, &bob, ch).await, (5, 2, 0));
    assert_eq!(counts(&app, &carol, ch).await, (6, 2, 0));
    assert_eq!(
        counts(&app, &alice, ch).await,
        (1, 0, 0),
        "own messages are not unread"
    );

    let (status, body) = app
        .post(
            Some(&bob.token),
            &format!("/api/v1/channels/{ch}/read"),
            json!({"seq": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["last_read_seq"], 3);
    assert_eq!(counts(&app, &bob, ch).await, (2, 1, 3));
    app.post(
        Some(&bob.token),
        &format!("/api/v1/channels/{ch}/read"),
        json!({"seq": 6}),
    )
    .await;
    assert_eq!(counts(&app, &bob, ch).await, (0, 0, 6));
    let (status, _) = app
        .post(
            Some(&bob.token),
            &format!("/api/v1/channels/{ch}/read"),
            json!({"seq": 7}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "cannot read past the last message"
    );
    // Marking unread moves back.
    app.post(
        Some(&bob.token),
        &format!("/api/v1/channels/{ch}/read"),
        json!({"seq": 1}),
    )
    .await;
    assert_eq!(counts(&app, &bob, ch).await, (4, 2, 1));
}

#[tokio::test]
async fn here_mentions_count_for_members_online_now() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let ch = app
        .channel(&alice, "general", "public", &[&bob, &carol])
        .await;
    let mut ws = app.ws(&bob, None).await;
    ws.hello().await;
    app.send(&alice, ch, "@here lunch?").await;
    assert_eq!(counts(&app, &bob, ch).await.1, 1);
    assert_eq!(counts(&app, &carol, ch).await.1, 0);
}

#[tokio::test]
async fn history_pages_around_sequences_and_times() {
    let app = spawn_app_with_manual_clock().await;
    let clock = app.clock.clone().unwrap();
    let alice = app.user("alice").await;
    let ch = app.channel(&alice, "log", "public", &[]).await;
    let mut times = Vec::new();
    for i in 1..=25 {
        clock.advance(jiff::SignedDuration::from_secs(60));
        let m = app.send(&alice, ch, &format!("message {i}")).await;
        times.push(m["created_at"].as_str().unwrap().to_string());
    }
    let get = |q: String| {
        let app = &app;
        let token = alice.token.clone();
        async move {
            app.get(Some(&token), &format!("/api/v1/channels/{ch}/messages?{q}"))
                .await
                .1
        }
    };
    let latest = get("limit=10".into()).await;
    assert_eq!(seqs(&latest), (16..=25).collect::<Vec<_>>());
    assert_eq!(
        (
            latest["has_more_before"].as_bool(),
            latest["has_more_after"].as_bool()
        ),
        (Some(true), Some(false))
    );

    let older = get("before=16&limit=10".into()).await;
    assert_eq!(seqs(&older), (6..=15).collect::<Vec<_>>());
    let oldest = get("before=6&limit=10".into()).await;
    assert_eq!(seqs(&oldest), (1..=5).collect::<Vec<_>>());
    assert_eq!(oldest["has_more_before"], false);

    let newer = get("after=20&limit=3".into()).await;
    assert_eq!(seqs(&newer), vec![21, 22, 23]);
    assert_eq!(newer["has_more_after"], true);
    let end = get("after=25".into()).await;
    assert!(seqs(&end).is_empty());
    assert_eq!(end["has_more_after"], false);

    let around = get("around=12&limit=5".into()).await;
    assert_eq!(seqs(&around), vec![10, 11, 12, 13, 14]);
    let around_start = get("around=1&limit=5".into()).await;
    assert_eq!(seqs(&around_start), vec![1, 2, 3, 4, 5]);

    // `at` centres on the first message sent at or after that time, exact at the boundary.
    let at = get(format!("at={}&limit=3", times[17])).await;
    assert_eq!(seqs(&at), vec![17, 18, 19]);
    let just_after = jiff::Timestamp::from_millisecond(
        times[17]
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond()
            + 1,
    )
    .unwrap();
    let at = get(format!("at={just_after}&limit=3")).await;
    assert_eq!(seqs(&at), vec![18, 19, 20]);
    let at = get("at=2000-01-01T00:00:00%2B08:00&limit=3".into()).await;
    assert_eq!(seqs(&at), vec![1, 2, 3]);
    let future = get("at=2999-01-01T00:00:00Z&limit=5".into()).await;
    assert_eq!(
        seqs(&future),
        vec![21, 22, 23, 24, 25],
        "after the last message: the newest page"
    );
}
