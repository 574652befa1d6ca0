//! Encryption at rest, end to end: a sent message, its edit and a TOTP enrolment never reach
//! the database as plaintext (the raw SQLite file and its WAL, or every PostgreSQL row), while
//! the API, the WebSocket replay and search still return them intact; `concord keys rotate`
//! rewraps data keys (audited) and old and new messages stay readable; `concord keys
//! encrypt-existing` seals plaintext written before encryption was on; the PKCS#11 provider
//! against SoftHSM2 when `CONCORD_TEST_SOFTHSM=1`.

use crate::support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const SENT: &str = "Zebrafish-Quokka-7731 绝密计划 at dawn";
const EDITED: &str = "Narwhal-Ocelot-5519 修订版 at dusk";
/// Distinctive parts of the texts: none may appear in the database.
const NEEDLES: [&str; 4] = [
    "Zebrafish-Quokka-7731",
    "绝密计划",
    "Narwhal-Ocelot-5519",
    "修订版",
];
/// Not encrypted (channel names are metadata): proves the raw checks can see text at all.
const CHANNEL: &str = "vault-channel-metadata";

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(crate::support::Backend::Sqlite).await
                }
            )*
        }
        #[cfg(postgres_tests)]
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(crate::support::Backend::Postgres).await
                }
            )*
        }
    };
}

on_both_backends!(sent_plaintext_never_reaches_the_database_yet_reads_back_intact);

fn concord() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_concord"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CONCORD_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Runs `concord --data-dir DIR args...`; returns stdout, asserting success.
fn cli(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = concord()
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .envs(envs.iter().copied())
        .env("CONCORD_LOG__FILTER", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "concord {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// The bytes of the SQLite database and its WAL (whichever exist).
fn sqlite_bytes(data_dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["concord.db", "concord.db-wal"] {
        if let Ok(bytes) = std::fs::read(data_dir.join(name)) {
            all.extend_from_slice(&bytes);
        }
    }
    assert!(!all.is_empty(), "no database in {}", data_dir.display());
    all
}

/// Every row of every table in the app's PostgreSQL schema, as text.
async fn postgres_rows(app: &TestApp) -> String {
    use sqlx::Row;
    let url = std::env::var("CONCORD_TEST_POSTGRES_URL").unwrap();
    let schema = app
        .schema()
        .expect("a PostgreSQL app has a schema")
        .to_string();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
    )
    .bind(&schema)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(tables.iter().any(|t| t == "messages"), "{tables:?}");
    let mut all = String::new();
    for table in tables {
        let sql = format!("SELECT t::text AS row FROM {schema}.{table} t");
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&pool)
            .await
            .unwrap()
        {
            all.push_str(&row.get::<String, _>("row"));
            all.push('\n');
        }
    }
    pool.close().await;
    all
}

/// Asserts the stored data holds none of the needles (and does hold the channel name).
async fn assert_no_plaintext_stored(app: &TestApp, backend: &Backend, secret: &str) {
    let raw = match backend {
        Backend::Sqlite => sqlite_bytes(&app.data_dir()),
        Backend::Postgres => postgres_rows(app).await.into_bytes(),
    };
    assert!(contains(&raw, CHANNEL), "the raw check sees stored text");
    for needle in NEEDLES.iter().copied().chain([secret]) {
        assert!(!contains(&raw, needle), "{needle:?} is stored as plaintext");
    }
}

