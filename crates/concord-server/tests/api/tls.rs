//! HTTPS and WSS with rustls: TLS 1.3 and 1.2 handshakes succeed, a TLS 1.1 ClientHello is
//! refused, requests and WebSockets work end to end (and close with 1001 on shutdown), and
//! every response carries the security headers, HSTS only over TLS. The certificate is made
//! by rcgen when the test runs.

use crate::support::*;
use futures_util::StreamExt;
use reqwest::StatusCode;
use rustls::pki_types::ServerName;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// A self-signed certificate for `localhost`, written to PEM files in a temp dir.
struct TestCert {
    dir: tempfile::TempDir,
    der: rustls::pki_types::CertificateDer<'static>,
}

fn make_cert() -> TestCert {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.pem"), certified.cert.pem()).unwrap();
    std::fs::write(
        dir.path().join("key.pem"),
        certified.signing_key.serialize_pem(),
    )
    .unwrap();
    TestCert {
        dir,
        der: certified.cert.der().clone(),
    }
}

async fn tls_app(cert: &TestCert) -> TestApp {
    let (c, k) = (
        cert.dir.path().join("cert.pem"),
        cert.dir.path().join("key.pem"),
    );
    spawn_app_configured(move |config| {
        config.tls.cert = Some(c);
        config.tls.key = Some(k);
    })
    .await
}

/// A client trusting only the test certificate, speaking only `version`.
fn connector(cert: &TestCert, version: &'static rustls::SupportedProtocolVersion) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[version])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn connect(
    app: &TestApp,
    cert: &TestCert,
    version: &'static rustls::SupportedProtocolVersion,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(app.addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    connector(cert, version).connect(name, tcp).await
}

/// One HTTP/1.1 request over TLS 1.3: status line and headers (lower-cased), and body.
async fn https(
    app: &TestApp,
    cert: &TestCert,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (String, String) {
    let mut stream = connect(app, cert, &rustls::version::TLS13)
        .await
        .expect("TLS connect");
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(b) = body {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or(""));
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_lowercase(), body.to_string())
}

