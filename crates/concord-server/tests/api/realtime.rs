//! The WebSocket event stream: fan-out to every session of every member, sends and typing
//! from the client, presence, membership changes, and resume with no gap and no duplicate.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn events_reach_every_session_of_every_member_and_nobody_else() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let eve = app.user("eve").await;
    let ch = app.channel(&alice, "secret", "private", &[&bob]).await;
    let mut bob1 = app.ws(&bob, None).await;
    let mut bob2 = app.ws(&bob, None).await;
    let mut eve1 = app.ws(&eve, None).await;
    for ws in [&mut bob1, &mut bob2, &mut eve1] {
        ws.hello().await;
    }
    let sent = app.send(&alice, ch, "for members only").await;
    for ws in [&mut bob1, &mut bob2] {
        let f = ws.next_event().await;
        assert_eq!(f["event"]["type"], "message.created");
        assert_eq!(f["event"]["message"], sent);
        assert!(f["position"].as_i64().unwrap() > 0);
    }
    eve1.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn sends_over_the_socket_are_acknowledged_once_committed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let ch = app.channel(&alice, "general", "public", &[&bob]).await;
    let mut a = app.ws(&alice, None).await;
    let mut b = app.ws(&bob, None).await;
    a.hello().await;
    b.hello().await;
    a.send_json(json!({"type": "send", "request_id": "r1", "channel_id": ch, "text": "hi **bob**", "client_msg_id": "c1"})).await;
    // Alice sees her own message as an event and gets the ack, in either order.
    let mut ack = None;
    let mut echoed = None;
    while ack.is_none() || echoed.is_none() {
        let f = a.next_event().await;
        match f["type"].as_str().unwrap() {
            "ack" => ack = Some(f),
            "event" => echoed = Some(f),
            other => panic!("unexpected {other}: {f}"),
        }
    }
    let ack = ack.unwrap();
    assert_eq!(ack["request_id"], "r1");
    assert_eq!(ack["message"]["seq"], 1);
    let f = b.next_event().await;
    assert_eq!(f["event"]["message"], ack["message"]);
    // The message is durable: it is in the history.
    let (_, page) = app
        .get(Some(&bob.token), &format!("/api/v1/channels/{ch}/messages"))
        .await;
    assert_eq!(page["messages"][0]["text"], "hi **bob**");

    // A retried send with the same client_msg_id is acknowledged with the original.
    a.send_json(json!({"type": "send", "request_id": "r2", "channel_id": ch, "text": "hi **bob**", "client_msg_id": "c1"})).await;
    let ack2 = a.next_event().await;
    assert_eq!(ack2["type"], "ack");
    assert_eq!(ack2["message"]["id"], ack["message"]["id"]);
    b.expect_silence(Duration::from_millis(300)).await;

    a.send_json(json!({"type": "ping"})).await;
    assert_eq!(a.next_event().await["type"], "pong");
}

