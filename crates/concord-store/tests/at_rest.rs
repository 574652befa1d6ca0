//! Encryption at rest on every backend: values are sealed in the database yet read back
//! intact, legacy plaintext stays readable and is sealed by `seal_existing`, and a master key
//! rotation rewraps data keys without touching sealed data.

use concord_core::at_rest::{Keyring, LocalMasterKeys, scope};
use concord_core::crypto::Suite;
use concord_core::store::{
    MfaChange, NewAudit, NewChannel, NewMessage, NewUser, SendOutcome, Store,
};
use concord_proto::{ChannelId, ChannelKind, Event, MemberRole, UserId};
use concord_store::StoreConfig;
use jiff::Timestamp;
use std::sync::Arc;
use zeroize::Zeroizing;

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
        let schema = format!("s_{}", rand::random::<u64>());
        Fixture {
            config: StoreConfig::Postgres {
                url,
                schema: Some(schema),
                max_connections: 4,
            },
            _dir: None,
        }
    }

    async fn open(&self, keyring: Option<Arc<Keyring>>) -> Arc<dyn Store> {
        concord_store::open_sealed(&self.config, keyring)
            .await
            .expect("open store")
    }
}

/// A keyring whose master keys are `ids` (the last active), with fixed secrets per id.
fn keyring(suite: Suite, ids: &[&str]) -> Arc<Keyring> {
    let len = if suite == Suite::Gm { 16 } else { 32 };
    let keys = ids
        .iter()
        .map(|id| {
            (
                id.to_string(),
                Zeroizing::new(vec![
                    id.bytes().fold(7u8, |a, b| a.wrapping_mul(31) ^ b);
                    len
                ]),
            )
        })
        .collect();
    Arc::new(Keyring::new(
        suite,
        Arc::new(LocalMasterKeys::new(suite, keys, "test".into()).unwrap()),
    ))
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(1_700_000_000_000 + ms).unwrap()
}

async fn setup(store: &Arc<dyn Store>) -> (UserId, ChannelId) {
    let user = store
        .create_user(NewUser {
            username: "ana".into(),
            email: None,
            display_name: "Ana".into(),
            password_hash: "$argon2id$fake".into(),
            is_admin: false,
            guest: false,
            search_key: String::new(),
            audit: None,
            created_at: at(0),
        })
        .await
        .unwrap()
        .id;
    let channel = store
        .create_channel(NewChannel {
            kind: ChannelKind::Private,
            name: "vault".into(),
            dm_key: None,
            topic: String::new(),
            purpose: String::new(),
            created_by: user,
            created_at: at(1),
            members: vec![(user, MemberRole::Admin)],
        })
        .await
        .unwrap()
        .id;
    (user, channel)
}

fn msg(channel: ChannelId, sender: UserId, text: &str, client: Option<&str>) -> NewMessage {
    NewMessage {
        channel_id: channel,
        sender_id: sender,
        text: text.into(),
        client_msg_id: client.map(Into::into),
        thread_root_id: None,
        mentions: Vec::new(),
        mention_all: false,
        created_at: at(10),
        files: Vec::new(),
    }
}

fn audit(action: &str) -> NewAudit {
    NewAudit {
        at: at(50),
        actor_id: None,
        ip: None,
        action: action.into(),
        target: "keys".into(),
        before: None,
        after: None,
        suite: Suite::Standard,
    }
}

/// Sends, edits and enrols a TOTP secret; returns the message.
async fn write_sample(
    store: &Arc<dyn Store>,
    user: UserId,
    channel: ChannelId,
) -> concord_proto::MessageId {
    let SendOutcome::Created(m) = store
        .send_message(msg(channel, user, "launch code tangerine", Some("c1")))
        .await
        .unwrap()
    else {
        panic!("a new message")
    };
    assert_eq!(m.text, "launch code tangerine");
    let edited = store
        .edit_message(m.id, "launch code mandarin".into(), at(20))
        .await
        .unwrap();
    assert_eq!(edited.text, "launch code mandarin");
    store
        .change_mfa(
            user,
            MfaChange::Begin {
                secret: b"totp-secret-bytes!!!".to_vec(),
                at: at(30),
            },
            audit("mfa.begin"),
        )
        .await
        .unwrap();
    m.id
}