#[tokio::test]
async fn tls_1_3_and_1_2_handshakes_succeed() {
    let cert = make_cert();
    let app = tls_app(&cert).await;
    let s13 = connect(&app, &cert, &rustls::version::TLS13)
        .await
        .expect("TLS 1.3 handshake");
    assert_eq!(
        s13.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    let s12 = connect(&app, &cert, &rustls::version::TLS12)
        .await
        .expect("TLS 1.2 handshake");
    assert_eq!(
        s12.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
}

/// A TLS 1.1 ClientHello as an old client sends it: record and client version 0x0302, no
/// supported_versions extension, TLS 1.0/1.1 CBC suites.
fn tls11_client_hello() -> Vec<u8> {
    let mut hello = vec![0x03, 0x02];
    hello.extend_from_slice(&[0x11; 32]); // random
    hello.push(0); // no session id
    let suites: [u16; 5] = [0xc00a, 0xc009, 0xc013, 0x0035, 0x002f];
    hello.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        hello.extend_from_slice(&s.to_be_bytes());
    }
    hello.extend_from_slice(&[1, 0]); // compression: null
    let host = b"localhost";
    let mut ext = Vec::new();
    // server_name
    ext.extend_from_slice(&[0x00, 0x00]);
    ext.extend_from_slice(&((host.len() + 5) as u16).to_be_bytes());
    ext.extend_from_slice(&((host.len() + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(host.len() as u16).to_be_bytes());
    ext.extend_from_slice(host);
    // supported_groups: secp256r1, x25519
    ext.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x1d]);
    // ec_point_formats: uncompressed
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    hello.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    hello.extend_from_slice(&ext);
    let mut handshake = vec![0x01];
    handshake.extend_from_slice(&(hello.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&hello);
    let mut record = vec![0x16, 0x03, 0x02];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

#[tokio::test]
async fn tls_1_1_is_refused() {
    let cert = make_cert();
    let app = tls_app(&cert).await;
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    tcp.write_all(&tls11_client_hello()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer)).await;
    // Either an alert record (content type 21) or a plain close; never a handshake record
    // (22), which is what a ServerHello would come in.
    assert!(
        answer.first() != Some(&0x16),
        "server answered a TLS 1.1 hello with a handshake: {answer:02x?}"
    );
    if let Some(&kind) = answer.first() {
        assert_eq!(kind, 0x15, "expected an alert, got {answer:02x?}");
        // A fatal alert (level 2): rustls answers handshake_failure (40) when no version it
        // speaks is offered; protocol_version (70) would do as well.
        assert_eq!(answer.get(5), Some(&2), "alert level: {answer:02x?}");
        assert!(
            matches!(answer.get(6), Some(40 | 70)),
            "alert description: {answer:02x?}"
        );
    }
}

#[tokio::test]
async fn https_and_wss_work_end_to_end_with_hsts_and_close_with_1001() {
    let cert = make_cert();
    let app = tls_app(&cert).await;
    let (head, body) = https(&app, &cert, "GET", "/healthz", None).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains("strict-transport-security: max-age=31536000; includesubdomains"),
        "{head}"
    );
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    assert!(!body.is_empty());

    let user = app
        .services
        .create_user(
            None,
            concord_proto::CreateUserRequest {
                username: "alice".into(),
                password: PASSWORD.into(),
                email: None,
                display_name: None,
                is_admin: false,
                guest: false,
            },
        )
        .await
        .unwrap();
    let login = format!(r#"{{"login": "alice", "password": "{PASSWORD}"}}"#);
    let (head, body) = https(&app, &cert, "POST", "/api/v1/auth/login", Some(&login)).await;
    assert!(head.starts_with("http/1.1 200"), "{head}\n{body}");
    let token = serde_json::from_str::<serde_json::Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (head, body) = https(&app, &cert, "GET", "/api/v1/users/me", None).await;
    assert!(head.starts_with("http/1.1 401"), "no token: {head}");
    assert!(body.contains("unauthenticated"));

    // WSS: the same stream as ws://, over TLS 1.3.
    let stream = connect(&app, &cert, &rustls::version::TLS13).await.unwrap();
    let url = format!("wss://localhost/api/v1/ws?token={token}");
    let (mut ws, response) = tokio_tungstenite::client_async(url, stream)
        .await
        .expect("WSS upgrade");
    assert!(response.headers().contains_key("strict-transport-security"));
    let hello = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            WsMessage::Text(t) => break serde_json::from_str::<serde_json::Value>(&t).unwrap(),
            _ => continue,
        }
    };
    assert_eq!(hello["type"], "hello", "{hello}");
    assert_eq!(hello["user_id"], user.id.0);

    // Graceful shutdown still closes WebSockets with 1001 over TLS.
    let stopping = tokio::spawn(app.stop());
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(15), ws.next())
            .await
            .expect("close in time")
        {
            Some(Ok(WsMessage::Close(Some(frame)))) => break u16::from(frame.code),
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(code, 1001);
    stopping.await.unwrap();
}

#[tokio::test]
async fn plain_http_has_the_security_headers_but_no_hsts() {
    let app = spawn_app().await;
    for path in ["/healthz", "/api/v1/users/me", "/api/v1/no-such-thing", "/"] {
        let r = app.http.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        assert!(
            !h.contains_key("strict-transport-security"),
            "{path}: no HSTS over plain HTTP"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        if path == "/api/v1/users/me" {
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
    }
}

#[test]
fn mismatched_tls_settings_are_refused_at_start() {
    let mut c = concord_server::Config::default();
    c.tls.cert = Some("/nonexistent/cert.pem".into());
    let e = c.validate().unwrap_err();
    assert!(e.contains("tls.cert and tls.key"), "{e}");
    c.tls.key = Some("/nonexistent/key.pem".into());
    let e = c.validate().unwrap_err();
    assert!(e.contains("not a readable file"), "{e}");
}
