//! Sign-in security over the API: TOTP enrolment and the two-step login with recovery codes,
//! the organisation's second-factor policy and enrol-only sessions, lockout after failed
//! logins with a cool-down, the password policy, listing and ending sessions, and separation
//! of duties between the system, security and audit administrators. Each runs on SQLite and,
//! when `CONCORD_TEST_POSTGRES_URL` is set, on PostgreSQL; every step checks its audit entry.

use crate::support::*;
use concord_core::Clock;
use concord_core::clock::ManualClock;
use concord_core::credentials::totp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// Runs each named test body on both backends, with a config tweak and a manual clock.
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

on_both_backends!(
    totp_enrolment_two_step_login_recovery_codes_and_disable,
    policy_requires_a_second_factor_for_admins_with_enrol_only_sessions,
    lockout_after_failed_logins_with_a_cool_down,
    sessions_are_listed_and_ended_by_their_owner_and_by_admins,
    separation_of_duties_between_system_security_and_audit_admins,
);

async fn app_on(
    backend: Backend,
    tweak: impl FnOnce(&mut concord_server::Config),
) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    (
        spawn_app_with(backend, tweak, Some(clock.clone())).await,
        clock,
    )
}

/// The code an authenticator shows `steps_ahead` steps after the app's clock.
fn code(app: &TestApp, secret: &str, steps_ahead: i64) -> String {
    let now = app.clock.as_ref().unwrap().now().as_second();
    let secret = totp::base32_decode(secret).unwrap();
    totp::code_at_step(&secret, totp::step_at(now) + steps_ahead)
}

