//! Files at scale and over time: a large upload streams through the real binary with flat
//! memory; retention removes files with the messages that carried them and collects their
//! content.

use crate::files::{bytes_of, upload_ok};
use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Memory stays flat while a large upload streams through (the body is never held whole):
/// the real binary, in its own process, its resident memory sampled during a 512 MiB upload.
#[tokio::test]
async fn large_uploads_stream_with_flat_memory() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let concord = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_concord"));
        for (key, _) in std::env::vars() {
            if key.starts_with("CONCORD_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("CONCORD_LOG__FILTER", "warn");
        cmd
    };
    let mut create = concord()
        .args([
            "--data-dir",
            &data,
            "admin",
            "create-user",
            "--username",
            "root",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(create.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(create.wait().unwrap().success());
    let mut server = KillOnDrop(
        concord()
            .args(["--data-dir", &data, "serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let pid = server.0.id();
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server output").unwrap();
        if let Some(rest) = line.strip_prefix("Concord is listening on http://") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let http = reqwest::Client::new();
    let base = format!("http://{addr}/api/v1");
    let login: Value = http
        .post(format!("{base}/auth/login"))
        .json(&json!({"login": "root", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let room: Value = http
        .post(format!("{base}/channels"))
        .bearer_auth(&token)
        .json(&json!({"name": "big", "kind": "private", "member_ids": []}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let baseline = rss_kib(pid);
    assert!(
        baseline > 1024,
        "the server's resident memory is readable: {baseline} KiB"
    );
    const CHUNK: usize = 1024 * 1024;
    const CHUNKS: usize = 512;
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(baseline));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        })
    };
    let started = std::time::Instant::now();
    let stream = futures_util::stream::iter(
        (0..CHUNKS)
            .map(|i| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![(i % 251) as u8; CHUNK]))),
    );
    let resp = http
        .post(format!("{base}/channels/{}/files?name=big.bin", room["id"]))
        .bearer_auth(&token)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    eprintln!("uploaded in {:?}", started.elapsed());
    let file: Value = resp.json().await.unwrap();
    assert_eq!(file["size"].as_u64(), Some((CHUNK * CHUNKS) as u64));
    // And it streams back out whole.
    let resp = http
        .get(format!("{base}/files/{}/content", file["id"]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let mut total = 0usize;
    let mut body = resp.bytes_stream();
    use futures_util::StreamExt;
    while let Some(chunk) = body.next().await {
        total += chunk.unwrap().len();
    }
    assert_eq!(total, CHUNK * CHUNKS);
    eprintln!("downloaded by {:?}", started.elapsed());
    sampler.abort();
    let grown_mib = peak
        .load(std::sync::atomic::Ordering::Relaxed)
        .saturating_sub(baseline)
        / 1024;
    drop(server);
    eprintln!(
        "server RSS: {} MiB before, grew {grown_mib} MiB at most",
        baseline / 1024
    );
    assert!(
        grown_mib < 100,
        "the server's memory grew {grown_mib} MiB moving 512 MiB in and out"
    );
}

/// The server process, stopped however the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Retention removes a file with the messages that carried it, collects its content, and
/// keeps a file another, unexpired message still carries.
#[tokio::test]
async fn retention_removes_files_no_longer_carried_and_keeps_the_rest() {
    let app = spawn_app_with_manual_clock().await;
    let clock = app.clock.clone().unwrap();
    let admin = app.admin("admin").await;
    let room = app.channel(&admin, "r", "private", &[]).await;
    let (status, body) = app
        .put_json(
            Some(&admin.token),
            "/api/v1/retention/policies",
            json!({"scope": "org", "keep_days": 30}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let a = upload_ok(
        &app,
        &admin,
        room,
        "a.txt",
        b"only in the old message".to_vec(),
    )
    .await;
    let b = upload_ok(&app, &admin, room, "b.txt", b"in both messages".to_vec()).await;
    let path = format!("/api/v1/channels/{room}/messages");
    let first = json!({"text": "files", "file_ids": [a["id"], b["id"]]});
    assert_eq!(
        app.post(Some(&admin.token), &path, first).await.0,
        StatusCode::CREATED
    );
    clock.advance(jiff::SignedDuration::from_hours(24 * 20));
    // Sessions lapse over weeks of idle time: sign in again.
    let admin = TestUser {
        token: app.login("admin", PASSWORD).await,
        ..admin
    };
    let second = json!({"text": "again", "file_ids": [b["id"]]});
    assert_eq!(
        app.post(Some(&admin.token), &path, second).await.0,
        StatusCode::CREATED
    );
    clock.advance(jiff::SignedDuration::from_hours(24 * 15));
    let admin = TestUser {
        token: app.login("admin", PASSWORD).await,
        ..admin
    };

    let (status, report) = app
        .post(
            Some(&admin.token),
            "/api/v1/retention/run",
            json!({"dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["messages"].as_u64(), report["files"].as_u64()),
        (Some(1), Some(1))
    );
    let (status, report) = app
        .post(
            Some(&admin.token),
            "/api/v1/retention/run",
            json!({"dry_run": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["messages"].as_u64(), report["files"].as_u64()),
        (Some(1), Some(1))
    );

    assert_eq!(
        app.get(Some(&admin.token), &format!("/api/v1/files/{}", a["id"]))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let blob = |f: &Value| {
        let sha = f["sha256"].as_str().unwrap().to_string();
        app.data_dir()
            .join("files/sblobs")
            .join(&sha[..2])
            .join(&sha[2..4])
            .join(&sha)
    };
    assert!(
        !blob(&a).exists(),
        "the removed file's content is collected"
    );
    let (status, kept) = bytes_of(
        &app,
        Some(&admin.token),
        &format!("/api/v1/files/{}/content", b["id"]),
    )
    .await;
    assert_eq!(
        (status, kept.as_slice()),
        (StatusCode::OK, &b"in both messages"[..])
    );
    assert!(blob(&b).exists());
}

fn stored_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(stored_files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn any_contains(files: &[std::path::PathBuf], needle: &[u8]) -> bool {
    files.iter().any(|f| {
        std::fs::read(f)
            .map(|b| b.windows(needle.len()).any(|w| w == needle))
            .unwrap_or(false)
    })
}

/// File contents are sealed at rest (issue 5): the stored objects never hold the plaintext,
/// while downloads, ranges across chunk boundaries and renditions read back intact. With
/// encryption off the same needle is found, so the check can see stored content.
#[tokio::test]
async fn file_contents_are_encrypted_at_rest() {
    let needle = b"CONCORD-FILE-NEEDLE-7f3a";
    let content: Vec<u8> = needle.iter().copied().cycle().take(200_000).collect();
    for encrypted in [true, false] {
        let app = spawn_app_configured(|c| c.crypto.at_rest.enabled = encrypted).await;
        let alice = app.user("alice").await;
        let room = app.channel(&alice, "r", "private", &[]).await;
        let file = upload_ok(&app, &alice, room, "secret.txt", content.clone()).await;
        let id = file["id"].as_i64().unwrap();
        let stored = stored_files(&app.data_dir().join("files"));
        assert!(!stored.is_empty());
        assert_eq!(
            any_contains(&stored, needle),
            !encrypted,
            "encrypted: {encrypted}"
        );
        let (status, back) = bytes_of(
            &app,
            Some(&alice.token),
            &format!("/api/v1/files/{id}/content"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(back, content);
        // A range that spans the first two 64 KiB chunks.
        let resp = app
            .http
            .get(app.url(&format!("/api/v1/files/{id}/content")))
            .bearer_auth(&alice.token)
            .header("range", "bytes=65000-66000")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(resp.bytes().await.unwrap().to_vec(), content[65000..=66000]);
        let resp = app
            .http
            .get(app.url(&format!("/api/v1/files/{id}/content")))
            .bearer_auth(&alice.token)
            .header("range", "bytes=-5")
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.bytes().await.unwrap().to_vec(),
            content[content.len() - 5..]
        );
        // Images: the thumbnail cached beside the content is sealed too, and reads back.
        let mut png = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(64, 64, image::Rgb([1, 2, 3])))
            .write_to(&mut png, image::ImageFormat::Png)
            .unwrap();
        let pic = upload_ok(&app, &alice, room, "p.png", png.into_inner()).await;
        let (status, thumb) = bytes_of(
            &app,
            Some(&alice.token),
            &format!("/api/v1/files/{}/thumbnail", pic["id"]),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(image::load_from_memory(&thumb).is_ok());
        let stored = stored_files(&app.data_dir().join("files"));
        assert_eq!(
            any_contains(&stored, &thumb[..16]),
            !encrypted,
            "the cached thumbnail"
        );
        // Comments on a file are sealed like messages (in their row and their event).
        let comment = "COMMENT-NEEDLE-91c2 请看第二页";
        let (status, _) = app
            .post(
                Some(&alice.token),
                &format!("/api/v1/files/{id}/comments"),
                json!({"text": comment}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (_, comments) = app
            .get(Some(&alice.token), &format!("/api/v1/files/{id}/comments"))
            .await;
        assert_eq!(comments[0]["text"], comment);
        let db: Vec<_> = ["concord.db", "concord.db-wal"]
            .iter()
            .map(|n| app.data_dir().join(n))
            .filter(|p| p.exists())
            .collect();
        assert_eq!(
            any_contains(&db, b"COMMENT-NEEDLE-91c2"),
            !encrypted,
            "the comment in the database"
        );
    }
}
