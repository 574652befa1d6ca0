//! Retention, legal hold and the per-channel message chain in the store, on every backend:
//! SQLite always, PostgreSQL when `CONCORD_TEST_POSTGRES_URL` is set at build time.

use concord_core::crypto::{SigningKey, Suite};
use concord_core::message_chain::{ChainTamper, verify_channel};
use concord_core::store::{
    HoldTarget, NewAudit, NewChannel, NewLegalHold, NewMessage, NewUser, PrunePlan, SendOutcome,
    Store,
};
use concord_proto::{ChannelId, ChannelKind, Event, MemberRole, MessageId, UserId};
use concord_store::StoreConfig;
use jiff::Timestamp;
use std::sync::Arc;

struct Fixture {
    config: StoreConfig,
    _dir: Option<tempfile::TempDir>,
}

impl Fixture {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Fixture {
            config: StoreConfig::Sqlite {
                path: dir.path().join("test.db"),
            },
            _dir: Some(dir),
        }
    }

    #[allow(dead_code)]
    fn postgres() -> Self {
        let url = std::env::var("CONCORD_TEST_POSTGRES_URL").expect("CONCORD_TEST_POSTGRES_URL");
        Fixture {
            config: StoreConfig::Postgres {
                url,
                schema: Some(format!("s_{}", rand::random::<u64>())),
                max_connections: 4,
            },
            _dir: None,
        }
    }

    async fn open(&self) -> Arc<dyn Store> {
        concord_store::open(&self.config).await.expect("open store")
    }
}

/// A fixed instant plus `ms` milliseconds.
fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(1_700_000_000_000 + ms).unwrap()
}

fn audit(action: &str) -> NewAudit {
    NewAudit {
        at: at(0),
        actor_id: None,
        ip: None,
        action: action.into(),
        target: "retention".into(),
        before: None,
        after: None,
        suite: Suite::Standard,
    }
}

async fn user(store: &Arc<dyn Store>, name: &str) -> UserId {
    let new = NewUser {
        username: name.into(),
        email: None,
        display_name: name.into(),
        password_hash: "$argon2id$fake".into(),
        is_admin: false,
        guest: false,
        search_key: String::new(),
        audit: None,
        created_at: at(0),
    };
    store.create_user(new).await.unwrap().id
}

async fn channel(store: &Arc<dyn Store>, name: &str, members: &[UserId]) -> ChannelId {
    let new = NewChannel {
        kind: ChannelKind::Private,
        name: name.into(),
        topic: String::new(),
        purpose: String::new(),
        created_by: members[0],
        created_at: at(0),
        dm_key: None,
        members: members.iter().map(|u| (*u, MemberRole::Member)).collect(),
    };
    store.create_channel(new).await.unwrap().id
}

async fn send(
    store: &Arc<dyn Store>,
    channel: ChannelId,
    sender: UserId,
    ms: i64,
    root: Option<MessageId>,
) -> MessageId {
    let new = NewMessage {
        channel_id: channel,
        sender_id: sender,
        text: format!("sent at {ms}"),
        client_msg_id: None,
        thread_root_id: root,
        mentions: vec![sender],
        mention_all: false,
        created_at: at(ms),
        files: Vec::new(),
    };
    match store.send_message(new).await.unwrap() {
        SendOutcome::Created(m) => m.id,
        SendOutcome::Existing(_) => panic!("not a retry"),
    }
}

fn plan(channel: ChannelId, cutoff: Timestamp, key: &Arc<SigningKey>) -> PrunePlan {
    PrunePlan {
        channels: vec![(channel, cutoff)],
        held_users: vec![],
        max_messages: 1000,
        dry_run: false,
        signing_key: Some(key.clone()),
        at: at(1_000_000),
        audit: audit("retention.run"),
        audit_when_empty: true,
    }
}

