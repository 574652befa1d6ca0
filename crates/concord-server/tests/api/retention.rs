//! Retention and message tamper evidence end to end, with a manual clock: the seed's example
//! (ordinary groups 30 days, the finance group 3 years), per-type and per-channel precedence,
//! expiry exactly at the cutoff (inclusive) and a millisecond either side, legal holds on a
//! channel and on a person, dry runs, the audit entry with counts, search and history after a
//! prune, the live `messages.pruned` event, and `verify channel` naming rows edited, deleted,
//! inserted or reordered behind the server's back, passing after a prune and failing on a
//! forged checkpoint.

use crate::support::*;
use concord_core::clock::ManualClock;
use jiff::SignedDuration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const DAY: SignedDuration = SignedDuration::from_hours(24);

/// The server on a manual clock starting at `start`.
async fn app_on(backend: Backend, start: jiff::Timestamp) -> TestApp {
    let clock = Arc::new(ManualClock::new(start));
    // Runs only when the test asks, so counts are exact.
    spawn_app_with(backend, |c| c.retention.interval_secs = 0, Some(clock)).await
}

fn clock(app: &TestApp) -> Arc<ManualClock> {
    app.clock.clone().unwrap()
}

/// A fixed start for runs that only the server's clock judges.
fn fixed_start() -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(1_800_000_000_000).unwrap()
}

/// Sessions expire as the clock jumps: sign in again.
async fn relogin(app: &TestApp, user: &TestUser) -> TestUser {
    TestUser {
        id: user.id,
        username: user.username.clone(),
        token: app.login(&user.username, PASSWORD).await,
    }
}

async fn set_policy(app: &TestApp, admin: &TestUser, body: Value) -> Value {
    let (status, reply) = app
        .put_json(Some(&admin.token), "/api/v1/retention/policies", body)
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    reply
}

