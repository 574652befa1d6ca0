//! Logging in and out; session expiry; admin-created users.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn login_by_username_or_email_and_logout_revokes_the_token() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let (status, me) = app.get(Some(&alice.token), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "alice");
    assert_eq!(me["id"], alice.id);

    let by_email = app.login("Alice@Example.com", PASSWORD).await;
    assert_ne!(by_email, alice.token, "each login is its own session");

    let (status, _) = app
        .post(Some(&alice.token), "/api/v1/auth/logout", json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get(Some(&alice.token), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    // The other session lives on.
    let (status, _) = app.get(Some(&by_email), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn wrong_password_is_refused() {
    let app = spawn_app().await;
    app.user("bob").await;
    let (status, body) = app
        .post(
            None,
            "/api/v1/auth/login",
            json!({"login": "bob", "password": "nope nope"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "bad_credentials");
}

#[tokio::test]
async fn sessions_expire_when_idle_and_at_their_absolute_lifetime() {
    let app = spawn_app_with_manual_clock().await;
    let clock = app.clock.clone().unwrap();
    let carol = app.user("carol").await;
    let idle = app.config.sessions.idle_timeout_secs as i64;

    // Activity within the idle timeout keeps the session alive...
    clock.advance(jiff::SignedDuration::from_secs(idle - 60));
    assert_eq!(
        app.get(Some(&carol.token), "/api/v1/users/me").await.0,
        StatusCode::OK
    );
    clock.advance(jiff::SignedDuration::from_secs(idle - 60));
    assert_eq!(
        app.get(Some(&carol.token), "/api/v1/users/me").await.0,
        StatusCode::OK
    );
    // ...and idleness ends it.
    clock.advance(jiff::SignedDuration::from_secs(idle + 1));
    assert_eq!(
        app.get(Some(&carol.token), "/api/v1/users/me").await.0,
        StatusCode::UNAUTHORIZED
    );

    // A session that is used all the time still ends at its absolute lifetime.
    let token = app.login("carol", PASSWORD).await;
    let lifetime = app.config.sessions.lifetime_secs as i64;
    let mut elapsed = 0;
    while elapsed + idle / 2 < lifetime {
        clock.advance(jiff::SignedDuration::from_secs(idle / 2));
        elapsed += idle / 2;
        assert_eq!(
            app.get(Some(&token), "/api/v1/users/me").await.0,
            StatusCode::OK,
            "at {elapsed} s"
        );
    }
    clock.advance(jiff::SignedDuration::from_secs(lifetime - elapsed + 1));
    assert_eq!(
        app.get(Some(&token), "/api/v1/users/me").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn admins_create_users_who_can_then_log_in() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let (status, user) = app
        .post(
            Some(&admin.token),
            "/api/v1/users",
            json!({"username": "Dave", "password": "long enough pw", "email": "dave@example.com", "display_name": "Dave D."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["username"], "dave");
    assert_eq!(user["display_name"], "Dave D.");
    assert_eq!(user["is_admin"], false);
    app.login("dave", "long enough pw").await;

    let (status, body) = app
        .post(
            Some(&admin.token),
            "/api/v1/users",
            json!({"username": "dave", "password": "long enough pw"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, page) = app.get(Some(&admin.token), "/api/v1/users?limit=10").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = page["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["root", "dave"]);
    let (status, one) = app
        .get(Some(&admin.token), &format!("/api/v1/users/{}", user["id"]))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["username"], "dave");
}

#[tokio::test]
async fn user_pages_follow_next_after() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    for i in 0..4 {
        let (status, _) = app
            .post(
                Some(&admin.token),
                "/api/v1/users",
                json!({"username": format!("u{i}"), "password": "long enough pw"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, first) = app.get(Some(&admin.token), "/api/v1/users?limit=3").await;
    assert_eq!(first["users"].as_array().unwrap().len(), 3);
    let next = first["next_after"].as_i64().expect("a next page");
    let (_, second) = app
        .get(
            Some(&admin.token),
            &format!("/api/v1/users?limit=3&after={next}"),
        )
        .await;
    let names: Vec<&str> = second["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["u2", "u3"]);
    assert!(second["next_after"].is_null());
}
