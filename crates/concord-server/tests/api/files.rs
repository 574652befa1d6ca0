//! Files over HTTP: upload, download with ranges, access following the channel, versions,
//! comments with mentions, attachments, thumbnails, sensitive files (watermarked and audited),
//! location removed for other viewers, signed links, limits and hostile names.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 {
            image::Rgb([200, 30, 30])
        } else {
            image::Rgb([30, 30, 200])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// The GPS IFD entry (`GPSLatitudeRef = "N"`) the test JPEG carries, to look for afterwards.
const GPS_ENTRY: [u8; 12] = [0x00, 0x01, 0x00, 0x02, 0, 0, 0, 2, b'N', 0, 0, 0];

/// A JPEG with an EXIF block holding a GPS position.
fn jpeg_with_gps() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(64, 48, image::Rgb([90, 160, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    let jpeg = out.into_inner();
    let mut tiff = b"MM\0\x2A".to_vec();
    tiff.extend_from_slice(&8u32.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    // IFD0: one entry, the GPS IFD pointer, to offset 26.
    tiff.extend_from_slice(&[0x88, 0x25, 0x00, 0x04, 0, 0, 0, 1]);
    tiff.extend_from_slice(&26u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    tiff.extend_from_slice(&1u16.to_be_bytes());
    tiff.extend_from_slice(&GPS_ENTRY);
    tiff.extend_from_slice(&0u32.to_be_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut with = jpeg[..2].to_vec();
    with.extend_from_slice(&[0xFF, 0xE1]);
    with.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    with.extend_from_slice(&app1);
    with.extend_from_slice(&jpeg[2..]);
    with
}

/// The stored (sealed) object of a file's content.
fn stored_object(app: &TestApp, file: &Value) -> Vec<u8> {
    let sha = file["sha256"].as_str().unwrap();
    let path = app
        .data_dir()
        .join("files/sblobs")
        .join(&sha[..2])
        .join(&sha[2..4])
        .join(sha);
    std::fs::read(path).expect("the stored object")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub(crate) async fn upload_ok(
    app: &TestApp,
    user: &TestUser,
    channel: i64,
    name: &str,
    bytes: Vec<u8>,
) -> Value {
    let (status, body) = app.upload(user, channel, name, bytes).await;
    assert_eq!(status, StatusCode::CREATED, "upload: {body}");
    body
}

pub(crate) async fn bytes_of(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
) -> (StatusCode, Vec<u8>) {
    let resp = app.get_raw(token, path).await;
    let status = resp.status();
    (status, resp.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn upload_and_download_follow_the_channel() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let room = app.channel(&alice, "design", "private", &[&bob]).await;
    let text = "季度设计稿 notes\n".repeat(100).into_bytes();
    let file = upload_ok(&app, &alice, room, "notes.txt", text.clone()).await;
    assert_eq!(file["name"], "notes.txt");
    assert_eq!(file["size"], text.len());
    assert_eq!(file["version"], 1);
    assert_eq!(file["channel_id"], room);
    assert!(
        file["mime"].as_str().unwrap().starts_with("text/plain"),
        "{file}"
    );
    let id = file["id"].as_i64().unwrap();

    let resp = app
        .get_raw(Some(&bob.token), &format!("/api/v1/files/{id}/content"))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let disposition = resp.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains("filename*=UTF-8''notes.txt"),
        "{disposition}"
    );
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), text);

    // Whoever cannot read the channel cannot fetch its files, even knowing the id.
    let (status, _) = bytes_of(
        &app,
        Some(&carol.token),
        &format!("/api/v1/files/{id}/content"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .get(Some(&carol.token), &format!("/api/v1/files/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = bytes_of(&app, None, &format!("/api/v1/files/{id}/content")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app.upload(&carol, room, "x.txt", b"hi".to_vec()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // The channel's file list.
    let (status, page) = app
        .get(Some(&bob.token), &format!("/api/v1/channels/{room}/files"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["files"][0]["id"], id);
}

#[tokio::test]
async fn types_come_from_content_and_names_are_made_safe() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "r", "private", &[]).await;
    // A PNG named .pdf is a PNG.
    let file = upload_ok(&app, &alice, room, "report.pdf", png(40, 20)).await;
    assert_eq!(file["mime"], "image/png");
    assert_eq!(
        (file["width"].as_i64(), file["height"].as_i64()),
        (Some(40), Some(20))
    );
    // Path traversal and control characters leave only a harmless name, and nothing is
    // written outside the store.
    let file = upload_ok(
        &app,
        &alice,
        room,
        "../../etc/pass\u{7}wd",
        b"root:x:0:0".to_vec(),
    )
    .await;
    let name = file["name"].as_str().unwrap();
    assert!(
        !name.contains('/') && !name.contains('\u{7}') && !name.contains(".."),
        "{name}"
    );
    assert!(!app.data_dir().parent().unwrap().join("etc").exists());
    // HTML is never served inline, whatever is asked.
    let page = upload_ok(
        &app,
        &alice,
        room,
        "pic.jpg",
        b"<html><script>alert(1)</script></html>".to_vec(),
    )
    .await;
    let resp = app
        .get_raw(
            Some(&alice.token),
            &format!("/api/v1/files/{}/content?disposition=inline", page["id"]),
        )
        .await;
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_ne!(resp.headers()["content-type"], "text/html");
    // No name, an empty file: clear 4xx errors.
    let resp = app
        .http
        .post(app.url(&format!("/api/v1/channels/{room}/files")))
        .bearer_auth(&alice.token)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("name"),
        "{body}"
    );
    let (status, body) = app.upload(&alice, room, "empty.txt", Vec::new()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "empty_file");
}

#[tokio::test]
async fn identical_content_is_stored_once_and_oversized_uploads_leave_nothing() {
    let app = spawn_app_configured(|c| c.files.max_upload_bytes = 64 * 1024).await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "r", "private", &[]).await;
    let content = vec![7u8; 10_000];
    let a = upload_ok(&app, &alice, room, "a.bin", content.clone()).await;
    let b = upload_ok(&app, &alice, room, "b.bin", content).await;
    assert_ne!(a["id"], b["id"]);
    assert_eq!(a["sha256"], b["sha256"]);
    // Sealed at rest (the tests' default), content lives under `sblobs/`.
    let blobs = app.data_dir().join("files").join("sblobs");
    let count = walk(&blobs).len();
    assert_eq!(count, 1, "one stored copy");

    let (status, body) = app
        .upload(&alice, room, "big.bin", vec![1u8; 64 * 1024 + 1])
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "file_too_large");
    assert_eq!(walk(&blobs).len(), 1);
    let tmp = app.data_dir().join("files").join("tmp");
    assert!(
        walk(&tmp).is_empty(),
        "the partial upload is gone: {:?}",
        walk(&tmp)
    );
    let (_, page) = app
        .get(
            Some(&alice.token),
            &format!("/api/v1/channels/{room}/files"),
        )
        .await;
    assert_eq!(page["files"].as_array().unwrap().len(), 2);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn range_requests_return_parts() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "r", "private", &[]).await;
    let content: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let id = upload_ok(&app, &alice, room, "data.bin", content.clone()).await["id"].clone();
    let path = format!("/api/v1/files/{id}/content");
    let ranged = |range: &'static str| {
        app.http
            .get(app.url(&path))
            .bearer_auth(&alice.token)
            .header("range", range)
            .send()
    };
    let resp = ranged("bytes=100-199").await.unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resp.headers()["content-range"], "bytes 100-199/5000");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), content[100..200]);
    let resp = ranged("bytes=-10").await.unwrap();
    assert_eq!(resp.bytes().await.unwrap().to_vec(), content[4990..]);
    let resp = ranged("bytes=4000-").await.unwrap();
    assert_eq!(resp.bytes().await.unwrap().len(), 1000);
    let resp = ranged("bytes=6000-").await.unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(resp.headers()["content-range"], "bytes */5000");
}

