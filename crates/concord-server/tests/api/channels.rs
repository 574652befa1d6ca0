//! Channels, DMs and membership.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn ids(v: &Value, key: &str) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn public_channels_can_be_browsed_joined_and_left() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let general = app.channel(&alice, "General", "public", &[]).await;
    let secret = app.channel(&alice, "Secret", "private", &[]).await;

    let (_, page) = app.get(Some(&bob.token), "/api/v1/channels/browse").await;
    assert_eq!(
        ids(&page["channels"], "id"),
        vec![general],
        "private channels are not listed"
    );

    let (status, _) = app
        .post(
            Some(&bob.token),
            &format!("/api/v1/channels/{general}/join"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, mine) = app.get(Some(&bob.token), "/api/v1/channels").await;
    assert_eq!(
        mine.as_array()
            .unwrap()
            .iter()
            .map(|c| c["channel"]["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        vec![general]
    );
    let (_, members) = app
        .get(
            Some(&alice.token),
            &format!("/api/v1/channels/{general}/members"),
        )
        .await;
    assert_eq!(ids(&members, "user_id"), vec![alice.id, bob.id]);
    assert_eq!(members[0]["role"], "admin");
    assert_eq!(members[1]["role"], "member");

    let (status, _) = app
        .post(
            Some(&bob.token),
            &format!("/api/v1/channels/{general}/leave"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, mine) = app.get(Some(&bob.token), "/api/v1/channels").await;
    assert!(mine.as_array().unwrap().is_empty());

    // Private channels cannot be joined, nor seen.
    let (status, body) = app
        .post(
            Some(&bob.token),
            &format!("/api/v1/channels/{secret}/join"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn channel_names_are_unique_case_insensitively() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.channel(&alice, "Design", "public", &[]).await;
    let (status, body) = app
        .post(
            Some(&alice.token),
            "/api/v1/channels",
            json!({"name": "design", "kind": "private"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
}

#[tokio::test]
async fn creating_a_channel_with_an_unknown_member_creates_nothing() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let (status, body) = app
        .post(
            Some(&alice.token),
            "/api/v1/channels",
            json!({"name": "x", "kind": "public", "member_ids": [424242]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, page) = app.get(Some(&alice.token), "/api/v1/channels/browse").await;
    assert!(page["channels"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn members_invite_admins_kick_and_channels_can_be_renamed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let ch = app.channel(&alice, "Ops", "private", &[&bob]).await;

    // Any member may invite.
    let (status, body) = app
        .post(
            Some(&bob.token),
            &format!("/api/v1/channels/{ch}/members"),
            json!({"user_ids": [carol.id, bob.id]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["added"], json!([carol.id]));

    // Only channel admins kick others.
    let (status, _) = app
        .delete(
            Some(&bob.token),
            &format!("/api/v1/channels/{ch}/members/{}", carol.id),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .delete(
            Some(&alice.token),
            &format!("/api/v1/channels/{ch}/members/{}", carol.id),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .get(Some(&carol.token), &format!("/api/v1/channels/{ch}"))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a removed member no longer sees a private channel"
    );

    let (status, _) = app
        .patch(
            Some(&bob.token),
            &format!("/api/v1/channels/{ch}"),
            json!({"name": "Ops2"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, renamed) = app
        .patch(
            Some(&alice.token),
            &format!("/api/v1/channels/{ch}"),
            json!({"name": "Operations", "topic": "on call"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renamed["name"], "Operations");
    assert_eq!(renamed["topic"], "on call");
}

#[tokio::test]
async fn dms_are_found_again_and_have_a_fixed_membership() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let (status, dm) = app
        .post(
            Some(&alice.token),
            "/api/v1/dms",
            json!({"user_ids": [bob.id]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dm}");
    assert_eq!(dm["kind"], "dm");
    let (_, again) = app
        .post(
            Some(&bob.token),
            "/api/v1/dms",
            json!({"user_ids": [alice.id]}),
        )
        .await;
    assert_eq!(again["id"], dm["id"], "the same pair gets the same DM");

    let (_, group) = app
        .post(
            Some(&alice.token),
            "/api/v1/dms",
            json!({"user_ids": [bob.id, carol.id]}),
        )
        .await;
    assert_eq!(group["kind"], "group_dm");
    let (_, mine) = app.get(Some(&carol.token), "/api/v1/channels").await;
    let entry = &mine.as_array().unwrap()[0];
    assert_eq!(entry["dm_members"], json!([alice.id, bob.id, carol.id]));

    let dm_id = dm["id"].as_i64().unwrap();
    let (status, _) = app
        .post(
            Some(&alice.token),
            &format!("/api/v1/channels/{dm_id}/leave"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .post(
            Some(&alice.token),
            &format!("/api/v1/channels/{dm_id}/members"),
            json!({"user_ids": [carol.id]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .get(
            Some(&carol.token),
            &format!("/api/v1/channels/{dm_id}/messages"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "outsiders cannot read a DM");

    let too_many: Vec<i64> = (0..9).map(|i| 1000 + i).collect();
    let (status, _) = app
        .post(
            Some(&alice.token),
            "/api/v1/dms",
            json!({"user_ids": too_many}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app
        .post(
            Some(&alice.token),
            "/api/v1/dms",
            json!({"user_ids": [999_999]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn removed_members_cannot_post_from_the_moment_they_are_removed() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let private = app.channel(&alice, "core", "private", &[&bob]).await;
    let public = app.channel(&alice, "lobby", "public", &[&bob]).await;
    // Bob posts (so his access is remembered), then is removed or leaves; his very next post fails.
    for _ in 0..3 {
        app.send(&bob, private, "still here").await;
        app.send(&bob, public, "still here").await;
    }
    let (status, _) = app
        .delete(
            Some(&alice.token),
            &format!("/api/v1/channels/{private}/members/{}", bob.id),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .post(
            Some(&bob.token),
            &format!("/api/v1/channels/{private}/messages"),
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .post(
            Some(&bob.token),
            &format!("/api/v1/channels/{public}/leave"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .post(
            Some(&bob.token),
            &format!("/api/v1/channels/{public}/messages"),
            json!({"text": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Invited back, he may post again.
    app.post(
        Some(&alice.token),
        &format!("/api/v1/channels/{private}/members"),
        json!({"user_ids": [bob.id]}),
    )
    .await;
    let (status, _) = app
        .post(
            Some(&bob.token),
            &format!("/api/v1/channels/{private}/messages"),
            json!({"text": "back"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}