async fn audit_actions(app: &TestApp, admin: &TestUser) -> Vec<String> {
    let (status, list) = app.get(Some(&admin.token), "/api/v1/audit?limit=200").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn login_raw(app: &TestApp, login: &str, password: &str) -> (StatusCode, Value) {
    app.post(
        None,
        "/api/v1/auth/login",
        json!({"login": login, "password": password}),
    )
    .await
}

/// Enrols a TOTP factor for `user`; returns the secret and the recovery codes.
async fn enrol(app: &TestApp, user: &TestUser) -> (String, Vec<String>) {
    let (status, e) = app
        .post(Some(&user.token), "/api/v1/users/me/mfa/totp", json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    let secret = e["secret"].as_str().unwrap().to_string();
    let uri = e["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Concord:") && uri.contains(&format!("secret={secret}")),
        "{uri}"
    );
    let (status, err) = app
        .post(
            Some(&user.token),
            "/api/v1/users/me/mfa/totp/confirm",
            json!({"code": "000000"}),
        )
        .await;
    let wrong = if code(app, &secret, 0) == "000000" {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    assert_eq!(status, wrong, "a wrong code does not confirm: {err}");
    let (status, codes) = app
        .post(
            Some(&user.token),
            "/api/v1/users/me/mfa/totp/confirm",
            json!({"code": code(app, &secret, 0)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{codes}");
    let codes: Vec<String> = codes["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().into())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn totp_enrolment_two_step_login_recovery_codes_and_disable(backend: Backend) {
    let (app, _clock) = app_on(backend, |_| {}).await;
    let admin = app.admin("root").await;
    let alice = app.user("alice").await;
    let (status, s) = app.get(Some(&alice.token), "/api/v1/users/me/mfa").await;
    assert_eq!(
        (status, s["totp_enabled"].clone(), s["required"].clone()),
        (StatusCode::OK, json!(false), json!(false))
    );
    let (secret, recovery) = enrol(&app, &alice).await;
    let (_, s) = app.get(Some(&alice.token), "/api/v1/users/me/mfa").await;
    assert_eq!(s["totp_enabled"], true);
    assert_eq!(s["recovery_codes_left"], 10);
    let (status, _) = app
        .post(Some(&alice.token), "/api/v1/users/me/mfa/totp", json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "enrolling twice");

    // Step one answers a challenge, not a session.
    let (status, first) = login_raw(&app, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{first}");
    assert_eq!(first["error"]["code"], "mfa_required");
    let mfa_token = first["mfa_token"].as_str().unwrap().to_string();
    assert!(first.get("token").is_none());
    // The code used to confirm cannot be replayed; a wrong code fails; the next one works.
    for bad in [code(&app, &secret, 0), "123456x".into()] {
        let (status, err) = app
            .post(
                None,
                "/api/v1/auth/login/mfa",
                json!({"mfa_token": mfa_token, "code": bad}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{err}");
        assert_eq!(err["error"]["code"], "bad_credentials");
    }
    let (status, session) = app
        .post(
            None,
            "/api/v1/auth/login/mfa",
            json!({"mfa_token": mfa_token, "code": code(&app, &secret, 1)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let token = session["token"].as_str().unwrap().to_string();
    let (status, me) = app.get(Some(&token), "/api/v1/users/me").await;
    assert_eq!(
        (status, me["username"].clone()),
        (StatusCode::OK, json!("alice"))
    );
    // One challenge, one session.
    let (status, _) = app
        .post(
            None,
            "/api/v1/auth/login/mfa",
            json!({"mfa_token": mfa_token, "code": code(&app, &secret, 1)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A recovery code works once, in any case and with or without dashes.
    let (_, first) = login_raw(&app, "alice", PASSWORD).await;
    let t = first["mfa_token"].as_str().unwrap();
    let shouted = recovery[0].to_uppercase().replace('-', "");
    let (status, body) = app
        .post(
            None,
            "/api/v1/auth/login/mfa",
            json!({"mfa_token": t, "code": shouted}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, first) = login_raw(&app, "alice", PASSWORD).await;
    let t = first["mfa_token"].as_str().unwrap();
    let (status, _) = app
        .post(
            None,
            "/api/v1/auth/login/mfa",
            json!({"mfa_token": t, "code": recovery[0]}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a recovery code is single-use"
    );
    let (_, s) = app.get(Some(&token), "/api/v1/users/me/mfa").await;
    assert_eq!(s["recovery_codes_left"], 9);

    // Disabling needs a code; then logging in is one step again.
    let (status, _) = app
        .post(
            Some(&token),
            "/api/v1/users/me/mfa/totp/disable",
            json!({"code": "nope"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = app
        .post(
            Some(&token),
            "/api/v1/users/me/mfa/totp/disable",
            json!({"code": recovery[1]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = login_raw(&app, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let actions = audit_actions(&app, &admin).await;
    for action in [
        "mfa.totp_enrol_started",
        "mfa.totp_enabled",
        "mfa.totp_disabled",
        "auth.login",
        "auth.login_recovery_code",
        "auth.login_failed",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} audited: {actions:?}"
        );
    }
}

async fn policy_requires_a_second_factor_for_admins_with_enrol_only_sessions(backend: Backend) {
    let (app, _clock) = app_on(backend, |c| {
        c.security.require_mfa = concord_core::service::MfaRequirement::Admins;
    })
    .await;
    // The admin's login gives an enrol-only session.
    let root = app.admin("root").await;
    let (status, body) = login_raw(&app, "root", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["mfa_enrolment_required"], true, "{body}");
    for path in [
        "/api/v1/users/me",
        "/api/v1/users",
        "/api/v1/audit",
        "/api/v1/users/me/sessions",
    ] {
        let (status, err) = app.get(Some(&root.token), path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {err}");
        assert_eq!(err["error"]["code"], "mfa_enrolment_required", "{path}");
    }
    let (_, s) = app.get(Some(&root.token), "/api/v1/users/me/mfa").await;
    assert_eq!(s["required"], true);
    let (secret, _) = enrol(&app, &root).await;
    let (status, _) = app
        .post(
            Some(&root.token),
            "/api/v1/users/me/mfa/totp/disable",
            json!({"code": code(&app, &secret, 1)}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the enrol-only session cannot disable"
    );
    // Now the admin signs in with both factors and gets a full session.
    let (status, first) = login_raw(&app, "root", PASSWORD).await;
    assert_eq!(
        (status, first["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("mfa_required"))
    );
    let (status, session) = app
        .post(
            None,
            "/api/v1/auth/login/mfa",
            json!({"mfa_token": first["mfa_token"], "code": code(&app, &secret, 1)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let full = session["token"].as_str().unwrap().to_string();
    let (status, _) = app.get(Some(&full), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = app
        .post(
            Some(&full),
            "/api/v1/users/me/mfa/totp/disable",
            json!({"code": code(&app, &secret, 2)}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "policy keeps the factor: {err}"
    );
    // People without admin permissions sign in as before.
    let bob = app.user("bob").await;
    let (status, _) = app.get(Some(&bob.token), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::OK);
    // Enrol-only sessions can log out.
    let (status, _) = app
        .post(Some(&root.token), "/api/v1/auth/logout", json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

async fn lockout_after_failed_logins_with_a_cool_down(backend: Backend) {
    let (app, clock) = app_on(backend, |c| {
        c.security.max_failed_logins = 3;
        c.security.lockout_secs = 600;
    })
    .await;
    let admin = app.admin("root").await;
    app.user("carol").await;
    for i in 1..=2 {
        let (status, err) = login_raw(&app, "carol", "wrong password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}: {err}");
    }
    let r = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"login": "carol", "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::LOCKED, "the third failure locks");
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 500
    );
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "account_locked");
    let (status, _) = login_raw(&app, "carol", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::LOCKED,
        "even the right password while locked"
    );
    clock.advance(jiff::SignedDuration::from_secs(601));
    let (status, body) = login_raw(&app, "carol", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "after the cool-down: {body}");
    // A success resets the count: two more failures do not lock.
    for _ in 0..2 {
        let (status, _) = login_raw(&app, "carol", "wrong password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = login_raw(&app, "carol", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let actions = audit_actions(&app, &admin).await;
    assert!(actions.iter().any(|a| a == "auth.lockout"), "{actions:?}");
    assert!(
        actions.iter().filter(|a| *a == "auth.login_failed").count() >= 5,
        "{actions:?}"
    );
    let (_, failures) = app
        .get(
            Some(&admin.token),
            "/api/v1/audit?action=auth.login_failed&limit=1",
        )
        .await;
    assert_eq!(failures[0]["ip"], "127.0.0.1", "{failures}");
}

async fn sessions_are_listed_and_ended_by_their_owner_and_by_admins(backend: Backend) {
    let (app, _clock) = app_on(backend, |_| {}).await;
    let admin = app.admin("root").await;
    let bob = app.user("bob").await;
    let alice = app.user("alice").await;
    let mut tokens = vec![alice.token.clone()];
    for agent in ["Phone/1.0", "Laptop/2.0"] {
        let r = app
            .http
            .post(app.url("/api/v1/auth/login"))
            .header("user-agent", agent)
            .json(&json!({"login": "alice", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let body: Value = r.json().await.unwrap();
        tokens.push(body["token"].as_str().unwrap().to_string());
    }
    let (status, list) = app.get(Some(&tokens[1]), "/api/v1/users/me/sessions").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 3, "{list:?}");
    let current: Vec<&Value> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["user_agent"], "Phone/1.0");
    assert!(list.iter().all(|s| s["ip"] == "127.0.0.1"
        && s["created_at"].is_string()
        && s["last_seen_at"].is_string()));
    let laptop = list
        .iter()
        .find(|s| s["user_agent"] == "Laptop/2.0")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // End one: its token stops working, the others keep going.
    let (status, _) = app
        .delete(
            Some(&tokens[1]),
            &format!("/api/v1/users/me/sessions/{laptop}"),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(Some(&tokens[2]), "/api/v1/users/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(Some(&tokens[0]), "/api/v1/users/me").await.0,
        StatusCode::OK
    );
    let (status, _) = app
        .delete(
            Some(&tokens[1]),
            &format!("/api/v1/users/me/sessions/{laptop}"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "already ended");
    // Someone else's session id is not found.
    let (_, bobs) = app.get(Some(&bob.token), "/api/v1/users/me/sessions").await;
    let bobs_id = bobs[0]["id"].as_str().unwrap();
    let (status, _) = app
        .delete(
            Some(&tokens[1]),
            &format!("/api/v1/users/me/sessions/{bobs_id}"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // End all others.
    let (status, ended) = app
        .delete(Some(&tokens[1]), "/api/v1/users/me/sessions")
        .await;
    assert_eq!((status, ended["ended"].clone()), (StatusCode::OK, json!(1)));
    assert_eq!(
        app.get(Some(&tokens[0]), "/api/v1/users/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(Some(&tokens[1]), "/api/v1/users/me").await.0,
        StatusCode::OK
    );
    // Only admins end someone else's sessions.
    let (status, _) = app
        .delete(
            Some(&bob.token),
            &format!("/api/v1/users/{}/sessions", alice.id),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, ended) = app
        .delete(
            Some(&admin.token),
            &format!("/api/v1/users/{}/sessions", alice.id),
        )
        .await;
    assert_eq!((status, ended["ended"].clone()), (StatusCode::OK, json!(1)));
    assert_eq!(
        app.get(Some(&tokens[1]), "/api/v1/users/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = app
        .delete(Some(&admin.token), "/api/v1/users/999999/sessions")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Logging out is audited too.
    let (status, _) = app
        .post(Some(&bob.token), "/api/v1/auth/logout", json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let actions = audit_actions(&app, &admin).await;
    for action in [
        "session.revoked",
        "session.revoked_others",
        "session.revoked_by_admin",
        "auth.logout",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} audited: {actions:?}"
        );
    }
}

async fn builtin_role(app: &TestApp, admin: &TestUser, key: &str) -> i64 {
    let (_, roles) = app.get(Some(&admin.token), "/api/v1/roles").await;
    roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["builtin"] == key)
        .unwrap_or_else(|| panic!("no {key}: {roles}"))["id"]
        .as_i64()
        .unwrap()
}

async fn assign(app: &TestApp, by: &TestUser, role: i64, user: i64) -> (StatusCode, Value) {
    app.post(
        Some(&by.token),
        "/api/v1/role-assignments",
        json!({"role_id": role, "subject": {"kind": "user", "id": user}, "scope_department_id": null}),
    )
    .await
}

async fn separation_of_duties_between_system_security_and_audit_admins(backend: Backend) {
    let (app, _clock) = app_on(backend, |_| {}).await;
    let root = app.admin("root").await;
    let sys = app.user("sysadmin").await;
    let sec = app.user("secadmin").await;
    let aud = app.user("auditor").await;
    let (sys_role, sec_role, aud_role) = (
        builtin_role(&app, &root, "system_admin").await,
        builtin_role(&app, &root, "security_admin").await,
        builtin_role(&app, &root, "audit_admin").await,
    );
    for (role, user) in [(sys_role, &sys), (sec_role, &sec), (aud_role, &aud)] {
        let (status, body) = assign(&app, &root, role, user.id).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (_, perms) = app.get(Some(&root.token), "/api/v1/permissions").await;
    assert!(
        perms
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "security.manage"),
        "{perms}"
    );

    // The system administrator runs people and departments...
    let (status, body) = app
        .post(
            Some(&sys.token),
            "/api/v1/users",
            json!({"username": "newbie", "password": "a long password"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, dept) = app
        .post(
            Some(&sys.token),
            "/api/v1/departments",
            json!({"name": "Ops", "parent_id": null}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{dept}");
    // ...but cannot read the audit log, nor give itself the role that could.
    let (status, err) = app.get(Some(&sys.token), "/api/v1/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
    let (status, _) = assign(&app, &sys, aud_role, sys.id).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no self-granted audit role");
    let (_, list) = app.get(Some(&root.token), "/api/v1/role-assignments").await;
    let aud_assignment = list
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["role_id"] == aud_role)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (status, _) = app
        .delete(
            Some(&sys.token),
            &format!("/api/v1/role-assignments/{aud_assignment}"),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "cannot revoke the auditor's role"
    );
    let (status, _) = app
        .patch(
            Some(&sys.token),
            &format!("/api/v1/roles/{sys_role}"),
            json!({"permissions": ["audit.read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "cannot widen its own role");
    let (status, _) = app
        .post(
            Some(&sys.token),
            "/api/v1/users",
            json!({"username": "boss", "password": "a long password", "is_admin": true}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "cannot create an org admin");

    // The audit administrator reads the audit log, and changes nothing.
    let (status, log) = app.get(Some(&aud.token), "/api/v1/audit").await;
    assert_eq!(status, StatusCode::OK, "{log}");
    assert!(
        log.as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "user.create")
    );
    let (status, _) = app
        .post(
            Some(&aud.token),
            "/api/v1/users",
            json!({"username": "sneaky", "password": "a long password"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "auditor cannot create users");
    let (status, _) = app
        .post(
            Some(&aud.token),
            "/api/v1/departments",
            json!({"name": "Audit", "parent_id": null}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "auditor cannot create departments"
    );
    let ops = dept["id"].as_i64().unwrap();
    let (status, _) = app
        .patch(
            Some(&aud.token),
            &format!("/api/v1/departments/{ops}"),
            json!({"name": "Renamed"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "auditor cannot change departments"
    );
    let (status, _) = app
        .patch(
            Some(&aud.token),
            &format!("/api/v1/users/{}", sys.id),
            json!({"display_name": "x"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "auditor cannot change people"
    );
    let (status, _) = assign(&app, &aud, sys_role, aud.id).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "auditor cannot assign roles");
    let (status, _) = app
        .delete(
            Some(&aud.token),
            &format!("/api/v1/users/{}/sessions", sys.id),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "auditor cannot end sessions");

    // The security administrator manages roles but not people, and cannot read the log.
    let (status, _) = app.get(Some(&sec.token), "/api/v1/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .post(
            Some(&sec.token),
            "/api/v1/users",
            json!({"username": "other", "password": "a long password"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .post(
            Some(&sec.token),
            "/api/v1/roles",
            json!({"name": "Helpdesk", "description": "", "permissions": ["directory.read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .delete(
            Some(&sec.token),
            &format!("/api/v1/users/{}/sessions", sys.id),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "security.manage ends sessions: {body}"
    );
}

#[tokio::test]
async fn the_password_policy_is_enforced_on_new_accounts() {
    let app = spawn_app_configured(|c| {
        c.security.password_min_length = 12;
        c.security.password_min_classes = 3;
    })
    .await;
    let req = concord_proto::CreateUserRequest {
        username: "root".into(),
        password: "Root-Password-1".into(),
        email: None,
        display_name: None,
        is_admin: true,
        guest: false,
    };
    app.services.create_user(None, req).await.unwrap();
    let admin = TestUser {
        id: 0,
        username: "root".into(),
        token: app.login("root", "Root-Password-1").await,
    };
    for (username, password, why) in [
        ("dora", "Short-1", "too short"),
        ("dora", "alllowercaseletters", "one class"),
        ("dora", "lowercase and spaces", "two classes"),
        ("doraexplorer7", "DoraExplorer7", "the username"),
    ] {
        let (status, err) = app
            .post(
                Some(&admin.token),
                "/api/v1/users",
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}: {err}");
        assert_eq!(err["error"]["code"], "invalid_input", "{why}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .contains("password"),
            "{why}: {err}"
        );
    }
    let (status, body) = app
        .post(
            Some(&admin.token),
            "/api/v1/users",
            json!({"username": "dora", "password": "Backpack and Map 7"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