async fn run(app: &TestApp, admin: &TestUser, dry_run: bool) -> Value {
    let (status, report) = app
        .post(
            Some(&admin.token),
            "/api/v1/retention/run",
            json!({ "dry_run": dry_run }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

/// The sequence numbers a member still sees in the channel.
async fn seqs(app: &TestApp, user: &TestUser, channel: i64) -> Vec<i64> {
    let (status, page) = app
        .get(
            Some(&user.token),
            &format!("/api/v1/channels/{channel}/messages?limit=200"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect()
}

async fn chain(app: &TestApp, admin: &TestUser, channel: i64) -> Value {
    let (status, v) = app
        .get(
            Some(&admin.token),
            &format!("/api/v1/channels/{channel}/chain"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

async fn seed_example(app: TestApp) {
    let c = clock(&app);
    let admin = app.admin("root").await;
    let alice = app.user("alice").await;
    let general = app.channel(&admin, "general", "public", &[&alice]).await;
    let project = app.channel(&admin, "project", "private", &[&alice]).await;
    let finance = app.channel(&admin, "finance", "private", &[&alice]).await;
    set_policy(&app, &admin, json!({"scope": "org", "keep_days": 30})).await;
    set_policy(&app, &admin, json!({"scope": "private", "keep_days": 90})).await;
    let policies = set_policy(
        &app,
        &admin,
        json!({"scope": "channel", "channel_id": finance, "keep_days": 3 * 365}),
    )
    .await;
    assert_eq!(policies.as_array().unwrap().len(), 3, "{policies}");
    for ch in [general, project, finance] {
        app.send(&alice, ch, "sent at T").await;
    }
    c.advance(SignedDuration::from_millis(1));
    app.send(&alice, general, "sent at T + 1 ms").await;

    // One millisecond before the first message is 30 days old: nothing has expired.
    c.advance(30 * DAY - SignedDuration::from_millis(2));
    let admin = relogin(&app, &admin).await;
    let alice = relogin(&app, &alice).await;
    assert_eq!(run(&app, &admin, false).await["messages"], 0);
    // Exactly 30 days old: it expires (inclusive); the one sent a millisecond later stays.
    c.advance(SignedDuration::from_millis(1));
    let report = run(&app, &admin, false).await;
    assert_eq!(report["messages"], 1, "{report}");
    assert_eq!(report["channels"][0]["channel_id"], general);
    assert_eq!(seqs(&app, &alice, general).await, vec![2]);
    c.advance(SignedDuration::from_millis(1));
    assert_eq!(run(&app, &admin, false).await["messages"], 1);
    assert!(seqs(&app, &alice, general).await.is_empty());
    // Private channels follow their type's 90 days; finance its own 3 years.
    assert_eq!(seqs(&app, &alice, project).await, vec![1]);
    c.advance(60 * DAY);
    let admin = relogin(&app, &admin).await;
    let alice = relogin(&app, &alice).await;
    assert_eq!(run(&app, &admin, false).await["messages"], 1);
    assert!(seqs(&app, &alice, project).await.is_empty());
    assert_eq!(seqs(&app, &alice, finance).await, vec![1]);
    c.advance(3 * 365 * DAY - 90 * DAY);
    let admin = relogin(&app, &admin).await;
    let alice = relogin(&app, &alice).await;
    assert_eq!(run(&app, &admin, false).await["messages"], 1);
    assert!(seqs(&app, &alice, finance).await.is_empty());

    // Each run and each policy change is in the audit log, the runs with their counts.
    let (status, log) = app
        .get(Some(&admin.token), "/api/v1/audit?action=retention.")
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let entries = log.as_array().unwrap();
    let runs: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "retention.run")
        .collect();
    assert_eq!(runs.len(), 5, "{log}");
    assert_eq!(runs[0]["after"]["messages"], 1);
    assert_eq!(runs[0]["after"]["channels"][0]["channel_id"], finance);
    assert_eq!(
        entries
            .iter()
            .filter(|e| e["action"] == "retention.policy.set")
            .count(),
        3
    );
    // Channel-level beats type-level: inheriting again puts finance on the private 90 days.
    let after = set_policy(
        &app,
        &admin,
        json!({"scope": "channel", "channel_id": finance, "inherit": true}),
    )
    .await;
    assert_eq!(after.as_array().unwrap().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn the_seed_example_expires_at_the_boundary_with_the_most_specific_policy() {
    seed_example(app_on(Backend::Sqlite, fixed_start()).await).await;
}

#[cfg(postgres_tests)]
#[tokio::test]
async fn the_seed_example_expires_at_the_boundary_with_the_most_specific_policy_on_postgres() {
    seed_example(app_on(Backend::Postgres, fixed_start()).await).await;
}

#[tokio::test]
async fn legal_holds_win_until_released_and_dry_runs_delete_nothing() {
    let app = app_on(Backend::Sqlite, fixed_start()).await;
    let c = clock(&app);
    let admin = app.admin("root").await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let held_room = app.channel(&admin, "case room", "private", &[&alice]).await;
    let open_room = app
        .channel(&admin, "open room", "public", &[&alice, &bob])
        .await;
    app.send(&alice, held_room, "kept by the channel hold")
        .await;
    app.send(&alice, open_room, "alice's, free to go").await;
    app.send(&bob, open_room, "bob's, kept by his hold").await;
    set_policy(&app, &admin, json!({"scope": "org", "keep_days": 1})).await;

    let (status, err) = app
        .post(
            Some(&admin.token),
            "/api/v1/retention/holds",
            json!({"reason": "no target"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    // A policy says how long: a number of days, or null for forever; never by omission.
    for bad in [
        json!({"scope": "org"}),
        json!({"scope": "org", "keep_days": 0}),
        json!({"scope": "channel", "keep_days": 5}),
        json!({"scope": "org", "keep_days": 5, "inherit": true}),
    ] {
        let (status, err) = app
            .put_json(
                Some(&admin.token),
                "/api/v1/retention/policies",
                bad.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} -> {err}");
    }
    let (status, _) = app
        .post(
            Some(&alice.token),
            "/api/v1/retention/holds",
            json!({"channel_id": held_room, "reason": "mine"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut holds = vec![];
    for target in [json!({"channel_id": held_room}), json!({"user_id": bob.id})] {
        let mut body = target.clone();
        body["reason"] = json!("litigation 2026-17");
        let (status, hold) = app
            .post(Some(&admin.token), "/api/v1/retention/holds", body)
            .await;
        assert_eq!(status, StatusCode::OK, "{hold}");
        assert_eq!(hold["active"], true);
        holds.push(hold["id"].as_i64().unwrap());
    }

    c.advance(2 * DAY);
    let admin = relogin(&app, &admin).await;
    let alice = relogin(&app, &alice).await;
    let dry = run(&app, &admin, true).await;
    assert_eq!(
        (dry["dry_run"].clone(), dry["messages"].clone()),
        (json!(true), json!(1))
    );
    assert_eq!(
        seqs(&app, &alice, open_room).await,
        vec![1, 2],
        "a dry run deletes nothing"
    );
    let report = run(&app, &admin, false).await;
    assert_eq!(report["messages"], 1, "{report}");
    assert_eq!(seqs(&app, &alice, open_room).await, vec![2]);
    assert_eq!(seqs(&app, &alice, held_room).await, vec![1]);

    for id in &holds {
        let (status, hold) = app
            .delete(Some(&admin.token), &format!("/api/v1/retention/holds/{id}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{hold}");
        assert_eq!(hold["active"], false);
        assert_eq!(hold["released_by"], admin.id);
    }
    let (status, _) = app
        .delete(
            Some(&admin.token),
            &format!("/api/v1/retention/holds/{}", holds[0]),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(run(&app, &admin, false).await["messages"], 2);
    assert!(seqs(&app, &alice, open_room).await.is_empty());
    assert!(seqs(&app, &alice, held_room).await.is_empty());
    let (_, log) = app
        .get(Some(&admin.token), "/api/v1/audit?action=legal_hold.")
        .await;
    assert_eq!(log.as_array().unwrap().len(), 4, "{log}");
    app.stop().await;
}

#[tokio::test]
async fn pruned_messages_leave_search_history_and_live_clients() {
    let app = app_on(Backend::Sqlite, fixed_start()).await;
    let c = clock(&app);
    let admin = app.admin("root").await;
    let alice = app.user("alice").await;
    let room = app.channel(&admin, "archive", "public", &[&alice]).await;
    for i in 0..3 {
        app.send(&alice, room, &format!("zebracorn report {i}"))
            .await;
    }
    wait_for(|| search_hits(&app, &alice, room), |n| n == 3).await;
    set_policy(&app, &admin, json!({"scope": "org", "keep_days": 7})).await;
    c.advance(8 * DAY);
    let admin = relogin(&app, &admin).await;
    let alice = relogin(&app, &alice).await;
    let kept = app.send(&alice, room, "zebracorn, still fresh").await;
    let mut ws = app.ws(&alice, None).await;
    ws.hello().await;
    assert_eq!(run(&app, &admin, false).await["messages"], 3);
    let pruned = ws.next_of("messages.pruned").await;
    assert_eq!(
        pruned["event"]["message_ids"].as_array().unwrap().len(),
        3,
        "{pruned}"
    );
    wait_for(|| search_hits(&app, &alice, room), |n| n == 1).await;

    // History starts at the oldest message kept; asking for older ones says so.
    let (_, page) = app
        .get(
            Some(&alice.token),
            &format!("/api/v1/channels/{room}/messages"),
        )
        .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    assert_eq!(page["oldest_seq"], kept["seq"]);
    assert_eq!(page["has_more_before"], false);
    let (status, page) = app
        .get(
            Some(&alice.token),
            &format!("/api/v1/channels/{room}/messages?before=3"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page["messages"].as_array().unwrap().is_empty());
    assert_eq!(
        (
            page["has_more_before"].clone(),
            page["has_more_after"].clone()
        ),
        (json!(false), json!(true))
    );
    let (status, _) = app
        .get(Some(&alice.token), &format!("/api/v1/messages/{}", 1))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

/// How many messages of `room` a search for "zebracorn" finds.
async fn search_hits(app: &TestApp, user: &TestUser, room: i64) -> usize {
    let path = format!("/api/v1/search?q=zebracorn&channel_id={room}");
    let (status, body) = app.get(Some(&user.token), &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["hits"].as_array().unwrap().len()
}

/// Polls `probe` until `done` holds, for at most 5 s.
async fn wait_for<F, Fut, T>(probe: F, done: impl Fn(T) -> bool)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
    T: Copy + std::fmt::Debug,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let value = probe().await;
        if done(value) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {value:?} after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn db(app: &TestApp) -> rusqlite::Connection {
    rusqlite::Connection::open(app.data_dir().join("concord.db")).unwrap()
}

fn cli(app: &TestApp, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_concord"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CONCORD_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .arg("--data-dir")
        .arg(app.data_dir())
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// A channel with five messages, the second edited and the fourth deleted.
async fn busy_channel(
    app: &TestApp,
    admin: &TestUser,
    alice: &TestUser,
    name: &str,
) -> (i64, Vec<i64>) {
    let room = app.channel(admin, name, "public", &[alice]).await;
    let mut ids = vec![];
    for i in 1..=5 {
        ids.push(
            app.send(alice, room, &format!("{name} {i}")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let (status, _) = app
        .patch(
            Some(&alice.token),
            &format!("/api/v1/messages/{}", ids[1]),
            json!({"text": "second, edited"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .delete(Some(&alice.token), &format!("/api/v1/messages/{}", ids[3]))
        .await;
    assert!(status.is_success());
    (room, ids)
}

#[tokio::test]
async fn verify_channel_names_rows_changed_behind_the_servers_back() {
    let app = app_on(Backend::Sqlite, fixed_start()).await;
    let admin = app.admin("root").await;
    let alice = app.user("alice").await;
    let (edited, ids_e) = busy_channel(&app, &admin, &alice, "edited").await;
    let (deleted, ids_d) = busy_channel(&app, &admin, &alice, "deleted").await;
    let (inserted, _) = busy_channel(&app, &admin, &alice, "inserted").await;
    let (reordered, ids_r) = busy_channel(&app, &admin, &alice, "reordered").await;
    for room in [edited, deleted, inserted, reordered] {
        let v = chain(&app, &admin, room).await;
        assert_eq!(v["intact"], true, "{v}");
        assert_eq!(v["links"], 7);
        assert_eq!(v["messages"], 5);
    }
    let (status, _) = app
        .get(
            Some(&alice.token),
            &format!("/api/v1/channels/{edited}/chain"),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "needs audit.read");

    let conn = db(&app);
    conn.execute(
        "UPDATE messages SET body = 'we never said that' WHERE id = ?1",
        [ids_e[2]],
    )
    .unwrap();
    conn.execute("DELETE FROM messages WHERE id = ?1", [ids_d[2]])
        .unwrap();
    conn.execute(
        "INSERT INTO messages (channel_id, seq, sender_id, body, created_at) VALUES (?1, 6, ?2, 'forged', 0)",
        [inserted, alice.id],
    )
    .unwrap();
    conn.execute_batch(&format!(
        "UPDATE messages SET seq = -1 WHERE id = {a}; UPDATE messages SET seq = 1 WHERE id = {b}; \
         UPDATE messages SET seq = 2 WHERE id = {a};",
        a = ids_r[0],
        b = ids_r[1]
    ))
    .unwrap();
    let problem = |v: Value| v["problem"].as_str().unwrap_or_default().to_string();
    let v = chain(&app, &admin, edited).await;
    assert_eq!(v["intact"], false);
    assert!(
        problem(v.clone()).starts_with(&format!("message seq 3 (id {}) was edited", ids_e[2])),
        "{v}"
    );
    let v = chain(&app, &admin, deleted).await;
    assert!(
        problem(v.clone()).contains(&format!("message seq 3 (id {}) was deleted", ids_d[2])),
        "{v}"
    );
    let v = chain(&app, &admin, inserted).await;
    assert!(problem(v.clone()).contains("message seq 6"), "{v}");
    assert!(problem(v.clone()).contains("was inserted"), "{v}");
    let v = chain(&app, &admin, reordered).await;
    assert!(
        problem(v.clone()).contains(&format!(
            "message id {} was moved from seq 1 to seq 2",
            ids_r[0]
        )),
        "{v}"
    );

    // The command line says the same, with exit status 1.
    let (ok, out) = cli(&app, &["verify", "channel", &edited.to_string()]);
    assert!(!ok, "{out}");
    assert!(out.contains("TAMPERED") && out.contains("seq 3"), "{out}");
    app.stop().await;
}

#[tokio::test]
async fn verification_survives_a_prune_and_catches_a_forged_checkpoint() {
    // The command line judges by the real clock: start a month ago.
    let app = app_on(Backend::Sqlite, jiff::Timestamp::now() - 30 * DAY).await;
    let c = clock(&app);
    let admin = app.admin("root").await;
    let alice = app.user("alice").await;
    let (room, _) = busy_channel(&app, &admin, &alice, "history").await;
    set_policy(&app, &admin, json!({"scope": "org", "keep_days": 10})).await;
    c.advance(11 * DAY);
    let admin = relogin(&app, &admin).await;
    let alice = relogin(&app, &alice).await;
    let (ok, out) = cli(&app, &["retention", "run", "--dry-run"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("would delete 5 messages, 2 edit versions"),
        "{out}"
    );
    app.send(&alice, room, "after the prune").await;
    assert_eq!(
        seqs(&app, &alice, room).await.len(),
        6,
        "a dry run deletes nothing"
    );
    assert_eq!(run(&app, &admin, false).await["messages"], 5);
    let v = chain(&app, &admin, room).await;
    assert_eq!(v["intact"], true, "{v}");
    assert_eq!(v["checkpoint_through"], 7);
    assert_eq!(v["messages"], 1);
    let (ok, out) = cli(&app, &["verify", "channel", &room.to_string()]);
    assert!(ok, "{out}");

    // A checkpoint rewritten to cover a different history no longer carries our signature.
    db(&app)
        .execute(
            "UPDATE message_chain_checkpoints SET hash = ?1 WHERE channel_id = ?2",
            rusqlite::params!["00".repeat(32), room],
        )
        .unwrap();
    let v = chain(&app, &admin, room).await;
    assert_eq!(v["intact"], false);
    assert!(
        v["problem"].as_str().unwrap().contains("bad signature"),
        "{v}"
    );
    app.stop().await;
}
