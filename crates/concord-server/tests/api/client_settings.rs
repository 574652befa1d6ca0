//! `GET /api/v1/client-settings`: the web client's org settings follow `[web]` in the
//! configuration, for signed-in people only.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn watermark_is_off_by_default_and_needs_a_session() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;

    let (status, body) = app.get(Some(&alice.token), "/api/v1/client-settings").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"watermark": false}));

    let (status, body) = app.get(None, "/api/v1/client-settings").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["error"]["code"].is_string(), "{body}");
}

#[tokio::test]
async fn watermark_follows_the_web_section_of_the_config() {
    let app = spawn_app_configured(|config| config.web.watermark = true).await;
    let bob = app.user("bob").await;

    let (status, body) = app.get(Some(&bob.token), "/api/v1/client-settings").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"watermark": true}));
}
