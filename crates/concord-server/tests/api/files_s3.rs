//! Files on S3-compatible object storage (`files.storage = "s3"`), against a real S3 API
//! server: moto's standalone server (PyPI `moto[server]`), which the test starts on a free
//! port. The same blob store code runs on local disk in the other file tests.
//!
//! `CONCORD_TEST_S3` names the `moto_server` executable (`.ci/run` installs it in a venv and
//! sets it); without it the test prints `SKIPPED` and passes.

use crate::files::{bytes_of, upload_ok};
use crate::support::*;
use reqwest::StatusCode;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_moto() -> Option<Moto> {
    let exe = match std::env::var("CONCORD_TEST_S3") {
        Ok(exe) if !exe.is_empty() => exe,
        _ => {
            eprintln!(
                "SKIPPED: set CONCORD_TEST_S3 to a moto_server executable (pip install 'moto[server]'); .ci/run does"
            );
            return None;
        }
    };
    let port = free_port();
    let child = Command::new(&exe)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("CONCORD_TEST_S3={exe} does not start: {e}"));
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start listening"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(moto)
}

/// Every object key in the bucket (ListObjectsV2, one page is plenty here).
async fn keys(http: &reqwest::Client, endpoint: &str, bucket: &str) -> Vec<String> {
    let xml = http
        .get(format!("{endpoint}/{bucket}?list-type=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    xml.split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn files_live_sealed_and_deduplicated_in_s3_compatible_storage() {
    install_crypto();
    let Some(moto) = start_moto() else { return };
    let bucket = "concord-files";
    let http = reqwest::Client::new();
    let created = http
        .put(format!("{}/{bucket}", moto.endpoint))
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "create bucket: {}",
        created.status()
    );
    let endpoint = moto.endpoint.clone();
    let app = spawn_app_configured(|c| {
        c.files.storage = "s3".into();
        c.files.s3.bucket = bucket.into();
        c.files.s3.endpoint = Some(endpoint);
        c.files.s3.allow_http = true;
        c.files.s3.access_key_id = Some("concord".into());
        c.files.s3.secret_access_key = Some("concord-secret".into());
        c.files.s3.prefix = "tenant-a".into();
    })
    .await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "r", "private", &[]).await;
    let needle = b"S3-NEEDLE-0b5e";
    // Spans several 64 KiB sealed chunks and, at 9 MiB, two multipart parts.
    let content: Vec<u8> = needle
        .iter()
        .copied()
        .cycle()
        .take(9 * 1024 * 1024 + 123)
        .collect();
    let a = upload_ok(&app, &alice, room, "big.txt", content.clone()).await;
    let b = upload_ok(&app, &alice, room, "copy.txt", content.clone()).await;
    assert_eq!(a["sha256"], b["sha256"]);

    let stored = keys(&http, &moto.endpoint, bucket).await;
    let blobs: Vec<&String> = stored.iter().filter(|k| k.contains("/sblobs/")).collect();
    assert_eq!(
        blobs.len(),
        1,
        "one sealed copy under the prefix: {stored:?}"
    );
    assert!(blobs[0].starts_with("tenant-a/"), "{stored:?}");
    assert!(
        !stored.iter().any(|k| k.contains("/tmp/")),
        "no upload left behind: {stored:?}"
    );
    // Read the stored object as any S3 client would (signed; moto keeps objects private).
    let raw = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_endpoint(&moto.endpoint)
        .with_allow_http(true)
        .with_access_key_id("concord")
        .with_secret_access_key("concord-secret")
        .build()
        .unwrap();
    use object_store::ObjectStoreExt;
    let object = raw
        .get(&object_store::path::Path::from(blobs[0].as_str()))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        object.len() > content.len(),
        "sealed: chunks carry tags ({} bytes: {:?})",
        object.len(),
        String::from_utf8_lossy(&object[..object.len().min(300)])
    );
    assert!(
        !object.windows(needle.len()).any(|w| w == needle),
        "no plaintext in the bucket"
    );

    let (status, back) = bytes_of(
        &app,
        Some(&alice.token),
        &format!("/api/v1/files/{}/content", a["id"]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(back == content, "the download is the upload");
    let resp = app
        .http
        .get(app.url(&format!("/api/v1/files/{}/content", b["id"])))
        .bearer_auth(&alice.token)
        .header("range", "bytes=8388600-8388700")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        resp.bytes().await.unwrap().to_vec(),
        content[8388600..=8388700]
    );
}
