//! The audit log's tamper evidence end to end: entries written by real admin actions are
//! hash-chained and signed; editing, deleting or rewriting rows behind the server's back is
//! caught by the service and by `concord audit verify`, in both crypto suites.

use crate::support::*;
use concord_core::AuditVerdict;
use concord_core::audit::Tamper;
use concord_core::crypto::Suite;
use reqwest::StatusCode;
use serde_json::json;
use std::process::Command;

/// An audit row's stored fields, as the forger reads them.
type AuditRow = (
    i64,
    i64,
    Option<i64>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
);

async fn some_admin_actions(app: &TestApp) {
    let admin = app.admin("root").await;
    for name in ["Ops", "Finance", "Legal"] {
        let (status, _) = app
            .post(
                Some(&admin.token),
                "/api/v1/departments",
                json!({"name": name, "parent_id": null}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, _) = app
        .post(
            Some(&admin.token),
            "/api/v1/roles",
            json!({"name": "Readers", "permissions": ["audit.read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

fn db(app: &TestApp) -> rusqlite::Connection {
    rusqlite::Connection::open(app.data_dir().join("concord.db")).unwrap()
}

fn cli_verify(app: &TestApp, suite: Suite) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_concord"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CONCORD_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .args([
            "--data-dir",
            app.data_dir().to_str().unwrap(),
            "audit",
            "verify",
        ])
        .env("CONCORD_CRYPTO__SUITE", suite.as_str())
        .env("CONCORD_LOG__FILTER", "error")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn verdict(app: &TestApp) -> AuditVerdict {
    app.services.verify_audit().await.unwrap()
}

#[tokio::test]
async fn an_untouched_log_verifies_and_edits_and_deletions_are_named() {
    for suite in [Suite::Standard, Suite::Gm] {
        let app = spawn_app_configured(|c| c.crypto.suite = suite).await;
        some_admin_actions(&app).await;
        let covered = app.services.checkpoint_audit().await.unwrap().unwrap();
        let n: i64 = db(&app)
            .query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))
            .unwrap();
        assert!(n >= 5, "a user, three departments and a role at least");
        assert!(
            matches!(verdict(&app).await, AuditVerdict::Intact(v) if v.entries == n as usize && v.last_checkpoint_through == Some(covered))
        );
        let (ok, out) = cli_verify(&app, suite);
        assert!(
            ok && out.contains(&format!("audit log intact: {n} entries")),
            "{suite:?}: {out}"
        );

        db(&app)
            .execute(
                "UPDATE audit_log SET target = 'department:999' WHERE id = 3",
                [],
            )
            .unwrap();
        assert!(
            matches!(
                verdict(&app).await,
                AuditVerdict::Tampered(Tamper::Edited { id: 3 })
            ),
            "{suite:?}"
        );
        let (ok, out) = cli_verify(&app, suite);
        assert!(!ok && out.contains("audit entry 3 was edited"), "{out}");
    }
}

#[tokio::test]
async fn deleting_or_rewriting_entries_is_caught() {
    let app = spawn_app().await;
    some_admin_actions(&app).await;
    let covered = app.services.checkpoint_audit().await.unwrap().unwrap();
    let conn = db(&app);
    // Keep the rows to restore them between cases.
    conn.execute("CREATE TABLE audit_backup AS SELECT * FROM audit_log", [])
        .unwrap();
    conn.execute("DELETE FROM audit_log WHERE id = 2", [])
        .unwrap();
    assert!(matches!(
        verdict(&app).await,
        AuditVerdict::Tampered(Tamper::Deleted {
            before: 1,
            after: 3
        })
    ));

    // A forger who rewrites the chain from entry 2 on, recomputing every hash, still cannot
    // match the signed checkpoint.
    conn.execute("DELETE FROM audit_log", []).unwrap();
    conn.execute("INSERT INTO audit_log SELECT * FROM audit_backup", [])
        .unwrap();
    conn.execute(
        "UPDATE audit_log SET action = 'nothing.happened' WHERE id = 2",
        [],
    )
    .unwrap();
    let rows: Vec<AuditRow> = conn
        .prepare(
            "SELECT id, at, actor_id, ip, action, target, before, after FROM audit_log ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut prev = String::new();
    for (id, at, actor, ip, action, target, before, after) in rows {
        let canon = concord_core::audit::canonical(
            id,
            at,
            actor,
            ip.as_deref(),
            &action,
            &target,
            before.as_deref(),
            after.as_deref(),
        );
        let hash = concord_core::audit::chain_hash(Suite::Standard, &prev, &canon);
        conn.execute(
            "UPDATE audit_log SET prev_hash = ?1, hash = ?2 WHERE id = ?3",
            rusqlite::params![prev, hash, id],
        )
        .unwrap();
        prev = hash;
    }
    assert!(matches!(
        verdict(&app).await,
        AuditVerdict::Tampered(Tamper::CheckpointMismatch { through_id, .. }) if through_id == covered
    ));
    let (ok, out) = cli_verify(&app, Suite::Standard);
    assert!(!ok && out.contains("rewritten"), "{out}");
}

#[tokio::test]
async fn the_audit_log_exports_as_json_lines_and_csv_and_the_export_is_audited() {
    let app = spawn_app().await;
    some_admin_actions(&app).await;
    let admin_token = app.login("root", PASSWORD).await;
    let member = app.user("member1").await;
    let url = app.url("/api/v1/audit/export?action=department.");
    let resp = app
        .http
        .get(&url)
        .bearer_auth(&member.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let resp = app
        .http
        .get(&url)
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let body = resp.text().await.unwrap();
    let lines: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "three departments: {body}");
    assert!(lines.iter().all(|e| e["action"] == "department.create"));
    assert!(
        lines[0]["id"].as_i64() > lines[2]["id"].as_i64(),
        "newest first"
    );

    let csv_url = app.url("/api/v1/audit/export?format=csv&action=role.create");
    let csv = app
        .http
        .get(&csv_url)
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "id,at,actor_id,ip,action,target,before,after");
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(
        rows[1].contains(",role.create,") && rows[1].contains("\"\"name\"\":\"\"Readers\"\""),
        "{csv}"
    );

    let (_, exports) = app
        .get(Some(&admin_token), "/api/v1/audit?action=audit.export")
        .await;
    assert_eq!(
        exports.as_array().unwrap().len(),
        2,
        "each export is itself audited"
    );
    let bad = app
        .http
        .get(app.url("/api/v1/audit/export?format=xml"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
