//! Apps and bot tokens in the store, on every backend: install writes the bot user, the app,
//! its token and the audit entry at once; rotation and uninstall revoke tokens.

use super::{Fixture, at, user};
use concord_core::crypto::Suite;
use concord_core::store::{AppTokenGrant, AuditFilter, NewApp, NewAudit, NewUser, StoreError};
use concord_proto::AppId;

fn audit(action: &str, target: &str) -> NewAudit {
    NewAudit {
        at: at(5),
        actor_id: None,
        ip: Some("192.0.2.1".into()),
        action: action.into(),
        target: target.into(),
        before: None,
        after: Some(serde_json::json!({"what": action})),
        suite: Suite::Standard,
    }
}

fn new_app(username: &str, token_hash: &str, installed_by: concord_proto::UserId) -> NewApp {
    NewApp {
        name: "Dispatch".into(),
        description: "Work orders".into(),
        scopes: vec!["messages:read".into(), "messages:write".into()],
        bot: NewUser {
            username: username.into(),
            email: None,
            display_name: "Dispatch".into(),
            password_hash: String::new(),
            is_admin: false,
            guest: false,
            search_key: username.into(),
            created_at: at(3),
            audit: None,
        },
        token_hash: token_hash.into(),
        installed_by: Some(installed_by),
        at: at(3),
        audit: audit("app.install", "app:{id}"),
    }
}

async fn actions(store: &std::sync::Arc<dyn concord_core::Store>) -> Vec<(String, String)> {
    let filter = AuditFilter {
        limit: 50,
        ..Default::default()
    };
    let mut out: Vec<_> = store
        .audit_entries(filter)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.target))
        .collect();
    out.reverse();
    out
}

async fn install_creates_a_bot_user_app_token_and_audit_entry(f: Fixture) {
    let store = f.open().await;
    let admin = user(&store, "admin").await;
    let app = store
        .install_app(new_app("dispatch", "hash-1", admin))
        .await
        .unwrap();
    assert_eq!(app.name, "Dispatch");
    assert_eq!(app.description, "Work orders");
    assert_eq!(app.scopes, vec!["messages:read", "messages:write"]);
    assert_eq!(app.installed_by, Some(admin));
    assert_eq!(app.installed_at, at(3));
    assert_eq!(app.token_issued_at, Some(at(3)));
    assert!(app.bot_user.is_bot, "{:?}", app.bot_user);
    assert_eq!(app.bot_user.username, "dispatch");
    let bot = store.user(app.bot_user.id).await.unwrap().unwrap();
    assert!(bot.is_bot);
    assert!(!store.user(admin).await.unwrap().unwrap().is_bot);
    assert_eq!(
        store.app_token("hash-1").await.unwrap(),
        Some(AppTokenGrant {
            app_id: app.id,
            bot_user_id: app.bot_user.id,
            scopes: vec!["messages:read".into(), "messages:write".into()],
        })
    );
    assert_eq!(store.app_token("hash-2").await.unwrap(), None);
    assert_eq!(
        actions(&store).await,
        vec![("app.install".to_string(), format!("app:{}", app.id.0))]
    );
    // A taken username installs nothing: no second app, no audit entry.
    let dup = store
        .install_app(new_app("dispatch", "hash-2", admin))
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    assert_eq!(store.apps().await.unwrap().len(), 1);
    assert_eq!(store.app_token("hash-2").await.unwrap(), None);
    assert_eq!(actions(&store).await.len(), 1);
    let second = store
        .install_app(new_app("dispatch2", "hash-3", admin))
        .await
        .unwrap();
    let ids: Vec<AppId> = store.apps().await.unwrap().iter().map(|a| a.id).collect();
    assert_eq!(ids, vec![app.id, second.id]);
    store.close().await;
}

async fn rotation_and_uninstall_revoke_tokens(f: Fixture) {
    let store = f.open().await;
    let admin = user(&store, "admin").await;
    let app = store
        .install_app(new_app("dispatch", "old", admin))
        .await
        .unwrap();
    let target = format!("app:{}", app.id.0);
    store
        .rotate_app_token(
            app.id,
            "new".into(),
            at(9),
            audit("app.token_rotate", &target),
        )
        .await
        .unwrap();
    assert_eq!(store.app_token("old").await.unwrap(), None);
    assert_eq!(
        store.app_token("new").await.unwrap().map(|g| g.app_id),
        Some(app.id)
    );
    let rotated = store.app(app.id).await.unwrap().unwrap();
    assert_eq!(rotated.token_issued_at, Some(at(9)));

    store
        .uninstall_app(app.id, at(20), audit("app.uninstall", &target))
        .await
        .unwrap();
    assert_eq!(store.app_token("new").await.unwrap(), None);
    assert!(store.app(app.id).await.unwrap().is_none());
    assert!(store.apps().await.unwrap().is_empty());
    // The bot user is deactivated, not deleted: its messages keep their sender.
    assert!(store.user(app.bot_user.id).await.unwrap().is_none());
    let profile = store.user_profile(app.bot_user.id).await.unwrap().unwrap();
    assert_eq!(profile.status, concord_proto::UserStatus::Deactivated);

    let again = store
        .uninstall_app(app.id, at(21), audit("app.uninstall", &target))
        .await;
    assert!(
        matches!(again, Err(StoreError::NotFound("app"))),
        "{again:?}"
    );
    let rotate = store
        .rotate_app_token(
            app.id,
            "newer".into(),
            at(22),
            audit("app.token_rotate", &target),
        )
        .await;
    assert!(
        matches!(rotate, Err(StoreError::NotFound("app"))),
        "{rotate:?}"
    );
    assert_eq!(store.app_token("newer").await.unwrap(), None);
    assert_eq!(
        actions(&store).await,
        vec![
            ("app.install".to_string(), target.clone()),
            ("app.token_rotate".to_string(), target.clone()),
            ("app.uninstall".to_string(), target),
        ]
    );
    store.close().await;
}

all_backends!(
    install_creates_a_bot_user_app_token_and_audit_entry,
    rotation_and_uninstall_revoke_tokens,
);