async fn verify(
    store: &Arc<dyn Store>,
    channel: ChannelId,
    key: &SigningKey,
) -> Result<(), ChainTamper> {
    let data = store.channel_chain(channel).await.unwrap().unwrap();
    verify_channel(key.suite(), &data, &hex::encode(key.public_key())).map(|_| ())
}

async fn remaining(store: &Arc<dyn Store>, channel: ChannelId) -> Vec<i64> {
    let msgs = store.messages_by_seq(channel, 1, 1000).await.unwrap();
    msgs.iter().map(|m| m.seq).collect()
}

/// A message exactly at the cutoff expires; one a millisecond newer stays; the chain stays
/// verifiable through the signed checkpoint, and the audit entry carries the counts.
async fn expiry_is_inclusive_at_the_cutoff_and_the_chain_survives(f: Fixture) {
    let store = f.open().await;
    let key = Arc::new(SigningKey::generate(Suite::Standard));
    let a = user(&store, "alice").await;
    let c = channel(&store, "general", &[a]).await;
    let before = send(&store, c, a, 99, None).await;
    let exact = send(&store, c, a, 100, None).await;
    send(&store, c, a, 101, None).await;
    store
        .set_reaction(exact, a, "👍".into(), true, at(102))
        .await
        .unwrap();
    store
        .edit_message(before, "edited".into(), at(103))
        .await
        .unwrap();
    store.set_pinned(exact, a, true, at(104)).await.unwrap();
    verify(&store, c, &key).await.expect("clean chain");
    let mut events = store.subscribe();

    let mut dry = plan(c, at(100), &key);
    dry.dry_run = true;
    let counted = store.prune_messages(dry).await.unwrap();
    assert_eq!(
        (
            counted.messages,
            counted.versions,
            counted.reactions,
            counted.pins
        ),
        (2, 2, 1, 1)
    );
    assert_eq!(
        remaining(&store, c).await,
        vec![1, 2, 3],
        "a dry run deletes nothing"
    );

    let report = store.prune_messages(plan(c, at(100), &key)).await.unwrap();
    assert_eq!(report.messages, 2);
    assert_eq!(report.mentions, 2);
    assert_eq!(report.channels.len(), 1);
    assert_eq!(report.pruned_message_ids, vec![before, exact]);
    assert_eq!(remaining(&store, c).await, vec![3]);
    assert!(store.message(before).await.unwrap().is_none());
    assert!(
        store.message_versions(before).await.is_err(),
        "its history went with it"
    );
    assert_eq!(store.oldest_seq(c).await.unwrap(), Some(3));
    let batch = loop {
        let b = events.recv().await.unwrap();
        if b.iter()
            .any(|e| matches!(e.stored.event, Event::MessagesPruned { .. }))
        {
            break b;
        }
    };
    let pruned: Vec<MessageId> = batch
        .iter()
        .filter_map(|e| match &e.stored.event {
            Event::MessagesPruned { message_ids, .. } => Some(message_ids.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(pruned, vec![before, exact]);
    let entry = store
        .audit_chain()
        .await
        .unwrap()
        .into_iter()
        .rfind(|e| e.action == "retention.run")
        .expect("the run is audited");
    let after: serde_json::Value = serde_json::from_str(entry.after.as_deref().unwrap()).unwrap();
    assert_eq!(after["messages"], 2);
    assert_eq!(after["versions"], 2);
    assert_eq!(after["channels"][0]["reactions"], 1);

    verify(&store, c, &key)
        .await
        .expect("verifiable from the checkpoint");
    // Later changes chain on from the kept head.
    send(&store, c, a, 200, None).await;
    verify(&store, c, &key).await.expect("still verifiable");
    let stranger = SigningKey::generate(Suite::Standard);
    assert!(matches!(
        verify(&store, c, &stranger).await,
        Err(ChainTamper::BadCheckpoint { .. })
    ));
    store.close().await;
}

/// A held person's messages stay, and so does any thread holding one; an unexpired reply
/// keeps its thread; released holds let the next run delete.
async fn holds_and_threads_keep_messages(f: Fixture) {
    let store = f.open().await;
    let key = Arc::new(SigningKey::generate(Suite::Gm));
    store.set_message_chain_suite(Suite::Gm);
    let a = user(&store, "alice").await;
    let b = user(&store, "bob").await;
    let c = channel(&store, "finance", &[a, b]).await;
    let root = send(&store, c, a, 10, None).await; // seq 1
    send(&store, c, b, 11, Some(root)).await; // seq 2, bob's reply: held
    send(&store, c, a, 12, None).await; // seq 3
    let live_root = send(&store, c, a, 13, None).await; // seq 4
    send(&store, c, a, 500, Some(live_root)).await; // seq 5, not expired
    send(&store, c, b, 14, None).await; // seq 6, bob's: held

    let hold = store
        .create_legal_hold(
            NewLegalHold {
                target: HoldTarget::User(b),
                reason: "case 42".into(),
                created_by: a,
                created_at: at(15),
                ends_at: None,
            },
            audit("legal_hold.create"),
        )
        .await
        .unwrap();
    let mut held = plan(c, at(100), &key);
    held.held_users = vec![b];
    let report = store.prune_messages(held).await.unwrap();
    assert_eq!(report.messages, 1, "only seq 3 is free to go");
    assert_eq!(remaining(&store, c).await, vec![1, 2, 4, 5, 6]);
    verify(&store, c, &key)
        .await
        .expect("after a non-prefix prune");

    assert!(
        store
            .release_legal_hold(hold, a, at(16), audit("legal_hold.release"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .release_legal_hold(hold, a, at(17), audit("legal_hold.release"))
            .await
            .unwrap()
    );
    let holds = store.legal_holds().await.unwrap();
    assert_eq!(holds[0].released_by, Some(a));
    let report = store.prune_messages(plan(c, at(100), &key)).await.unwrap();
    assert_eq!(report.messages, 3, "the thread of seq 1 and 2, and seq 6");
    assert_eq!(remaining(&store, c).await, vec![4, 5]);
    verify(&store, c, &key)
        .await
        .expect("after the second prune");
    store.close().await;
}

async fn policies_are_set_and_cleared(f: Fixture) {
    let store = f.open().await;
    store
        .set_retention_policy(
            "org".into(),
            Some(Some(30)),
            at(1),
            audit("retention.policy.set"),
        )
        .await
        .unwrap();
    store
        .set_retention_policy(
            "channel:9".into(),
            Some(None),
            at(2),
            audit("retention.policy.set"),
        )
        .await
        .unwrap();
    store
        .set_retention_policy(
            "org".into(),
            Some(Some(60)),
            at(3),
            audit("retention.policy.set"),
        )
        .await
        .unwrap();
    let p = store.retention_policies().await.unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!((p[0].scope.as_str(), p[0].keep_days), ("channel:9", None));
    assert_eq!((p[1].scope.as_str(), p[1].keep_days), ("org", Some(60)));
    store
        .set_retention_policy("org".into(), None, at(4), audit("retention.policy.clear"))
        .await
        .unwrap();
    assert_eq!(store.retention_policies().await.unwrap().len(), 1);
    let actions: Vec<String> = store
        .audit_chain()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.starts_with("retention.policy"))
            .count(),
        4
    );
    store.close().await;
}

macro_rules! suite {
    ($backend:ident: $($test:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Fixture::$backend()).await
                }
            )*
        }
    };
}

macro_rules! all_backends {
    ($($test:ident),* $(,)?) => {
        suite!(sqlite: $($test),*);
        #[cfg(postgres_tests)]
        suite!(postgres: $($test),*);
    };
}

all_backends!(
    expiry_is_inclusive_at_the_cutoff_and_the_chain_survives,
    holds_and_threads_keep_messages,
    policies_are_set_and_cleared,
);