async fn assert_readable(
    store: &Arc<dyn Store>,
    user: UserId,
    channel: ChannelId,
    id: concord_proto::MessageId,
) {
    assert_eq!(
        store.message(id).await.unwrap().unwrap().text,
        "launch code mandarin"
    );
    let page = store.messages_by_seq(channel, 1, 10).await.unwrap();
    assert_eq!(page[0].text, "launch code mandarin");
    let versions = store.message_versions(id).await.unwrap();
    let texts: Vec<_> = versions.iter().map(|v| v.text.as_str()).collect();
    assert_eq!(texts, ["launch code tangerine", "launch code mandarin"]);
    let events = store.events_after(0, 100).await.unwrap();
    let texts: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.event {
            Event::MessageCreated { message } | Event::MessageEdited { message } => {
                Some(message.text.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["launch code tangerine", "launch code mandarin"]);
    let replay = store.events_for_user(user, 0, i64::MAX, 100).await.unwrap();
    assert!(replay.iter().any(|e| matches!(&e.event, Event::MessageEdited { message } if message.text == "launch code mandarin")));
    assert_eq!(
        store.mfa(user).await.unwrap().unwrap().secret,
        b"totp-secret-bytes!!!"
    );
    assert_eq!(
        store
            .messages_after(concord_proto::MessageId(0), 10)
            .await
            .unwrap()[0]
            .text,
        "launch code mandarin"
    );
}

async fn sealed_values_read_back_intact(fx: Fixture) {
    for suite in [Suite::Standard, Suite::Gm] {
        let fx = if matches!(fx.config, StoreConfig::Sqlite { .. }) {
            Fixture::sqlite()
        } else {
            Fixture::postgres()
        };
        let ring = keyring(suite, &["m1"]);
        let store = fx.open(Some(ring.clone())).await;
        let (user, channel) = setup(&store).await;
        let id = write_sample(&store, user, channel).await;
        assert_readable(&store, user, channel, id).await;
        // A retried send returns the original, opened.
        let again = store
            .send_message(msg(channel, user, "other", Some("c1")))
            .await
            .unwrap();
        assert!(matches!(again, SendOutcome::Existing(m) if m.text == "launch code mandarin"));

        let counts = store.at_rest_counts().await.unwrap();
        // Body, 2 versions, 2 message events, the TOTP secret.
        assert_eq!((counts.sealed, counts.plaintext), (6, 0), "{suite:?}");
        assert_eq!(counts.data_keys, 2, "the channel's and the accounts' keys");
        let keys = store.data_keys().await.unwrap();
        assert!(keys.iter().any(|k| k.scope == scope::channel(channel)
            && k.suite == suite
            && k.master_key_id == "m1"));
        store.close().await;

        // Without the keyring the sealed values cannot be read: they are not plaintext.
        let bare = fx.open(None).await;
        assert!(bare.message(id).await.is_err());
        assert!(bare.mfa(user).await.is_err());
        bare.close().await;
        // With a fresh keyring (cold cache) over the same master key, they can.
        let store = fx.open(Some(keyring(suite, &["m1"]))).await;
        assert_readable(&store, user, channel, id).await;
        store.close().await;
    }
    drop(fx);
}

async fn legacy_plaintext_is_readable_then_sealed(fx: Fixture) {
    let plain = fx.open(None).await;
    let (user, channel) = setup(&plain).await;
    let id = write_sample(&plain, user, channel).await;
    let counts = plain.at_rest_counts().await.unwrap();
    assert_eq!((counts.sealed, counts.plaintext), (0, 6));
    plain.close().await;

    let store = fx.open(Some(keyring(Suite::Standard, &["m1"]))).await;
    assert_readable(&store, user, channel, id).await;
    let mut sealed = 0;
    loop {
        let n = store.seal_existing(2).await.unwrap();
        if n == 0 {
            break;
        }
        sealed += n;
    }
    assert_eq!(sealed, 6);
    let counts = store.at_rest_counts().await.unwrap();
    assert_eq!((counts.sealed, counts.plaintext), (6, 0));
    assert_readable(&store, user, channel, id).await;

    // A legacy message edited after encryption was turned on gets a sealed first version.
    store.close().await;
    let plain = fx.open(None).await;
    let SendOutcome::Created(old) = plain
        .send_message(msg(channel, user, "old plaintext", None))
        .await
        .unwrap()
    else {
        panic!()
    };
    plain.close().await;
    let store = fx.open(Some(keyring(Suite::Standard, &["m1"]))).await;
    store
        .edit_message(old.id, "new words".into(), at(40))
        .await
        .unwrap();
    let counts = store.at_rest_counts().await.unwrap();
    assert_eq!(
        counts.plaintext, 1,
        "only the legacy message.created event is left: {counts:?}"
    );
    let texts: Vec<_> = store
        .message_versions(old.id)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.text)
        .collect();
    assert_eq!(texts, ["old plaintext", "new words"]);
    store.close().await;
}

async fn rotation_rewraps_data_keys_only(fx: Fixture) {
    let store = fx.open(Some(keyring(Suite::Gm, &["m1"]))).await;
    let (user, channel) = setup(&store).await;
    let id = write_sample(&store, user, channel).await;
    let before = store.data_keys().await.unwrap();
    let body_before = store.at_rest_counts().await.unwrap();
    store.close().await;

    let rotated = keyring(Suite::Gm, &["m1", "m2"]);
    let store = fx.open(Some(rotated.clone())).await;
    let mut rewrapped = Vec::new();
    for key in &before {
        let secret = rotated
            .masters()
            .unwrap(&key.master_key_id, &key.wrapped)
            .unwrap();
        let wrapped = rotated.masters().wrap(&secret).unwrap();
        rewrapped.push(concord_core::at_rest::DataKeyRecord {
            master_key_id: wrapped.master_key_id,
            wrapped: wrapped.wrapped,
            ..key.clone()
        });
    }
    let chain_before = store.audit_chain().await.unwrap().len();
    store
        .rewrap_data_keys(rewrapped, audit("keys.rotate"))
        .await
        .unwrap();
    let chain = store.audit_chain().await.unwrap();
    assert_eq!(chain.len(), chain_before + 1);
    store.close().await;

    let after = {
        // Only m2 now: data wrapped by m1 must have been rewrapped to stay readable.
        let store = fx.open(Some(keyring(Suite::Gm, &["m2"]))).await;
        assert_readable(&store, user, channel, id).await;
        let after = store.data_keys().await.unwrap();
        assert_eq!(
            store.at_rest_counts().await.unwrap().sealed,
            body_before.sealed
        );
        store.close().await;
        after
    };
    assert_eq!(after.len(), before.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((a.id, &a.scope), (b.id, &b.scope));
        assert_eq!(a.master_key_id, "m2");
        assert_ne!(a.wrapped, b.wrapped);
    }
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
    sealed_values_read_back_intact,
    legacy_plaintext_is_readable_then_sealed,
    rotation_rewraps_data_keys_only
);
