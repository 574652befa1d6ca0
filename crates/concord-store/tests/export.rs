//! The export reads on every backend (SQLite always, PostgreSQL when
//! `CONCORD_TEST_POSTGRES_URL` is set at build time): the scope's channels, people and
//! `[from, to)` range exactly, deleted messages with their last text, every version, reactions
//! by message and by person, file versions by channel and uploader, and paging by key.

use concord_core::store::{
    ExportScope, NewChannel, NewFile, NewFileVersion, NewMessage, NewUser, SendOutcome, Store,
};
use concord_proto::{ChannelId, ChannelKind, FileId, MemberRole, MessageId, UserId};
use concord_store::StoreConfig;
use jiff::Timestamp;
use std::collections::BTreeSet;
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

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(1_700_000_000_000 + ms).unwrap()
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

async fn send(store: &Arc<dyn Store>, channel: ChannelId, sender: UserId, ms: i64) -> MessageId {
    let new = NewMessage {
        channel_id: channel,
        sender_id: sender,
        text: format!("sent at {ms}"),
        client_msg_id: None,
        thread_root_id: None,
        mentions: vec![],
        mention_all: false,
        created_at: at(ms),
        files: Vec::new(),
    };
    match store.send_message(new).await.unwrap() {
        SendOutcome::Created(m) => m.id,
        SendOutcome::Existing(_) => panic!("not a retry"),
    }
}

fn version(sha: &str, by: UserId, ms: i64) -> NewFileVersion {
    NewFileVersion {
        sha256: sha.repeat(64),
        size: 10,
        mime: "text/plain".into(),
        width: None,
        height: None,
        uploaded_by: by,
        uploaded_at: at(ms),
        comment: None,
        restored_from: None,
    }
}

async fn exports_exactly_the_scope(f: Fixture) {
    let store = f.open().await;
    let a = user(&store, "alice").await;
    let b = user(&store, "bob").await;
    let c1 = channel(&store, "finance", &[a, b]).await;
    let c2 = channel(&store, "other", &[a, b]).await;
    send(&store, c1, a, 99).await;
    let first = send(&store, c1, a, 100).await;
    let second = send(&store, c1, b, 150).await;
    send(&store, c2, a, 150).await;
    send(&store, c1, a, 200).await;
    store
        .edit_message(second, "v2".into(), at(160))
        .await
        .unwrap();
    store
        .edit_message(second, "v3".into(), at(170))
        .await
        .unwrap();
    store.delete_message(first, at(180)).await.unwrap();
    store
        .set_reaction(first, b, "👍".into(), true, at(181))
        .await
        .unwrap();
    store
        .set_reaction(first, a, "🎉".into(), true, at(182))
        .await
        .unwrap();

    let scope = ExportScope {
        channels: vec![c1],
        users: vec![],
        from: Some(at(100)),
        to: Some(at(200)),
    };
    let all = store.export_messages(&scope, None, 100).await.unwrap();
    let ids: Vec<MessageId> = all.iter().map(|m| m.id).collect();
    assert_eq!(
        ids,
        [first, second],
        "from inclusive, to exclusive, one channel"
    );
    assert_eq!(all[0].deleted_at, Some(at(180)));
    assert_eq!(
        all[0].text, "sent at 100",
        "a deleted message keeps its last text"
    );
    assert_eq!(all[0].sender_username, "alice");
    assert_eq!(all[0].channel_name, "finance");
    assert_eq!(all[1].text, "v3");
    assert_eq!(all[1].edited_at, Some(at(170)));

    // Paging by key returns the same rows, one at a time.
    let mut paged = Vec::new();
    let mut after = None;
    while let Some(m) = store.export_messages(&scope, after, 1).await.unwrap().pop() {
        after = Some(m.id);
        paged.push(m);
    }
    assert_eq!(paged, all);

    // People narrow the channels.
    let bobs = ExportScope {
        users: vec![b],
        ..scope.clone()
    };
    let ids: Vec<_> = store
        .export_messages(&bobs, None, 100)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, [second]);

    let versions = store.export_versions(&[first, second]).await.unwrap();
    let texts: Vec<_> = versions
        .iter()
        .map(|v| (v.message_id, v.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [(second, "sent at 150"), (second, "v2"), (second, "v3")]
    );
    let reactions = store.export_reactions(&[first, second]).await.unwrap();
    let emoji: Vec<_> = reactions
        .iter()
        .map(|r| (r.username.as_str(), r.emoji.as_str()))
        .collect();
    assert_eq!(emoji, [("bob", "👍"), ("alice", "🎉")]);
    assert!(reactions.iter().all(|r| r.channel_id == c1));
    let by_alice = store.export_user_reactions(a, None, 100).await.unwrap();
    assert_eq!(by_alice.len(), 1);
    assert_eq!(by_alice[0].emoji, "🎉");
    let key = (by_alice[0].message_id, by_alice[0].emoji.clone());
    assert!(
        store
            .export_user_reactions(a, Some(key), 100)
            .await
            .unwrap()
            .is_empty()
    );

    // Files: by the file's channel and by uploader, versions in range, paged.
    let file = store
        .create_file(NewFile {
            channel_id: c1,
            name: "报告.txt".into(),
            sensitive: false,
            first: version("a", a, 120),
        })
        .await
        .unwrap();
    store
        .add_file_version(file.id, version("b", b, 130))
        .await
        .unwrap();
    store
        .create_file(NewFile {
            channel_id: c2,
            name: "x.txt".into(),
            sensitive: false,
            first: version("c", a, 120),
        })
        .await
        .unwrap();
    let in_c1 = store.export_file_versions(&scope, None, 100).await.unwrap();
    let keys: Vec<(FileId, i64)> = in_c1.iter().map(|v| (v.file_id, v.version)).collect();
    assert_eq!(keys, [(file.id, 1), (file.id, 2)]);
    assert_eq!(in_c1[0].name, "报告.txt");
    assert_eq!(in_c1[1].uploader_username, "bob");
    let page = store
        .export_file_versions(&scope, Some((file.id, 1)), 100)
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].version, 2);
    let bob_files = store.export_file_versions(&bobs, None, 100).await.unwrap();
    assert_eq!(bob_files.len(), 1);
    let everywhere = ExportScope {
        users: vec![a],
        ..ExportScope::default()
    };
    let channels: BTreeSet<ChannelId> = store
        .export_file_versions(&everywhere, None, 100)
        .await
        .unwrap()
        .iter()
        .map(|v| v.channel_id)
        .collect();
    assert_eq!(channels, BTreeSet::from([c1, c2]));
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

all_backends!(exports_exactly_the_scope);