#[tokio::test]
async fn typing_and_presence_are_delivered_live() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let ch = app.channel(&alice, "general", "public", &[&bob]).await;
    let mut b = app.ws(&bob, None).await;
    b.hello().await;
    // Presence is by subscription: bob follows alice and carol.
    let carol = app.user("carol").await;
    b.send_json(json!({"type": "presence_subscribe", "user_ids": [alice.id, carol.id]}))
        .await;
    for expected in [alice.id, carol.id] {
        let now = b.next_of("presence").await;
        assert_eq!(
            now["event"],
            json!({"type": "presence", "user_id": expected, "status": "offline"})
        );
    }
    let mut a = app.ws(&alice, None).await;
    a.hello().await;
    let online = b.next_of("presence").await;
    assert_eq!(
        online["event"],
        json!({"type": "presence", "user_id": alice.id, "status": "online"})
    );
    assert!(online["position"].is_null(), "presence is ephemeral");
    // Nobody follows bob, so alice hears nothing of him.
    a.expect_silence(std::time::Duration::from_millis(200))
        .await;

    a.send_json(json!({"type": "typing", "channel_id": ch}))
        .await;
    let typing = b.next_of("typing").await;
    assert_eq!(typing["event"]["user_id"], alice.id);
    assert_eq!(typing["event"]["channel_id"], ch);

    let (status, _) = app
        .post(
            Some(&bob.token),
            &format!("/api/v1/channels/{ch}/typing"),
            json!({"thread_root_id": null}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let typing = a.next_of("typing").await;
    assert_eq!(typing["event"]["user_id"], bob.id);

    drop(a);
    let offline = b.next_of("presence").await;
    assert_eq!(
        offline["event"],
        json!({"type": "presence", "user_id": alice.id, "status": "offline"})
    );
}

#[tokio::test]
async fn membership_changes_start_and_stop_the_flow_of_a_channels_events() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut b = app.ws(&bob, None).await;
    b.hello().await;
    // Created with bob in it: bob hears of it.
    let ch = app.channel(&alice, "project", "private", &[&bob]).await;
    let created = b.next_event().await;
    assert_eq!(created["event"]["type"], "channel.created");
    assert_eq!(created["event"]["channel"]["id"], ch);
    assert_eq!(created["event"]["member_ids"], json!([alice.id, bob.id]));
    app.send(&alice, ch, "one").await;
    assert_eq!(b.next_event().await["event"]["message"]["text"], "one");

    app.delete(
        Some(&alice.token),
        &format!("/api/v1/channels/{ch}/members/{}", bob.id),
    )
    .await;
    let left = b.next_event().await;
    assert_eq!(
        left["event"],
        json!({"type": "member.left", "channel_id": ch, "user_id": bob.id, "actor_id": alice.id})
    );
    app.send(&alice, ch, "two").await;
    b.expect_silence(Duration::from_millis(300)).await;

    app.post(
        Some(&alice.token),
        &format!("/api/v1/channels/{ch}/members"),
        json!({"user_ids": [bob.id]}),
    )
    .await;
    let joined = b.next_event().await;
    assert_eq!(joined["event"]["type"], "member.joined");
    app.send(&alice, ch, "three").await;
    assert_eq!(b.next_event().await["event"]["message"]["text"], "three");
}

#[tokio::test]
async fn reconnecting_with_since_replays_exactly_what_was_missed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let ch = app.channel(&alice, "general", "public", &[&bob]).await;
    let other = app.channel(&alice, "elsewhere", "private", &[]).await;
    let first = app.send(&alice, ch, "before").await;

    let mut b = app.ws(&bob, None).await;
    let hello = b.hello().await;
    let mut position = hello["position"].as_i64().unwrap();
    let m1 = app.send(&alice, ch, "seen live").await;
    let live = b.next_event().await;
    assert_eq!(live["event"]["message"], m1);
    position = position.max(live["position"].as_i64().unwrap());
    drop(b);

    // While bob is away: a message, an edit, a reaction, a delete, a read marker of his own
    // from another device, and traffic in a channel he is not in.
    let m2 = app.send(&alice, ch, "missed").await;
    let m2_id = m2["id"].as_i64().unwrap();
    app.patch(
        Some(&alice.token),
        &format!("/api/v1/messages/{m2_id}"),
        json!({"text": "missed (edited)"}),
    )
    .await;
    app.put(
        Some(&alice.token),
        &format!("/api/v1/messages/{m2_id}/reactions/eyes"),
    )
    .await;
    app.delete(
        Some(&alice.token),
        &format!("/api/v1/messages/{}", first["id"]),
    )
    .await;
    app.post(
        Some(&bob.token),
        &format!("/api/v1/channels/{ch}/read"),
        json!({"seq": 2}),
    )
    .await;
    app.send(&alice, other, "private elsewhere").await;

    let mut b = app.ws(&bob, Some(position)).await;
    let mut kinds = Vec::new();
    let mut positions = Vec::new();
    loop {
        let f = b.next_event().await;
        if f["type"] == "hello" {
            assert_eq!(f["replayed"], 5);
            break;
        }
        kinds.push(f["event"]["type"].as_str().unwrap().to_string());
        positions.push(f["position"].as_i64().unwrap());
    }
    assert_eq!(
        kinds,
        vec![
            "message.created",
            "message.edited",
            "reaction.added",
            "message.deleted",
            "channel.read"
        ]
    );
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "in order: {positions:?}"
    );
    assert!(positions[0] > position);

    // And then live again, with nothing repeated.
    let m3 = app.send(&alice, ch, "live again").await;
    let f = b.next_event().await;
    assert_eq!(f["event"]["message"], m3);
    assert!(f["position"].as_i64().unwrap() > *positions.last().unwrap());
}

