//! Test support: spawn the real server on a random port with a fresh data dir (and, for the
//! PostgreSQL variants, a fresh schema), and talk to it over HTTP and WebSocket as a client.
//! Logs show only when `TEST_LOG` is set.

#![allow(dead_code)]

use concord_core::clock::ManualClock;
use concord_core::{Clock, Services, SystemClock};
use concord_proto::CreateUserRequest;
use concord_server::{App, Config};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const PASSWORD: &str = "correct horse battery";

pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub services: Services,
    pub config: Config,
    pub clock: Option<Arc<ManualClock>>,
    /// The PostgreSQL schema this app's tables live in (PostgreSQL runs only).
    schema: Option<String>,
    data_dir: Arc<tempfile::TempDir>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub token: String,
}

/// reqwest speaks rustls without a built-in provider: install ring's (as the binary's `main`
/// does) before building a client.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn init_logs() {
    install_crypto();
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info,concord=debug")
            .with_test_writer()
            .try_init();
    }
}

/// A config for tests: port 0, a fresh data dir, generous rate limits unless a test lowers them.
pub fn test_config(dir: &std::path::Path) -> Config {
    let mut c = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    c.rate_limits.sends_per_second = 10_000;
    c.rate_limits.send_burst = 10_000;
    c.rate_limits.logins_per_minute_per_ip = 10_000;
    c.rate_limits.logins_per_minute_per_account = 10_000;
    c
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Backend::Sqlite, |_| {}, None).await
}

pub async fn spawn_app_configured(tweak: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with(Backend::Sqlite, tweak, None).await
}

/// An app whose clock only moves when the test says so.
pub async fn spawn_app_with_manual_clock() -> TestApp {
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    spawn_app_with(Backend::Sqlite, |_| {}, Some(clock)).await
}

pub async fn spawn_app_with(
    backend: Backend,
    tweak: impl FnOnce(&mut Config),
    clock: Option<Arc<ManualClock>>,
) -> TestApp {
    init_logs();
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    if let Backend::Postgres = backend {
        config.database_url =
            Some(std::env::var("CONCORD_TEST_POSTGRES_URL").expect("CONCORD_TEST_POSTGRES_URL"));
    }
    tweak(&mut config);
    start(config, dir, clock, fresh_schema(&backend)).await
}

fn fresh_schema(backend: &Backend) -> Option<String> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(format!("t_{}", rand::random::<u64>())),
    }
}

