//! The web client: its unit tests (vitest), how the server serves the embedded build (content
//! types, caching, security headers, SPA fallback, 404s), and the end-to-end tests in headless
//! Chromium against this real server (when `CONCORD_TEST_CHROMIUM` names the browser).

use crate::support::*;
use concord_proto::CreateUserRequest;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH,
};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

fn web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

/// Prints a child's output (shown when the test fails, or with `--nocapture`).
fn forward(output: &Output) {
    print!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
}

/// The client's unit tests: type-check plus vitest (markdown sanitising, resume, unread
/// counting, i18n parity, time zones, mention matching). `build.rs` installed the packages.
#[test]
fn web_unit_tests_pass() {
    let output = Command::new("npm")
        .args(["run", "test:unit"])
        .current_dir(web_dir())
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .output()
        .expect("run npm (Node.js 20+ and npm are required)");
    forward(&output);
    assert!(output.status.success(), "npm run test:unit failed");
}

#[tokio::test]
async fn serves_the_app_with_security_headers_and_spa_fallback() {
    let app = spawn_app().await;
    let get = |path: &str| app.http.get(app.url(path)).send();

    let index = get("/").await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    let h = index.headers().clone();
    assert_eq!(h[CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(h[CACHE_CONTROL], "no-cache");
    let csp = h[CONTENT_SECURITY_POLICY].to_str().unwrap();
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self' ws: wss:",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ] {
        assert!(csp.contains(part), "CSP has {part}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let html = index.text().await.unwrap();
    assert!(html.contains("<div id=\"app\"></div>"));
    assert!(
        !html.contains("<script>"),
        "no inline scripts: the CSP forbids them"
    );

    // Client routes reload: any other GET path answers index.html.
    for path in ["/c/12", "/settings", "/admin", "/some/deep/link"] {
        let r = get(path).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.headers().contains_key(CONTENT_SECURITY_POLICY));
        assert_eq!(r.text().await.unwrap(), html, "{path}");
    }

    // The hashed bundle is immutable; a gzip copy goes to clients that accept it.
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("index.html loads a script")
        .to_string();
    assert!(script.starts_with("/assets/"), "{script}");
    let js = get(&script).await.unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert_eq!(
        js.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(js.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert!(!js.headers().contains_key(CONTENT_ENCODING));
    let etag = js.headers()[ETAG].clone();
    let plain = js.bytes().await.unwrap();
    let gz = app
        .http
        .get(app.url(&script))
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()[CONTENT_ENCODING], "gzip");
    assert!(gz.bytes().await.unwrap().len() < plain.len() / 2);
    let cached = app
        .http
        .get(app.url(&script))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    // Static files with their types; the PWA manifest.
    let manifest = get("/manifest.webmanifest").await.unwrap();
    assert_eq!(manifest.status(), StatusCode::OK);
    assert_eq!(
        manifest.headers()[CONTENT_TYPE],
        "application/manifest+json"
    );
    let manifest: serde_json::Value = manifest.json().await.unwrap();
    assert_eq!(manifest["display"], "standalone");
    assert!(manifest["icons"].as_array().unwrap().len() >= 3);
    // The service worker: a script that revalidates, so a new version is picked up.
    let worker = get("/sw.js").await.unwrap();
    assert_eq!(worker.status(), StatusCode::OK);
    assert_eq!(
        worker.headers()[CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(worker.headers()[CACHE_CONTROL], "no-cache");
    assert!(
        worker
            .text()
            .await
            .unwrap()
            .contains("addEventListener(\"fetch\"")
    );
    let icon = get("/icons/icon-192.png").await.unwrap();
    assert_eq!(icon.headers()[CONTENT_TYPE], "image/png");
    assert_eq!(&icon.bytes().await.unwrap()[1..4], b"PNG");

    // A missing asset is a 404, not the app; the API keeps its JSON errors.
    let missing = get("/assets/missing-0000.js").await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(
        !missing
            .headers()
            .get(CONTENT_TYPE)
            .is_some_and(|t| t.to_str().unwrap().contains("html"))
    );
    for path in ["/api/v1/nope", "/api/nope", "/api"] {
        let (status, body) = app.get(None, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["error"]["code"], "not_found", "{path}: {body}");
    }
    let (status, body) = app.post(None, "/c/12", serde_json::json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "not_found");
    let (status, _) = app.get(None, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
}

/// Two users in two browser contexts, threads, reconnect and resume, zh-CN, a phone layout,
/// XSS attempts, the admin console; screenshots go to docs/screenshots/.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_end_to_end() {
    let Some(chromium) = std::env::var_os("CONCORD_TEST_CHROMIUM").filter(|v| !v.is_empty()) else {
        println!("SKIPPED: set CONCORD_TEST_CHROMIUM=/usr/bin/chromium to run the browser tests");
        return;
    };
    let app = spawn_app().await;
    for (username, display_name, is_admin) in
        [("alice", "Alice Chen", true), ("bob", "Bob Wang", false)]
    {
        app.services
            .create_user(
                None,
                CreateUserRequest {
                    username: username.into(),
                    password: PASSWORD.into(),
                    email: Some(format!("{username}@example.com")),
                    display_name: Some(display_name.into()),
                    is_admin,
                    guest: false,
                },
            )
            .await
            .expect("create user");
    }
    let base = app.url("");
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args([
                "e2e/run.mjs",
                "--base",
                &base,
                "--admin",
                "alice",
                "--user",
                "bob",
                "--password",
                PASSWORD,
            ])
            .current_dir(web_dir())
            .env("CONCORD_TEST_CHROMIUM", chromium)
            .output()
            .expect("run node")
    });
    let output = tokio::time::timeout(Duration::from_secs(900), run)
        .await
        .expect("the browser tests finish within 15 minutes")
        .expect("join");
    forward(&output);
    assert!(output.status.success(), "the browser tests failed");
}

/// The org watermark in a browser, on a server started with `[web] watermark = true` (run.mjs
/// checks it is off by default); the viewer's display name carries markup that must stay text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_watermark() {
    let Some(chromium) = std::env::var_os("CONCORD_TEST_CHROMIUM").filter(|v| !v.is_empty()) else {
        println!("SKIPPED: set CONCORD_TEST_CHROMIUM=/usr/bin/chromium to run the browser tests");
        return;
    };
    let app = spawn_app_configured(|config| config.web.watermark = true).await;
    app.services
        .create_user(
            None,
            CreateUserRequest {
                username: "dana".into(),
                password: PASSWORD.into(),
                email: Some("dana@example.com".into()),
                display_name: Some("Dana <b>Xu</b> & \"Ops\"".into()),
                is_admin: false,
                guest: false,
            },
        )
        .await
        .expect("create user");
    let base = app.url("");
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .args([
                "e2e/watermark.mjs",
                "--base",
                &base,
                "--user",
                "dana",
                "--password",
                PASSWORD,
            ])
            .current_dir(web_dir())
            .env("CONCORD_TEST_CHROMIUM", chromium)
            .output()
            .expect("run node")
    });
    let output = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("the watermark browser test finishes within 5 minutes")
        .expect("join");
    forward(&output);
    assert!(output.status.success(), "the watermark browser test failed");
}
