//! File search through the API, against the real server: a PDF's text and a GBK text file's
//! content found by Chinese and English words, file names by single Chinese characters, files
//! in channels the searcher cannot read never returned, renames, new versions and deletions
//! reflected, `has_file` on messages, the kind filter, and the online reindex answering
//! searches throughout and ending with the same results.

use crate::support::*;
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, StringFormat, dictionary};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// `path?params`, percent-encoded.
fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    let url = reqwest::Url::parse_with_params(&format!("http://x{path}"), params).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or(""))
}

async fn search(app: &TestApp, user: &TestUser, params: &[(&str, &str)]) -> Value {
    let (status, body) = app
        .get(Some(&user.token), &with_query("/api/v1/search", params))
        .await;
    assert_eq!(status, StatusCode::OK, "search {params:?}: {body}");
    body
}

/// The hits as `("message" | "file", id)`, in result order.
fn hits(body: &Value) -> Vec<(String, i64)> {
    body["hits"]
        .as_array()
        .unwrap_or_else(|| panic!("no hits in {body}"))
        .iter()
        .map(|hit| {
            let kind = hit["kind"].as_str().unwrap().to_string();
            let id = if kind == "file" {
                hit["file_id"].as_i64().unwrap()
            } else {
                hit["message_id"].as_i64().unwrap()
            };
            (kind, id)
        })
        .collect()
}

/// Ids of the file hits.
fn file_ids(body: &Value) -> Vec<i64> {
    hits(body)
        .into_iter()
        .filter(|(kind, _)| kind == "file")
        .map(|(_, id)| id)
        .collect()
}

/// Searches until `done` holds (indexing and text extraction are asynchronous), for at most
/// 10 s; returns the last body.
async fn search_until(
    app: &TestApp,
    user: &TestUser,
    params: &[(&str, &str)],
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let body = search(app, user, params).await;
        if done(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "search {params:?} did not reach the expected result in 10 s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn upload(app: &TestApp, user: &TestUser, channel: i64, name: &str, bytes: Vec<u8>) -> i64 {
    let (status, body) = app.upload(user, channel, name, bytes).await;
    assert_eq!(status, StatusCode::CREATED, "upload {name}: {body}");
    body["id"].as_i64().unwrap()
}

/// A one-page PDF saying `english` in Helvetica and `chinese` in a Type0 font whose ToUnicode
/// map gives each character a two-byte code, as PDF writers embed CJK text.
fn pdf_saying(english: &str, chinese: &str) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut distinct: Vec<char> = chinese.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let code_of = |c: char| distinct.iter().position(|d| *d == c).unwrap() as u16 + 1;
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def /CMapType 2 def\n\
         1 begincodespacerange <0000> <FFFF> endcodespacerange\n",
    );
    cmap.push_str(&format!("{} beginbfchar\n", distinct.len()));
    for c in &distinct {
        let mut utf16 = [0u16; 2];
        let unit = c.encode_utf16(&mut utf16)[0];
        cmap.push_str(&format!("<{:04X}> <{unit:04X}>\n", code_of(*c)));
    }
    cmap.push_str("endbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end\n");
    let to_unicode = doc.add_object(lopdf::Stream::new(dictionary! {}, cmap.into_bytes()));
    let helvetica = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let descendant = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "CIDFontType0", "BaseFont" => "STSong-Light",
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("GB1"),
            "Supplement" => 2,
        },
    });
    let cjk = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "STSong-Light",
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![Object::Reference(descendant)],
        "ToUnicode" => to_unicode,
    });
    let codes: Vec<u8> = chinese
        .chars()
        .flat_map(|c| code_of(c).to_be_bytes())
        .collect();
    let content = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 20.into()]),
            Operation::new("Td", vec![72.into(), 760.into()]),
            Operation::new("Tj", vec![Object::string_literal(english)]),
            Operation::new("ET", vec![]),
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F2".into(), 20.into()]),
            Operation::new("Td", vec![72.into(), 700.into()]),
            Operation::new("Tj", vec![Object::String(codes, StringFormat::Hexadecimal)]),
            Operation::new("ET", vec![]),
        ],
    };
    let stream = doc.add_object(lopdf::Stream::new(
        dictionary! {},
        content.encode().unwrap(),
    ));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => stream,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => helvetica, "F2" => cjk } },
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