async fn start(
    config: Config,
    dir: Arc<tempfile::TempDir>,
    clock: Option<Arc<ManualClock>>,
    schema: Option<String>,
) -> TestApp {
    let store_config = match (config.store_config(), schema.clone()) {
        (
            concord_store::StoreConfig::Postgres {
                url,
                max_connections,
                ..
            },
            Some(schema),
        ) => concord_store::StoreConfig::Postgres {
            url,
            schema: Some(schema),
            max_connections,
        },
        (other, _) => other,
    };
    let store = concord_server::at_rest::open_store_at(&config, &store_config)
        .await
        .expect("open store");
    let dyn_clock: Arc<dyn Clock> = match &clock {
        Some(c) => c.clone(),
        None => Arc::new(SystemClock),
    };
    let app = App::build_on(config.clone(), store, dyn_clock)
        .await
        .expect("build app");
    let addr = app.local_addr();
    let services = app.services().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run(async move {
            let _ = stopped.await;
        })
        .await
        .expect("server run");
    });
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut config = config;
    config.listen = addr;
    TestApp {
        addr,
        http,
        services,
        config,
        clock,
        schema,
        data_dir: dir,
        stop: Some(stop),
        server: Some(server),
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.path().to_path_buf()
    }

    /// The PostgreSQL schema of this app's tables (PostgreSQL runs only), for raw checks.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(Duration::from_secs(20), server).await;
        }
    }

    /// Stops this server and starts a new one on the same data (data dir or schema).
    pub async fn restart(mut self) -> TestApp {
        self.shutdown().await;
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".parse().unwrap();
        start(
            config,
            self.data_dir.clone(),
            self.clock.clone(),
            self.schema.clone(),
        )
        .await
    }

    /// Creates a user directly through the services (as the CLI does) and logs in over HTTP.
    pub async fn user(&self, username: &str) -> TestUser {
        self.make_user(username, false).await
    }

    pub async fn admin(&self, username: &str) -> TestUser {
        self.make_user(username, true).await
    }

    async fn make_user(&self, username: &str, is_admin: bool) -> TestUser {
        let req = CreateUserRequest {
            username: username.into(),
            password: PASSWORD.into(),
            email: Some(format!("{username}@example.com")),
            display_name: None,
            is_admin,
            guest: false,
        };
        let user = self
            .services
            .create_user(None, req)
            .await
            .expect("create user");
        let token = self.login(username, PASSWORD).await;
        TestUser {
            id: user.id.0,
            username: username.into(),
            token,
        }
    }

    pub async fn login(&self, login: &str, password: &str) -> String {
        let (status, body) = self
            .post(
                None,
                "/api/v1/auth/login",
                json!({"login": login, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login failed: {body}");
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, token: Option<&str>, path: &str) -> (StatusCode, Value) {
        self.request(reqwest::Method::GET, token, path, None).await
    }

    pub async fn post(&self, token: Option<&str>, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(reqwest::Method::POST, token, path, Some(body))
            .await
    }

    pub async fn patch(&self, token: Option<&str>, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(reqwest::Method::PATCH, token, path, Some(body))
            .await
    }

    pub async fn put(&self, token: Option<&str>, path: &str) -> (StatusCode, Value) {
        self.request(reqwest::Method::PUT, token, path, None).await
    }

    pub async fn put_json(
        &self,
        token: Option<&str>,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        self.request(reqwest::Method::PUT, token, path, Some(body))
            .await
    }

    pub async fn delete(&self, token: Option<&str>, path: &str) -> (StatusCode, Value) {
        self.request(reqwest::Method::DELETE, token, path, None)
            .await
    }

    /// Creates a channel as `owner` with `members`; returns its id.
    pub async fn channel(
        &self,
        owner: &TestUser,
        name: &str,
        kind: &str,
        members: &[&TestUser],
    ) -> i64 {
        let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
        let (status, body) = self
            .post(
                Some(&owner.token),
                "/api/v1/channels",
                json!({"name": name, "kind": kind, "member_ids": ids}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create channel: {body}");
        body["id"].as_i64().unwrap()
    }

    /// Uploads `bytes` as a file named `name` into a channel; returns status and body.
    pub async fn upload(
        &self,
        user: &TestUser,
        channel: i64,
        name: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(self.url(&format!(
                "/api/v1/channels/{channel}/files?name={}",
                query_value(name)
            )))
            .bearer_auth(&user.token)
            .body(bytes)
            .send()
            .await
            .expect("upload");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// A GET returning the raw response (for file content).
    pub async fn get_raw(&self, token: Option<&str>, path: &str) -> reqwest::Response {
        let mut req = self.http.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    /// Sends a message over REST; returns the message JSON.
    pub async fn send(&self, user: &TestUser, channel: i64, text: &str) -> Value {
        let (status, body) = self
            .post(
                Some(&user.token),
                &format!("/api/v1/channels/{channel}/messages"),
                json!({"text": text}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "send: {body}");
        body
    }

    pub async fn ws(&self, user: &TestUser, since: Option<i64>) -> WsClient {
        let mut url = format!("ws://{}/api/v1/ws?token={}", self.addr, user.token);
        if let Some(s) = since {
            url.push_str(&format!("&since={s}"));
        }
        let (stream, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("ws connect");
        WsClient { stream }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub struct WsClient {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How long to wait for a frame that should come.
const FRAME_WAIT: Duration = Duration::from_secs(10);

impl WsClient {
    /// The next text frame as JSON, skipping pings. Panics after a timeout or on close.
    pub async fn next_json(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(FRAME_WAIT, self.stream.next())
                .await
                .expect("timed out waiting for a frame")
                .expect("stream ended")
                .expect("ws error");
            match msg {
                WsMessage::Text(t) => return serde_json::from_str(&t).expect("frame is JSON"),
                WsMessage::Ping(_) | WsMessage::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// The next frame, which must be `hello`.
    pub async fn hello(&mut self) -> Value {
        let f = self.next_json().await;
        assert_eq!(f["type"], "hello", "expected hello, got {f}");
        f
    }

    /// The next `event` frame whose event type is not in `skip` (presence and typing are
    /// skipped by default since they arrive whenever people connect).
    pub async fn next_event(&mut self) -> Value {
        loop {
            let f = self.next_json().await;
            if f["type"] == "event" {
                let t = f["event"]["type"].as_str().unwrap_or_default();
                if t == "presence" || t == "typing" {
                    continue;
                }
            }
            return f;
        }
    }

    /// The next frame of type `event` with the given event type, skipping others.
    pub async fn next_of(&mut self, event_type: &str) -> Value {
        loop {
            let f = self.next_json().await;
            if f["type"] == "event" && f["event"]["type"] == event_type {
                return f;
            }
        }
    }

    /// Asserts that no frame but pings arrives within `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return,
                Ok(Some(Ok(WsMessage::Text(t)))) => panic!("expected silence, got {t}"),
                Ok(Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_)))) => continue,
                Ok(other) => panic!("expected silence, got {other:?}"),
            }
        }
    }

    pub async fn send_json(&mut self, v: Value) {
        self.stream
            .send(WsMessage::Text(v.to_string().into()))
            .await
            .expect("ws send");
    }

    /// Waits for the close frame and returns its code and reason.
    pub async fn expect_close(&mut self) -> (u16, String) {
        loop {
            let msg = tokio::time::timeout(FRAME_WAIT, self.stream.next())
                .await
                .expect("timed out waiting for close");
            match msg {
                Some(Ok(WsMessage::Close(Some(frame)))) => {
                    return (frame.code.into(), frame.reason.to_string());
                }
                Some(Ok(WsMessage::Close(None))) => return (1005, String::new()),
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("ws error before close: {e}"),
                None => panic!("stream ended without a close frame"),
            }
        }
    }
}

/// Percent-encodes a query parameter value.
pub fn query_value(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