async fn enrol_totp(app: &TestApp, user: &TestUser) -> String {
    let (status, e) = app
        .post(Some(&user.token), "/api/v1/users/me/mfa/totp", json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    e["secret"].as_str().unwrap().to_string()
}

async fn assert_reads_back(app: &TestApp, user: &TestUser, channel: i64, id: i64) {
    let (status, page) = app
        .get(
            Some(&user.token),
            &format!("/api/v1/channels/{channel}/messages"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.to_string().contains(EDITED), "{page}");
    let (status, versions) = app
        .get(
            Some(&user.token),
            &format!("/api/v1/messages/{id}/versions"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let texts: Vec<&str> = versions
        .as_array()
        .or_else(|| versions["versions"].as_array())
        .unwrap_or_else(|| panic!("versions: {versions}"))
        .iter()
        .map(|v| v["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, [SENT, EDITED]);
    // The WebSocket replay from the start returns both events with their text.
    let mut ws = app.ws(user, Some(0)).await;
    let created = ws.next_of("message.created").await;
    assert_eq!(created["event"]["message"]["text"], SENT);
    let edited = ws.next_of("message.edited").await;
    assert_eq!(edited["event"]["message"]["text"], EDITED);
}

async fn search_finds(app: &TestApp, user: &TestUser, word: &str, id: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, body) = app
            .get(Some(&user.token), &format!("/api/v1/search?q={word}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let ids: Vec<i64> = body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["message_id"].as_i64().unwrap())
            .collect();
        if ids.contains(&id) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "search for {word} did not find {id}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sent_plaintext_never_reaches_the_database_yet_reads_back_intact(backend: Backend) {
    let sqlite = matches!(backend, Backend::Sqlite);
    let app = spawn_app_with(backend, |_| {}, None).await;
    let backend = if sqlite {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    let alice = app.user("alice").await;
    let channel = app.channel(&alice, CHANNEL, "private", &[]).await;
    let sent = app.send(&alice, channel, SENT).await;
    assert_eq!(sent["text"], SENT);
    let id = sent["id"].as_i64().unwrap();
    let (status, edited) = app
        .patch(
            Some(&alice.token),
            &format!("/api/v1/messages/{id}"),
            json!({"text": EDITED}),
        )
        .await;
    assert_eq!(
        (status, edited["text"].as_str()),
        (StatusCode::OK, Some(EDITED)),
        "{edited}"
    );
    let secret = enrol_totp(&app, &alice).await;

    assert_reads_back(&app, &alice, channel, id).await;
    search_finds(&app, &alice, "Narwhal", id).await;
    // While running: the WAL holds the newest pages (the checkpointer copies them every
    // 500 ms), so both files are checked, now and after the final checkpoint at stop.
    assert_no_plaintext_stored(&app, &backend, &secret).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_no_plaintext_stored(&app, &backend, &secret).await;

    let app = app.restart().await;
    assert_no_plaintext_stored(&app, &backend, &secret).await;
    let alice = TestUser {
        token: app.login("alice", PASSWORD).await,
        ..alice
    };
    assert_reads_back(&app, &alice, channel, id).await;
    let (status, mfa) = app.get(Some(&alice.token), "/api/v1/users/me/mfa").await;
    assert_eq!(status, StatusCode::OK, "{mfa}");
    app.stop().await;
}

fn data_keys(data_dir: &Path) -> Vec<(i64, String, Vec<u8>)> {
    let conn = rusqlite::Connection::open(data_dir.join("concord.db")).unwrap();
    let mut st = conn
        .prepare("SELECT id, master_key_id, wrapped FROM data_keys ORDER BY id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn audit_actions(data_dir: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(data_dir.join("concord.db")).unwrap();
    let mut st = conn
        .prepare("SELECT action FROM audit_log ORDER BY id")
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

#[tokio::test]
async fn rotation_rewraps_data_keys_and_everything_stays_readable() {
    let keep = tempfile::tempdir().unwrap();
    let dir = keep.path().to_path_buf();
    let app = spawn_app_configured(|c| c.data_dir = dir.clone()).await;
    let alice = app.user("alice").await;
    let channel = app.channel(&alice, CHANNEL, "private", &[]).await;
    let old = app.send(&alice, channel, "before the rotation").await;
    enrol_totp(&app, &alice).await;
    app.stop().await;
    let before = data_keys(&dir);
    assert_eq!(before.len(), 2, "the channel's and the accounts' data keys");
    assert!(before.iter().all(|(_, master, _)| master == "master-0001"));

    let out = cli(&dir, &["keys", "rotate"], &[]);
    assert!(
        out.contains("master-0001 -> master-0002; 2 data keys rewrapped"),
        "{out}"
    );
    let after = data_keys(&dir);
    for ((id_b, _, wrapped_b), (id_a, master_a, wrapped_a)) in before.iter().zip(&after) {
        assert_eq!(id_a, id_b);
        assert_eq!(master_a, "master-0002");
        assert_ne!(wrapped_a, wrapped_b, "rewrapped");
    }
    assert!(
        audit_actions(&dir).iter().any(|a| a == "keys.rotate"),
        "{:?}",
        audit_actions(&dir)
    );
    assert!(cli(&dir, &["audit", "verify"], &[]).contains("audit log intact"));
    let status = cli(&dir, &["keys", "status"], &[]);
    assert!(
        status.contains("active master key: master-0002"),
        "{status}"
    );
    assert!(
        status.contains("wrapped by master-0002: 2") && status.contains("plaintext values: 0"),
        "{status}"
    );

    // With only the new key file left, old data is readable: data keys were rewrapped.
    std::fs::rename(
        dir.join("keys/master-0001.key"),
        dir.join("master-0001.key.offline"),
    )
    .unwrap();
    let app = spawn_app_configured(|c| c.data_dir = dir.clone()).await;
    let alice = TestUser {
        token: app.login("alice", PASSWORD).await,
        ..alice
    };
    let new = app.send(&alice, channel, "after the rotation").await;
    let (_, page) = app
        .get(
            Some(&alice.token),
            &format!("/api/v1/channels/{channel}/messages"),
        )
        .await;
    let text = page.to_string();
    assert!(
        text.contains("before the rotation") && text.contains("after the rotation"),
        "{page}"
    );
    assert_ne!(old["id"], new["id"]);
    let (status, mfa) = app.get(Some(&alice.token), "/api/v1/users/me/mfa").await;
    assert_eq!(status, StatusCode::OK, "{mfa}");
    app.stop().await;
}

#[tokio::test]
async fn plaintext_from_before_encryption_is_sealed_by_encrypt_existing() {
    let keep = tempfile::tempdir().unwrap();
    let dir = keep.path().to_path_buf();
    let app = spawn_app_configured(|c| {
        c.data_dir = dir.clone();
        c.crypto.at_rest.enabled = false;
    })
    .await;
    let alice = app.user("alice").await;
    let channel = app.channel(&alice, CHANNEL, "private", &[]).await;
    let sent = app.send(&alice, channel, SENT).await;
    let id = sent["id"].as_i64().unwrap();
    app.patch(
        Some(&alice.token),
        &format!("/api/v1/messages/{id}"),
        json!({"text": EDITED}),
    )
    .await;
    let secret = enrol_totp(&app, &alice).await;
    app.stop().await;
    let raw = sqlite_bytes(&dir);
    assert!(
        contains(&raw, "Narwhal-Ocelot-5519") && contains(&raw, &secret),
        "stored as plaintext while off"
    );

    let status = cli(&dir, &["keys", "status"], &[]);
    assert!(status.contains("plaintext values: 6"), "{status}");
    let out = cli(&dir, &["keys", "encrypt-existing"], &[]);
    assert!(out.contains("6 plaintext values sealed"), "{out}");
    let raw = sqlite_bytes(&dir);
    for needle in NEEDLES.iter().copied().chain([secret.as_str()]) {
        assert!(!contains(&raw, needle), "{needle:?} is still plaintext");
    }
    let status = cli(&dir, &["keys", "status"], &[]);
    assert!(
        status.contains("sealed values: 6") && status.contains("plaintext values: 0"),
        "{status}"
    );

    let app = spawn_app_configured(|c| c.data_dir = dir.clone()).await;
    let alice = TestUser {
        token: app.login("alice", PASSWORD).await,
        ..alice
    };
    assert_reads_back(&app, &alice, channel, id).await;
    app.stop().await;
}

/// SoftHSM2 as the master key's home: the token is made by the test in a temp dir.
#[test]
fn master_keys_in_an_hsm_through_pkcs11() {
    if std::env::var("CONCORD_TEST_SOFTHSM").as_deref() != Ok("1") {
        eprintln!(
            "SKIPPED master_keys_in_an_hsm_through_pkcs11: set CONCORD_TEST_SOFTHSM=1 (.ci/run does)"
        );
        return;
    }
    let module = "/usr/lib/softhsm/libsofthsm2.so";
    assert!(
        Path::new(module).is_file(),
        "install softhsm2 (Debian package)"
    );
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::create_dir(&tokens).unwrap();
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let conf = conf.to_str().unwrap().to_string();
    let init = Command::new("softhsm2-util")
        .args([
            "--init-token",
            "--free",
            "--label",
            "concord-test",
            "--pin",
            "4321",
            "--so-pin",
            "8765",
        ])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let data = dir.path().join("data");
    std::fs::write(
        dir.path().join("concord.toml"),
        format!(
            "[crypto.at_rest]\nprovider = \"pkcs11\"\n[crypto.at_rest.pkcs11]\nmodule = \"{module}\"\n\
             token_label = \"concord-test\"\nkey_label = \"concord-master\"\n"
        ),
    )
    .unwrap();
    let config_path = dir.path().join("concord.toml");
    let config = config_path.to_str().unwrap();
    let envs = [
        ("SOFTHSM2_CONF", conf.as_str()),
        ("CONCORD_HSM_PIN", "4321"),
    ];
    let run = |args: &[&str]| {
        let mut all = vec!["--config", config];
        all.extend_from_slice(args);
        cli(&data, &all, &envs)
    };

    // Creating a user opens the store, which makes the first master key in the token.
    let mut create = concord()
        .args([
            "--config",
            config,
            "--data-dir",
            data.to_str().unwrap(),
            "admin",
            "create-user",
            "--username",
            "root",
        ])
        .args(["--admin", "--password-stdin"])
        .envs(envs)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(create.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let out = create.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = run(&["keys", "status"]);
    assert!(
        status.contains("active master key: concord-master"),
        "{status}"
    );
    assert!(status.contains("PKCS#11 token"), "{status}");

    // A served message through the HSM-held key, then a rotation to a new label.
    let server = ServedProcess::start(config, &data, &envs);
    let addr = server.addr.clone();
    let channel_id = rt.block_on(async {
        let http = reqwest::Client::new();
        let login: Value = http
            .post(format!("http://{addr}/api/v1/auth/login"))
            .json(&json!({"login": "root", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"]
            .as_str()
            .unwrap_or_else(|| panic!("{login}"))
            .to_string();
        let channel: Value = http
            .post(format!("http://{addr}/api/v1/channels"))
            .bearer_auth(&token)
            .json(&json!({"name": CHANNEL, "kind": "private", "member_ids": []}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sent = http
            .post(format!(
                "http://{addr}/api/v1/channels/{}/messages",
                channel["id"]
            ))
            .bearer_auth(&token)
            .json(&json!({"text": SENT}))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), StatusCode::CREATED);
        channel["id"].as_i64().unwrap()
    });
    drop(server);
    let raw = sqlite_bytes(&data);
    assert!(contains(&raw, CHANNEL));
    for needle in NEEDLES {
        assert!(!contains(&raw, needle), "{needle:?} is stored as plaintext");
    }
    let rotated = run(&["keys", "rotate"]);
    assert!(
        rotated.contains("concord-master -> concord-master.2; 1 data keys rewrapped"),
        "{rotated}"
    );
    let keys = data_keys(&data);
    assert!(
        keys.iter()
            .all(|(_, master, _)| master == "concord-master.2"),
        "{keys:?}"
    );

    let server = ServedProcess::start(config, &data, &envs);
    let addr = server.addr.clone();
    rt.block_on(async {
        let http = reqwest::Client::new();
        let login: Value = http
            .post(format!("http://{addr}/api/v1/auth/login"))
            .json(&json!({"login": "root", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().unwrap().to_string();
        let page: Value = http
            .get(format!(
                "http://{addr}/api/v1/channels/{channel_id}/messages"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(page.to_string().contains(SENT), "{page}");
    });
    drop(server);
}

/// `concord serve` as a child process, stopped with SIGTERM when dropped.
struct ServedProcess {
    child: std::process::Child,
    addr: String,
}

impl ServedProcess {
    fn start(config: &str, data: &Path, envs: &[(&str, &str)]) -> Self {
        use std::io::BufRead;
        let mut child = concord()
            .args([
                "--config",
                config,
                "--data-dir",
                data.to_str().unwrap(),
                "serve",
                "--listen",
                "127.0.0.1:0",
            ])
            .envs(envs.iter().copied())
            .env("CONCORD_LOG__FILTER", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("server output").unwrap();
            if let Some(rest) = line.strip_prefix("Concord is listening on http://") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        Self { child, addr }
    }
}

impl Drop for ServedProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