fn gbk(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

fn highlighted(hit: &Value) -> Vec<String> {
    hit["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|part| part["highlighted"] == true)
        .map(|part| part["text"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pdf_and_gbk_text_are_found_by_chinese_and_english_words_and_names_by_one_character() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "finance", "public", &[]).await;
    let pdf = upload(
        &app,
        &alice,
        room,
        "q3.pdf",
        pdf_saying("Quarterly revenue report", "季度营收报告"),
    )
    .await;
    let minutes = gbk("会议纪要：下周审批预算。The budget approval is due next week.\n");
    let text = upload(&app, &alice, room, "minutes.txt", minutes).await;
    let named = upload(
        &app,
        &alice,
        room,
        "项目进度表.xlsx",
        b"PK\x03\x04".to_vec(),
    )
    .await;

    for (query, expected) in [
        ("营收", pdf),
        ("revenues", pdf),
        ("预算", text),
        ("budget", text),
        ("进", named),
        ("进度", named),
    ] {
        let body = search_until(&app, &alice, &[("q", query), ("kind", "file")], |body| {
            file_ids(body) == vec![expected]
        })
        .await;
        let hit = &body["hits"][0];
        assert_eq!(hit["channel_id"], room, "{body}");
        assert_eq!(hit["sender_id"], alice.id, "{body}");
        assert!(hit.get("message").is_none(), "{hit}");
        assert_eq!(hit["file"]["id"], expected, "{hit}");
        assert!(!highlighted(hit).is_empty(), "{query}: {hit}");
        let source = hit["snippet_source"].as_str().unwrap();
        if expected == named {
            assert_eq!(source, "file_name", "{hit}");
        } else {
            assert_eq!(source, "file_text", "{hit}");
        }
    }
    let body = search(&app, &alice, &[("q", "budget"), ("kind", "file")]).await;
    assert_eq!(highlighted(&body["hits"][0]), vec!["budget".to_string()]);

    // Without `kind`, only messages (what clients that predate file search expect).
    let message = app.send(&alice, room, "营收 meeting at noon").await;
    let body = search_until(&app, &alice, &[("q", "营收")], |body| {
        !hits(body).is_empty()
    })
    .await;
    assert_eq!(
        hits(&body),
        vec![("message".to_string(), message["id"].as_i64().unwrap())]
    );
    assert!(body["hits"][0].get("kind").is_some());
    let both = search(&app, &alice, &[("q", "营收"), ("kind", "all")]).await;
    let mut kinds: Vec<String> = hits(&both).into_iter().map(|(kind, _)| kind).collect();
    kinds.sort();
    assert_eq!(kinds, vec!["file", "message"], "{both}");
}

#[tokio::test]
async fn files_in_channels_the_searcher_cannot_read_are_never_returned() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let secret = app.channel(&alice, "deals", "private", &[]).await;
    let open = app.channel(&alice, "lobby", "public", &[]).await;
    let hidden = upload(
        &app,
        &alice,
        secret,
        "机密合同.txt",
        "merger terms 合并条款".as_bytes().to_vec(),
    )
    .await;
    let visible = upload(&app, &alice, open, "公开合同.txt", b"public terms".to_vec()).await;

    for query in ["合同", "merger", "terms", "合"] {
        let params = [("q", query), ("kind", "all")];
        search_until(&app, &alice, &params, |body| {
            file_ids(body).contains(&hidden)
        })
        .await;
        let seen = file_ids(&search(&app, &bob, &params).await);
        assert!(!seen.contains(&hidden), "{query}: bob saw {seen:?}");
    }
    let seen = file_ids(&search(&app, &bob, &[("q", "合同"), ("kind", "file")]).await);
    assert_eq!(seen, vec![visible]);
    // Naming the channel does not help either.
    let (status, _) = app
        .get(
            Some(&bob.token),
            &with_query(
                "/api/v1/search",
                &[
                    ("q", "合同"),
                    ("kind", "file"),
                    ("channel_id", &secret.to_string()),
                ],
            ),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Once bob leaves a channel he was in, its files go with it.
    let shared = app.channel(&alice, "shared", "private", &[&bob]).await;
    let plan = upload(&app, &alice, shared, "计划书.txt", b"roadmap".to_vec()).await;
    search_until(&app, &bob, &[("q", "roadmap"), ("kind", "file")], |body| {
        file_ids(body) == [plan]
    })
    .await;
    let (status, body) = app
        .delete(
            Some(&alice.token),
            &format!("/api/v1/channels/{shared}/members/{}", bob.id),
        )
        .await;
    assert!(status.is_success(), "{status}: {body}");
    let seen = file_ids(&search(&app, &bob, &[("q", "roadmap"), ("kind", "file")]).await);
    assert!(seen.is_empty(), "{seen:?}");
}

#[tokio::test]
async fn renames_new_versions_and_deletions_update_the_index() {
    renames_new_versions_and_deletions(spawn_app_with(Backend::Sqlite, |_| {}, None).await).await;
}

#[cfg(postgres_tests)]
#[tokio::test]
async fn renames_new_versions_and_deletions_update_the_index_on_postgres() {
    renames_new_versions_and_deletions(spawn_app_with(Backend::Postgres, |_| {}, None).await).await;
}

async fn renames_new_versions_and_deletions(app: TestApp) {
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "docs", "public", &[]).await;
    let id = upload(
        &app,
        &alice,
        room,
        "草稿.txt",
        b"alpha launch checklist".to_vec(),
    )
    .await;
    let kind = ("kind", "file");
    search_until(&app, &alice, &[("q", "checklist"), kind], |b| {
        file_ids(b) == [id]
    })
    .await;

    let (status, body) = app
        .patch(
            Some(&alice.token),
            &format!("/api/v1/files/{id}"),
            json!({"name": "终稿.txt"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    search_until(&app, &alice, &[("q", "终"), kind], |b| file_ids(b) == [id]).await;
    assert!(file_ids(&search(&app, &alice, &[("q", "草"), kind]).await).is_empty());
    // The rename kept the text.
    assert_eq!(
        file_ids(&search(&app, &alice, &[("q", "checklist"), kind]).await),
        vec![id]
    );

    let resp = app
        .http
        .post(app.url(&format!("/api/v1/files/{id}/versions")))
        .bearer_auth(&alice.token)
        .body("beta rollout plan")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    search_until(&app, &alice, &[("q", "rollout"), kind], |b| {
        file_ids(b) == [id]
    })
    .await;
    assert!(file_ids(&search(&app, &alice, &[("q", "checklist"), kind]).await).is_empty());

    let (status, _) = app
        .delete(Some(&alice.token), &format!("/api/v1/files/{id}"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    search_until(&app, &alice, &[("q", "终"), kind], |b| {
        file_ids(b).is_empty()
    })
    .await;
    assert!(file_ids(&search(&app, &alice, &[("q", "rollout"), kind]).await).is_empty());
}

#[tokio::test]
async fn has_file_finds_the_messages_that_carry_files() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "ops", "public", &[]).await;
    let file = upload(&app, &alice, room, "排班.txt", b"shifts".to_vec()).await;
    let (status, with_file) = app
        .post(
            Some(&alice.token),
            &format!("/api/v1/channels/{room}/messages"),
            json!({"text": "值班安排 attached", "file_ids": [file]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{with_file}");
    let plain = app.send(&alice, room, "值班安排 later").await;
    let with_file = with_file["id"].as_i64().unwrap();

    let body = search_until(&app, &alice, &[("q", "值班")], |b| hits(b).len() == 2).await;
    assert_eq!(hits(&body).len(), 2);
    let only = search(&app, &alice, &[("q", "值班"), ("has_file", "true")]).await;
    assert_eq!(hits(&only), vec![("message".to_string(), with_file)]);
    assert_eq!(only["hits"][0]["message"]["files"][0]["id"], file);
    // A filter alone (no words) lists them too; the message is found by its attachment's name.
    let only = search(&app, &alice, &[("has_file", "true")]).await;
    assert_eq!(hits(&only), vec![("message".to_string(), with_file)]);
    let by_name = search(&app, &alice, &[("q", "排班")]).await;
    assert_eq!(hits(&by_name), vec![("message".to_string(), with_file)]);
    assert_eq!(by_name["hits"][0]["snippet_source"], "files");
    let _ = plain;
}

#[tokio::test]
async fn bad_kind_is_a_400() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let (status, body) = app
        .get(
            Some(&alice.token),
            &with_query("/api/v1/search", &[("q", "x"), ("kind", "folder")]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["code"].is_string(), "{body}");
}

#[tokio::test]
async fn online_reindex_keeps_answering_and_ends_with_the_same_results() {
    online_reindex(spawn_app_with(Backend::Sqlite, |_| {}, None).await).await;
}

#[cfg(postgres_tests)]
#[tokio::test]
async fn online_reindex_keeps_answering_and_ends_with_the_same_results_on_postgres() {
    online_reindex(spawn_app_with(Backend::Postgres, |_| {}, None).await).await;
}

async fn online_reindex(app: TestApp) {
    let admin = app.admin("root").await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "general", "public", &[]).await;
    for i in 0..60 {
        app.send(&alice, room, &format!("第{i}条 通知 meeting notes {i}"))
            .await;
    }
    let pdf = upload(
        &app,
        &alice,
        room,
        "年报.pdf",
        pdf_saying("Annual report", "年度报告"),
    )
    .await;
    let text = upload(&app, &alice, room, "说明.txt", b"install guide".to_vec()).await;
    let queries: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("q", "通知"),
            ("kind", "all"),
            ("limit", "100"),
            ("sort", "oldest"),
        ],
        vec![("q", "meeting"), ("limit", "100"), ("sort", "newest")],
        vec![("q", "报告"), ("kind", "file")],
        vec![("q", "guide"), ("kind", "all")],
        vec![("q", "说"), ("kind", "file")],
    ];
    search_until(&app, &alice, &queries[2], |b| file_ids(b) == [pdf]).await;
    search_until(&app, &alice, &queries[3], |b| file_ids(b) == [text]).await;
    search_until(&app, &alice, &queries[0], |b| hits(b).len() == 60).await;
    let mut before = Vec::new();
    for query in &queries {
        before.push(hits(&search(&app, &alice, query).await));
    }

    let (status, body) = app
        .post(
            Some(&alice.token),
            "/api/v1/admin/search/reindex",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, started) = app
        .post(
            Some(&admin.token),
            "/api/v1/admin/search/reindex",
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    assert!(
        ["running", "done"].contains(&started["state"].as_str().unwrap()),
        "{started}"
    );
    // Searches keep answering, with the full results, while it runs; a message sent meanwhile
    // is in the new index when it is done.
    let during = app.send(&alice, room, "reindex 期间 sent").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        for (query, expected) in queries.iter().zip(&before) {
            assert_eq!(
                &hits(&search(&app, &alice, query).await),
                expected,
                "{query:?}"
            );
        }
        let (code, status) = app
            .get(Some(&admin.token), "/api/v1/admin/search/reindex")
            .await;
        assert_eq!(code, StatusCode::OK, "{status}");
        match status["state"].as_str().unwrap() {
            "running" => {}
            "done" => break status,
            other => panic!("reindex ended {other}: {status}"),
        }
        assert!(tokio::time::Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status["documents"].as_u64().unwrap() >= 62, "{status}");
    // The new index is in the live directory; nothing is left beside it.
    let beside: Vec<String> = std::fs::read_dir(app.data_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
        .filter(|name| name.starts_with("search"))
        .collect();
    assert_eq!(beside, vec!["search".to_string()]);
    assert!(status["position"].as_i64().unwrap() > 0, "{status}");
    for (query, expected) in queries.iter().zip(&before) {
        assert_eq!(
            &hits(&search(&app, &alice, query).await),
            expected,
            "{query:?}"
        );
    }
    search_until(&app, &alice, &[("q", "期间")], |b| {
        hits(b) == [("message".to_string(), during["id"].as_i64().unwrap())]
    })
    .await;
    // The new index follows the log: new messages and files are found.
    let after = app.send(&alice, room, "after the swap 换索引").await;
    search_until(&app, &alice, &[("q", "换索引")], |b| {
        hits(b) == [("message".to_string(), after["id"].as_i64().unwrap())]
    })
    .await;
    let late = upload(&app, &alice, room, "补充.txt", b"appendix".to_vec()).await;
    search_until(&app, &alice, &[("q", "appendix"), ("kind", "file")], |b| {
        file_ids(b) == [late]
    })
    .await;
    // And it survives a restart (it is the live directory now).
    let app = app.restart().await;
    let body = search(&app, &alice, &queries[2]).await;
    assert_eq!(file_ids(&body), vec![pdf]);
}

/// `concord search reindex --server URL --token TOKEN` asks the running server to rebuild online
/// and follows it to the end; without a token it refuses, and a non-admin's token is refused.
#[tokio::test]
async fn cli_reindexes_a_running_server_online() {
    let app = spawn_app().await;
    let admin = app.admin("root").await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "help", "public", &[]).await;
    let manual = upload(&app, &alice, room, "手册.txt", b"operator manual".to_vec()).await;
    search_until(&app, &alice, &[("q", "manual"), ("kind", "file")], |b| {
        file_ids(b) == [manual]
    })
    .await;
    let server = app.url("");
    let run = move |token: Option<String>| {
        let server = server.clone();
        tokio::task::spawn_blocking(move || {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_concord"));
            for (key, _) in std::env::vars() {
                if key.starts_with("CONCORD_") {
                    cmd.env_remove(key);
                }
            }
            cmd.args(["search", "reindex", "--server", &server]);
            if let Some(token) = token {
                cmd.args(["--token", &token]);
            }
            let out = cmd.output().unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).to_string(),
            )
        })
    };
    let (ok, log) = run(None).await.unwrap();
    assert!(!ok && log.contains("token"), "{log}");
    let (ok, log) = run(Some(alice.token.clone())).await.unwrap();
    assert!(!ok && log.contains("403"), "{log}");
    let (ok, log) = run(Some(admin.token.clone())).await.unwrap();
    assert!(ok, "{log}");
    assert!(log.contains("the new index is in use"), "{log}");
    let (_, status) = app
        .get(Some(&admin.token), "/api/v1/admin/search/reindex")
        .await;
    assert_eq!(status["state"], "done", "{status}");
    assert_eq!(
        file_ids(&search(&app, &alice, &[("q", "手"), ("kind", "file")]).await),
        vec![manual]
    );
}

/// Retention removes a file with the message that carried it, and the index follows its
/// `file.deleted`: the file is no longer found, the file still carried by a kept message is.
#[tokio::test]
async fn retention_removes_expired_files_from_the_index() {
    let app = spawn_app_with_manual_clock().await;
    let clock = app.clock.clone().unwrap();
    let admin = app.admin("admin").await;
    let room = app.channel(&admin, "archive", "public", &[]).await;
    let (status, body) = app
        .put_json(
            Some(&admin.token),
            "/api/v1/retention/policies",
            json!({"scope": "org", "keep_days": 30}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let old = upload(&app, &admin, room, "旧报表.txt", b"expired ledger".to_vec()).await;
    let path = format!("/api/v1/channels/{room}/messages");
    let (status, _) = app
        .post(
            Some(&admin.token),
            &path,
            json!({"text": "old", "file_ids": [old]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    clock.advance(jiff::SignedDuration::from_hours(24 * 31));
    let admin = TestUser {
        token: app.login("admin", PASSWORD).await,
        ..admin
    };
    let fresh = upload(&app, &admin, room, "新报表.txt", b"current ledger".to_vec()).await;
    let (status, _) = app
        .post(
            Some(&admin.token),
            &path,
            json!({"text": "new", "file_ids": [fresh]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let params = [("q", "ledger"), ("kind", "file")];
    search_until(&app, &admin, &params, |b| {
        let mut ids = file_ids(b);
        ids.sort_unstable();
        ids == [old, fresh]
    })
    .await;

    let (status, report) = app
        .post(
            Some(&admin.token),
            "/api/v1/retention/run",
            json!({"dry_run": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["files"], 1, "{report}");
    search_until(&app, &admin, &params, |b| file_ids(b) == [fresh]).await;
    assert_eq!(
        file_ids(&search(&app, &admin, &[("q", "报表"), ("kind", "file")]).await),
        vec![fresh]
    );
}

/// A file whose text was never extracted (here: extraction off, as if the server stopped with
/// extractions waiting) is found by name, and by its text once a restart asks for it again.
#[tokio::test]
async fn texts_left_pending_are_extracted_after_a_restart() {
    let mut app = spawn_app_configured(|c| c.search.file_text_max_chars = 0).await;
    let alice = app.user("alice").await;
    let room = app.channel(&alice, "notes", "public", &[]).await;
    let id = upload(&app, &alice, room, "备忘.txt", b"pending walrus".to_vec()).await;
    search_until(&app, &alice, &[("q", "备忘"), ("kind", "file")], |b| {
        file_ids(b) == [id]
    })
    .await;
    assert!(file_ids(&search(&app, &alice, &[("q", "walrus"), ("kind", "file")]).await).is_empty());

    app.config.search.file_text_max_chars = 200_000;
    let app = app.restart().await;
    search_until(&app, &alice, &[("q", "walrus"), ("kind", "file")], |b| {
        file_ids(b) == [id]
    })
    .await;
}