#[tokio::test]
async fn reconnects_under_concurrent_sends_have_no_gap_and_no_duplicate() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let ch = app.channel(&alice, "busy", "public", &[&bob]).await;
    const TOTAL: i64 = 150;
    let http = app.http.clone();
    let url = app.url(&format!("/api/v1/channels/{ch}/messages"));
    let token = alice.token.clone();
    let sender = tokio::spawn(async move {
        for i in 1..=TOTAL {
            let resp = http
                .post(&url)
                .bearer_auth(&token)
                .json(&json!({"text": format!("n{i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::CREATED);
        }
    });
    let mut seen: Vec<i64> = Vec::new();
    let mut position: Option<i64> = Some(0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while (seen.len() as i64) < TOTAL {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only saw {} of {TOTAL}",
            seen.len()
        );
        let mut ws = app.ws(&bob, position).await;
        // Read a handful of frames (replayed or live), then drop the connection abruptly.
        for _ in 0..7 {
            let f: Value = ws.next_event().await;
            match f["type"].as_str().unwrap() {
                "hello" => position = Some(position.unwrap().max(f["position"].as_i64().unwrap())),
                "event" if f["event"]["type"] == "message.created" => {
                    seen.push(f["event"]["message"]["seq"].as_i64().unwrap());
                    position = Some(f["position"].as_i64().unwrap());
                }
                "event" => position = Some(f["position"].as_i64().unwrap()),
                other => panic!("unexpected {other}"),
            }
            if seen.len() as i64 == TOTAL {
                break;
            }
        }
    }
    sender.await.unwrap();
    assert_eq!(
        seen,
        (1..=TOTAL).collect::<Vec<_>>(),
        "every message once, in order"
    );
}

#[tokio::test]
async fn a_client_too_far_behind_is_told_to_refetch() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let ch = app.channel(&alice, "general", "public", &[]).await;
    app.send(&alice, ch, "old").await;
    let far_future = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap();
    let pruned = app.services.store.prune_events(far_future).await.unwrap();
    assert!(pruned >= 2);
    let mut ws = app.ws(&alice, Some(0)).await;
    let f = ws.next_json().await;
    assert_eq!(f["type"], "resync_required");
    let hello = ws.hello().await;
    assert_eq!(hello["replayed"], 0);
    assert_eq!(f["position"], hello["position"]);
    // The stream continues live from there.
    app.send(&alice, ch, "new").await;
    assert_eq!(ws.next_event().await["event"]["message"]["text"], "new");
}

#[tokio::test]
async fn shutdown_sends_a_close_frame() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mut ws = app.ws(&alice, None).await;
    ws.hello().await;
    let stopping = tokio::spawn(app.stop());
    let (code, reason) = ws.expect_close().await;
    assert_eq!(code, 1001);
    assert!(reason.contains("shutting down"), "{reason}");
    stopping.await.unwrap();
}

#[tokio::test]
async fn websocket_requires_a_valid_token() {
    let app = spawn_app().await;
    let err = tokio_tungstenite::connect_async(format!("ws://{}/api/v1/ws", app.addr))
        .await
        .unwrap_err();
    match err {
        tokio_tungstenite::tungstenite::Error::Http(resp) => assert_eq!(resp.status(), 401),
        other => panic!("expected an HTTP 401, got {other:?}"),
    }
    let err =
        tokio_tungstenite::connect_async(format!("ws://{}/api/v1/ws?token=cct_nope", app.addr))
            .await
            .unwrap_err();
    assert!(
        matches!(err, tokio_tungstenite::tungstenite::Error::Http(ref r) if r.status() == 401),
        "{err:?}"
    );
}