#[tokio::test]
async fn versions_keep_history_and_restore() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.channel(&alice, "design", "private", &[&bob]).await;
    let v1 = b"first draft".to_vec();
    let id = upload_ok(&app, &alice, room, "logo.txt", v1.clone()).await["id"]
        .as_i64()
        .unwrap();
    let resp = app
        .http
        .post(app.url(&format!(
            "/api/v1/files/{id}/versions?comment={}",
            query_value("颜色调整")
        )))
        .bearer_auth(&bob.token)
        .body("second draft")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let file: Value = resp.json().await.unwrap();
    assert_eq!(file["version"], 2);
    assert_eq!(file["name"], "logo.txt");

    let (status, versions) = app
        .get(Some(&alice.token), &format!("/api/v1/files/{id}/versions"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let versions = versions.as_array().unwrap().clone();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["uploaded_by"], alice.id);
    assert_eq!(versions[1]["uploaded_by"], bob.id);
    assert_eq!(versions[1]["comment"], "颜色调整");
    assert_eq!(versions[1]["size"], 12);

    let (_, old) = bytes_of(
        &app,
        Some(&bob.token),
        &format!("/api/v1/files/{id}/content?version=1"),
    )
    .await;
    assert_eq!(old, v1);
    let (_, current) = bytes_of(
        &app,
        Some(&bob.token),
        &format!("/api/v1/files/{id}/content"),
    )
    .await;
    assert_eq!(current, b"second draft");

    let (status, restored) = app
        .post(
            Some(&alice.token),
            &format!("/api/v1/files/{id}/versions/1/restore"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{restored}");
    assert_eq!(restored["version"], 3);
    let (_, current) = bytes_of(
        &app,
        Some(&bob.token),
        &format!("/api/v1/files/{id}/content"),
    )
    .await;
    assert_eq!(current, v1);
    let (_, versions) = app
        .get(Some(&alice.token), &format!("/api/v1/files/{id}/versions"))
        .await;
    assert_eq!(versions[2]["restored_from"], 1);
    let (status, _) = app
        .post(
            Some(&alice.token),
            &format!("/api/v1/files/{id}/versions/9/restore"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The seed's design-team example: a new version of a design, a comment on it mentioning a
/// colleague, who is told at once.
#[tokio::test]
async fn a_comment_on_a_version_notifies_the_mentioned() {
    let app = spawn_app().await;
    let designer = app.user("designer").await;
    let lead = app.user("lead").await;
    let dev = app.user("dev").await;
    let room = app
        .channel(&designer, "设计团队", "private", &[&lead, &dev])
        .await;
    let id = upload_ok(&app, &designer, room, "首页.png", png(30, 30)).await["id"]
        .as_i64()
        .unwrap();
    let mut dev_ws = app.ws(&dev, None).await;
    dev_ws.hello().await;
    let (status, comment) = app
        .post(
            Some(&lead.token),
            &format!("/api/v1/files/{id}/comments"),
            json!({"text": "@dev 请按这一版切图", "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    assert_eq!(comment["mentions"], json!([dev.id]));
    let event = dev_ws.next_of("file.commented").await;
    assert_eq!(event["event"]["comment"]["mentions"], json!([dev.id]));
    assert_eq!(event["event"]["comment"]["file_id"], id);
    let (_, comments) = app
        .get(
            Some(&designer.token),
            &format!("/api/v1/files/{id}/comments"),
        )
        .await;
    assert_eq!(comments[0]["text"], "@dev 请按这一版切图");
    let (status, _) = app
        .post(
            Some(&lead.token),
            &format!("/api/v1/files/{id}/comments"),
            json!({"text": "x", "version": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn messages_carry_their_files() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.channel(&alice, "r", "private", &[&bob]).await;
    let other = app.channel(&alice, "other", "private", &[]).await;
    let file = upload_ok(&app, &alice, room, "plan.txt", b"plan".to_vec()).await;
    let elsewhere = upload_ok(&app, &alice, other, "x.txt", b"x".to_vec()).await;
    let (status, msg) = app
        .post(
            Some(&alice.token),
            &format!("/api/v1/channels/{room}/messages"),
            json!({"text": "", "file_ids": [file["id"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{msg}");
    assert_eq!(msg["files"][0]["id"], file["id"]);
    assert_eq!(msg["files"][0]["name"], "plan.txt");
    let (_, history) = app
        .get(
            Some(&bob.token),
            &format!("/api/v1/channels/{room}/messages"),
        )
        .await;
    let last = history["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["files"][0]["size"], 4);
    // A file of another channel cannot be attached; nor more than ten.
    let (status, _) = app
        .post(
            Some(&alice.token),
            &format!("/api/v1/channels/{room}/messages"),
            json!({"text": "see", "file_ids": [elsewhere["id"]]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let ids: Vec<i64> = (1..=11).collect();
    let (status, body) = app
        .post(
            Some(&alice.token),
            &format!("/api/v1/channels/{room}/messages"),
            json!({"text": "many", "file_ids": ids}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("file_ids"),
        "{body}"
    );
}

#[tokio::test]
async fn thumbnails_and_previews_are_small_and_pixel_floods_are_refused() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "r", "private", &[]).await;
    let id = upload_ok(&app, &alice, room, "big.png", png(1600, 800)).await["id"].clone();
    for (variant, longest) in [("thumbnail", 320), ("preview", 1080)] {
        let (status, bytes) = bytes_of(
            &app,
            Some(&alice.token),
            &format!("/api/v1/files/{id}/{variant}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{variant}");
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!(img.width().max(img.height()), longest, "{variant}");
    }
    // A PNG declaring 100,000 x 100,000 pixels is stored but never decoded.
    let mut flood = png(1, 1);
    flood[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    flood[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let file = upload_ok(&app, &alice, room, "flood.png", flood).await;
    assert!(file["width"].is_null(), "{file}");
    let (status, body) = app
        .get(
            Some(&alice.token),
            &format!("/api/v1/files/{}/thumbnail", file["id"]),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let txt = upload_ok(&app, &alice, room, "a.txt", b"text".to_vec()).await;
    let (status, body) = app
        .get(
            Some(&alice.token),
            &format!("/api/v1/files/{}/thumbnail", txt["id"]),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "no_preview");
}

#[tokio::test]
async fn other_viewers_get_images_without_location() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.channel(&alice, "r", "private", &[&bob]).await;
    let original = jpeg_with_gps();
    assert!(contains(&original, &GPS_ENTRY));
    let id = upload_ok(&app, &alice, room, "site.jpg", original.clone()).await["id"].clone();
    let (_, mine) = bytes_of(
        &app,
        Some(&alice.token),
        &format!("/api/v1/files/{id}/content"),
    )
    .await;
    assert_eq!(
        mine, original,
        "the uploader gets their file back as it was"
    );
    let (status, theirs) = bytes_of(
        &app,
        Some(&bob.token),
        &format!("/api/v1/files/{id}/content"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!contains(&theirs, &GPS_ENTRY), "no location for others");
    let img = image::load_from_memory(&theirs).unwrap();
    assert_eq!((img.width(), img.height()), (64, 48));
}

#[tokio::test]
async fn sensitive_files_are_watermarked_per_viewer_and_audited() {
    let app = spawn_app().await;
    let admin = app.admin("admin").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app
        .channel(&admin, "finance", "private", &[&alice, &bob])
        .await;
    let original = png(400, 300);
    let file = upload_ok(&app, &alice, room, "报表.png", original.clone()).await;
    assert_eq!(file["effective_sensitive"], false);
    let id = file["id"].as_i64().unwrap();
    let (_, plain) = bytes_of(
        &app,
        Some(&bob.token),
        &format!("/api/v1/files/{id}/content"),
    )
    .await;
    assert_eq!(plain, original);

    // Only a channel manager may make a channel's files sensitive.
    let (status, _) = app
        .put_json(
            Some(&alice.token),
            &format!("/api/v1/channels/{room}/file-policy"),
            json!({"sensitive": true}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .put_json(
            Some(&admin.token),
            &format!("/api/v1/channels/{room}/file-policy"),
            json!({"sensitive": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, info) = app
        .get(Some(&bob.token), &format!("/api/v1/files/{id}"))
        .await;
    assert_eq!(info["effective_sensitive"], true);

    let stored_before = stored_object(&app, &file);
    let resp = app
        .get_raw(Some(&bob.token), &format!("/api/v1/files/{id}/content"))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "private, no-store");
    let marked = resp.bytes().await.unwrap().to_vec();
    assert_ne!(marked, original);
    let a = image::load_from_memory(&original).unwrap().to_rgb8();
    let b = image::load_from_memory(&marked).unwrap().to_rgb8();
    assert_eq!(a.dimensions(), b.dimensions());
    // Tiled: pixels change in every quarter of the image.
    for (qx, qy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
        let changed = (0..150u32)
            .flat_map(|y| (0..200u32).map(move |x| (x, y)))
            .filter(|(x, y)| {
                a.get_pixel(qx * 200 + x, qy * 150 + y) != b.get_pixel(qx * 200 + x, qy * 150 + y)
            })
            .count();
        assert!(changed > 100, "quarter {qx},{qy}: {changed} pixels changed");
    }
    // Each viewer gets their own mark; the stored original is untouched.
    let (_, alices) = bytes_of(
        &app,
        Some(&alice.token),
        &format!("/api/v1/files/{id}/content"),
    )
    .await;
    assert_ne!(alices, marked);
    assert_eq!(
        stored_object(&app, &file),
        stored_before,
        "the stored original is untouched"
    );
    let (_, thumb) = bytes_of(
        &app,
        Some(&bob.token),
        &format!("/api/v1/files/{id}/thumbnail"),
    )
    .await;
    assert!(image::load_from_memory(&thumb).is_ok());

    let (status, log) = app
        .get(
            Some(&admin.token),
            "/api/v1/audit?action=file.sensitive_read",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let entries = log.as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["actor_id"] == bob.id && e["target"] == format!("file:{id}")),
        "{log}"
    );
    assert!(entries.len() >= 3, "{log}");
}

#[tokio::test]
async fn signed_links_work_for_their_viewer_until_they_expire() {
    let app = spawn_app_with_manual_clock().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.channel(&alice, "r", "private", &[&bob]).await;
    let id = upload_ok(&app, &alice, room, "a.png", png(50, 50)).await["id"].clone();
    let (status, link) = app
        .post(
            Some(&bob.token),
            &format!("/api/v1/files/{id}/link"),
            json!({"variant": "thumbnail"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{link}");
    let url = link["url"].as_str().unwrap().to_string();
    let (status, bytes) = bytes_of(&app, None, &url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(image::load_from_memory(&bytes).is_ok());
    // Tampering (another viewer, another variant) breaks it.
    let forged = url.replace(
        &format!("viewer={}", bob.id),
        &format!("viewer={}", alice.id),
    );
    assert_eq!(bytes_of(&app, None, &forged).await.0, StatusCode::FORBIDDEN);
    let other_variant = url.replace("/thumbnail?", "/content?");
    assert_eq!(
        bytes_of(&app, None, &other_variant).await.0,
        StatusCode::FORBIDDEN
    );
    // A viewer who leaves the channel loses access even with a live link.
    let (status, _) = app
        .delete(
            Some(&alice.token),
            &format!("/api/v1/channels/{room}/members/{}", bob.id),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(bytes_of(&app, None, &url).await.0, StatusCode::NOT_FOUND);
    // Links expire.
    let (_, link) = app
        .post(
            Some(&alice.token),
            &format!("/api/v1/files/{id}/link"),
            json!({}),
        )
        .await;
    let url = link["url"].as_str().unwrap().to_string();
    assert_eq!(bytes_of(&app, None, &url).await.0, StatusCode::OK);
    app.clock
        .as_ref()
        .unwrap()
        .advance(jiff::SignedDuration::from_secs(301));
    assert_eq!(bytes_of(&app, None, &url).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn dlp_blocks_text_files_with_personal_data() {
    let app = spawn_app().await;
    let admin = app.admin("admin").await;
    let room = app.channel(&admin, "hr", "private", &[]).await;
    let (status, _) = app
        .put_json(
            Some(&admin.token),
            &format!("/api/v1/channels/{room}/dlp"),
            json!({"action": "block"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // 11010519491231002X: a valid resident ID number.
    let (status, body) = app
        .upload(
            &admin,
            room,
            "名单.txt",
            "张三 11010519491231002X\n".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, page) = app
        .get(
            Some(&admin.token),
            &format!("/api/v1/channels/{room}/files"),
        )
        .await;
    assert!(page["files"].as_array().unwrap().is_empty());
    upload_ok(&app, &admin, room, "ok.txt", b"nothing personal".to_vec()).await;
    // Under `mask` a file cannot be rewritten: it is kept and made sensitive.
    app.put_json(
        Some(&admin.token),
        &format!("/api/v1/channels/{room}/dlp"),
        json!({"action": "mask"}),
    )
    .await;
    let file = upload_ok(
        &app,
        &admin,
        room,
        "名单.txt",
        "张三 11010519491231002X\n".as_bytes().to_vec(),
    )
    .await;
    assert_eq!(file["sensitive"], true);
}

#[tokio::test]
async fn uploaders_and_moderators_rename_flag_and_delete() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.channel(&alice, "r", "private", &[&bob]).await;
    let id = upload_ok(&app, &bob, room, "a.txt", b"a".to_vec()).await["id"].clone();
    let (status, file) = app
        .patch(
            Some(&bob.token),
            &format!("/api/v1/files/{id}"),
            json!({"name": "计划.txt", "sensitive": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{file}");
    assert_eq!(
        (file["name"].as_str(), file["sensitive"].as_bool()),
        (Some("计划.txt"), Some(true))
    );
    let mine = upload_ok(&app, &alice, room, "b.txt", b"b".to_vec()).await["id"].clone();
    let (status, _) = app
        .delete(Some(&bob.token), &format!("/api/v1/files/{mine}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .delete(Some(&bob.token), &format!("/api/v1/files/{id}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .get(Some(&bob.token), &format!("/api/v1/files/{id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
