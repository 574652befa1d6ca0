//! The behavioural store suite, run against every backend: SQLite always, PostgreSQL when
//! `CONCORD_TEST_POSTGRES_URL` is set at build time (each test in a fresh schema).

use concord_core::store::{
    Audience, ChannelUpdate, NewChannel, NewMessage, NewSession, NewUser, SendOutcome, Store,
    StoreError,
};
use concord_proto::{ChannelId, ChannelKind, Event, MemberRole, MessageId, UserId};
use concord_store::StoreConfig;
use jiff::Timestamp;
use std::sync::Arc;

/// A store plus what keeps its data alive, so a test can reopen it.
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

    async fn open(&self) -> Arc<dyn Store> {
        concord_store::open(&self.config).await.expect("open store")
    }
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(1_700_000_000_000 + ms).unwrap()
}

async fn user(store: &Arc<dyn Store>, name: &str) -> UserId {
    store
        .create_user(NewUser {
            username: name.into(),
            email: Some(format!("{name}@example.com")),
            display_name: name.to_uppercase(),
            password_hash: "$argon2id$fake".into(),
            is_admin: false,
            guest: false,
            search_key: String::new(),
            audit: None,
            created_at: at(0),
        })
        .await
        .unwrap()
        .id
}

async fn channel(
    store: &Arc<dyn Store>,
    name: &str,
    kind: ChannelKind,
    members: &[UserId],
) -> ChannelId {
    store
        .create_channel(NewChannel {
            kind,
            name: name.into(),
            topic: String::new(),
            purpose: String::new(),
            created_by: members[0],
            created_at: at(1),
            dm_key: None,
            members: members
                .iter()
                .enumerate()
                .map(|(i, u)| {
                    (
                        *u,
                        if i == 0 {
                            MemberRole::Admin
                        } else {
                            MemberRole::Member
                        },
                    )
                })
                .collect(),
        })
        .await
        .unwrap()
        .id
}

fn msg(channel: ChannelId, sender: UserId, text: &str) -> NewMessage {
    NewMessage {
        channel_id: channel,
        sender_id: sender,
        text: text.into(),
        client_msg_id: None,
        thread_root_id: None,
        mentions: Vec::new(),
        mention_all: false,
        created_at: at(10),
        files: Vec::new(),
    }
}

async fn send(store: &Arc<dyn Store>, m: NewMessage) -> concord_proto::Message {
    match store.send_message(m).await.unwrap() {
        SendOutcome::Created(m) => m,
        SendOutcome::Existing(m) => panic!("unexpected existing {m:?}"),
    }
}

async fn users_and_sessions(f: Fixture) {
    let store = f.open().await;
    let alice = user(&store, "alice").await;
    let dup = store
        .create_user(NewUser {
            username: "alice".into(),
            email: None,
            display_name: "x".into(),
            password_hash: "h".into(),
            is_admin: false,
            guest: false,
            search_key: String::new(),
            audit: None,
            created_at: at(0),
        })
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
    let by_email = store
        .user_by_login("ALICE@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_email.user.id, alice);
    assert_eq!(by_email.password_hash, "$argon2id$fake");
    assert!(store.user_by_login("nobody").await.unwrap().is_none());
    assert_eq!(
        store
            .users_by_usernames(&["alice".into(), "zed".into()])
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.count_users().await.unwrap(), 1);

    store
        .create_session(NewSession {
            token_hash: "h1".into(),
            user_id: alice,
            created_at: at(0),
            expires_at: at(100),
        })
        .await
        .unwrap();
    let s = store.session("h1").await.unwrap().unwrap();
    assert_eq!(
        (s.user_id, s.last_seen_at, s.expires_at),
        (alice, at(0), at(100))
    );
    store.touch_session("h1", at(50)).await.unwrap();
    assert_eq!(
        store.session("h1").await.unwrap().unwrap().last_seen_at,
        at(50)
    );
    store.delete_session("h1").await.unwrap();
    assert!(store.session("h1").await.unwrap().is_none());
    store.close().await;
}

async fn concurrent_sends_are_gapless_and_logged_in_order(f: Fixture) {
    let store = f.open().await;
    let mut committed = store.subscribe();
    let a = user(&store, "alice").await;
    let ch = channel(&store, "general", ChannelKind::Public, &[a]).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            send(&store, msg(ch, a, &format!("m{i}"))).await.seq
        }));
    }
    // A write that fails inside a batch does not disturb the others.
    let bad = store
        .send_message(msg(ChannelId(999_999), a, "nowhere"))
        .await;
    assert!(matches!(bad, Err(StoreError::NotFound(_))), "{bad:?}");
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap());
    }
    seqs.sort();
    assert_eq!(seqs, (1..=200).collect::<Vec<_>>());
    assert_eq!(store.channel(ch).await.unwrap().unwrap().last_seq, 200);

    // Committed batches arrive in log order, and message events in sequence order.
    let mut positions = Vec::new();
    let mut event_seqs = Vec::new();
    while event_seqs.len() < 200 {
        let batch = committed.recv().await.unwrap();
        for e in batch.iter() {
            positions.push(e.stored.position);
            if let Event::MessageCreated { message } = &e.stored.event {
                assert_eq!(e.audience, Audience::Channel(ch));
                event_seqs.push(message.seq);
            }
        }
    }
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(event_seqs, (1..=200).collect::<Vec<_>>());
    let page = store.messages_by_seq(ch, 198, 500).await.unwrap();
    assert_eq!(
        page.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![198, 199, 200]
    );
    store.close().await;
}

async fn client_msg_id_is_idempotent_across_reopen(f: Fixture) {
    let store = f.open().await;
    let a = user(&store, "alice").await;
    let ch = channel(&store, "general", ChannelKind::Public, &[a]).await;
    let keyed = NewMessage {
        client_msg_id: Some("k1".into()),
        ..msg(ch, a, "once")
    };
    let first = send(&store, keyed.clone()).await;
    match store.send_message(keyed.clone()).await.unwrap() {
        SendOutcome::Existing(m) => assert_eq!(m, first),
        other => panic!("{other:?}"),
    }
    store.close().await;
    let store = f.open().await;
    match store.send_message(keyed).await.unwrap() {
        SendOutcome::Existing(m) => assert_eq!(m.id, first.id),
        other => panic!("{other:?}"),
    }
    assert_eq!(store.channel(ch).await.unwrap().unwrap().last_seq, 1);
    store.close().await;
}

async fn edits_deletes_reactions_pins_and_threads(f: Fixture) {
    let store = f.open().await;
    let a = user(&store, "alice").await;
    let b = user(&store, "bob").await;
    let ch = channel(&store, "general", ChannelKind::Private, &[a, b]).await;
    let root = send(&store, msg(ch, a, "v1")).await;
    let reply = send(
        &store,
        NewMessage {
            thread_root_id: Some(root.id),
            ..msg(ch, b, "re")
        },
    )
    .await;
    assert_eq!(
        store.message(root.id).await.unwrap().unwrap().reply_count,
        1
    );
    assert_eq!(
        store.thread_replies(root.id, 10).await.unwrap(),
        vec![reply]
    );

    store
        .edit_message(root.id, "v2".into(), at(20))
        .await
        .unwrap();
    let edited = store
        .edit_message(root.id, "v3".into(), at(30))
        .await
        .unwrap();
    assert_eq!(
        (edited.text.as_str(), edited.edited_at),
        ("v3", Some(at(30)))
    );
    let versions: Vec<String> = store
        .message_versions(root.id)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.text)
        .collect();
    assert_eq!(versions, vec!["v1", "v2", "v3"]);

    assert!(
        store
            .set_reaction(root.id, b, "tada".into(), true, at(40))
            .await
            .unwrap()
    );
    assert!(
        !store
            .set_reaction(root.id, b, "tada".into(), true, at(41))
            .await
            .unwrap(),
        "already there"
    );
    assert!(store.set_pinned(root.id, a, true, at(42)).await.unwrap());
    assert!(!store.set_pinned(root.id, a, true, at(43)).await.unwrap());
    let m = store.message(root.id).await.unwrap().unwrap();
    assert!(m.pinned);
    assert_eq!(m.reactions.len(), 1);
    assert_eq!(store.pinned_messages(ch).await.unwrap().len(), 1);

    store.delete_message(root.id, at(50)).await.unwrap();
    let m = store.message(root.id).await.unwrap().unwrap();
    assert!(m.deleted && m.text.is_empty() && !m.pinned);
    let missing = store
        .edit_message(MessageId(424_242), "x".into(), at(60))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))));
    store.close().await;
}

async fn read_state_and_counts(f: Fixture) {
    let store = f.open().await;
    let a = user(&store, "alice").await;
    let b = user(&store, "bob").await;
    let ch = channel(&store, "general", ChannelKind::Public, &[a, b]).await;
    send(&store, msg(ch, a, "plain")).await;
    send(
        &store,
        NewMessage {
            mentions: vec![b],
            ..msg(ch, a, "@bob")
        },
    )
    .await;
    send(
        &store,
        NewMessage {
            mention_all: true,
            ..msg(ch, a, "@channel")
        },
    )
    .await;
    send(&store, msg(ch, b, "mine")).await;
    let mine = store.my_channels(b).await.unwrap();
    assert_eq!(
        (
            mine[0].unread_count,
            mine[0].mention_count,
            mine[0].last_read_seq
        ),
        (3, 2, 0)
    );
    assert_eq!(store.mark_read(ch, b, 2, at(70)).await.unwrap(), 2);
    let mine = store.my_channels(b).await.unwrap();
    assert_eq!((mine[0].unread_count, mine[0].mention_count), (1, 1));
    assert!(matches!(
        store.mark_read(ch, UserId(999), 1, at(71)).await,
        Err(StoreError::NotFound(_))
    ));
    // A member who joins later starts with everything before them read.
    let c = user(&store, "carol").await;
    store.add_members(ch, vec![c], a, at(72)).await.unwrap();
    assert_eq!(store.my_channels(c).await.unwrap()[0].unread_count, 0);
    store.close().await;
}

async fn event_log_audiences_snapshots_and_pruning(f: Fixture) {
    let store = f.open().await;
    let a = user(&store, "alice").await;
    let b = user(&store, "bob").await;
    let e = user(&store, "eve").await;
    let public = channel(&store, "public", ChannelKind::Public, &[a]).await;
    let private = channel(&store, "private", ChannelKind::Private, &[a, b]).await;
    send(&store, msg(private, a, "secret")).await;
    store.mark_read(private, b, 1, at(80)).await.unwrap();
    store
        .update_channel(
            public,
            ChannelUpdate {
                topic: Some("news".into()),
                ..Default::default()
            },
            at(81),
        )
        .await
        .unwrap();
    store.remove_member(private, b, a, at(82)).await.unwrap();

    let (channels, position) = store.membership_snapshot(b).await.unwrap();
    assert!(channels.is_empty());
    let kinds = |events: Vec<concord_proto::StoredEvent>| {
        events
            .into_iter()
            .map(|e| e.event.kind())
            .collect::<Vec<_>>()
    };
    // Bob sees public announcements, his own read marker and his removal; not the private
    // channel's traffic (he is no longer a member).
    assert_eq!(
        kinds(store.events_for_user(b, 0, position, 100).await.unwrap()),
        vec![
            "channel.created",
            "channel.read",
            "channel.updated",
            "member.left"
        ]
    );
    assert_eq!(
        kinds(store.events_for_user(e, 0, position, 100).await.unwrap()),
        vec!["channel.created", "channel.updated"]
    );
    assert_eq!(
        store
            .events_for_user(a, 0, position, 100)
            .await
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        store
            .events_for_user(a, 0, position, 2)
            .await
            .unwrap()
            .len(),
        2,
        "limit"
    );
    let (a_channels, _) = store.membership_snapshot(a).await.unwrap();
    assert_eq!(a_channels.len(), 2);

    assert_eq!(store.pruned_through().await.unwrap(), 0);
    let pruned = store.prune_events(at(81)).await.unwrap();
    assert_eq!(pruned, 4, "events before the cut");
    assert!(store.pruned_through().await.unwrap() > 0);
    assert_eq!(
        kinds(store.events_for_user(b, 0, position, 100).await.unwrap()),
        vec!["channel.updated", "member.left"]
    );
    let (_, after) = store.membership_snapshot(a).await.unwrap();
    assert_eq!(after, position, "pruning does not move the head");
    store.close().await;
}

async fn unique_names_and_dm_keys(f: Fixture) {
    let store = f.open().await;
    let a = user(&store, "alice").await;
    let b = user(&store, "bob").await;
    channel(&store, "Design", ChannelKind::Public, &[a]).await;
    let again = store
        .create_channel(NewChannel {
            kind: ChannelKind::Private,
            name: "DESIGN".into(),
            topic: String::new(),
            purpose: String::new(),
            created_by: a,
            created_at: at(1),
            dm_key: None,
            members: vec![(a, MemberRole::Admin)],
        })
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    let dm = |key: &str| NewChannel {
        kind: ChannelKind::Dm,
        name: String::new(),
        topic: String::new(),
        purpose: String::new(),
        created_by: a,
        created_at: at(1),
        dm_key: Some(key.into()),
        members: vec![(a, MemberRole::Member), (b, MemberRole::Member)],
    };
    let first = store.create_channel(dm("1,2")).await.unwrap();
    assert!(matches!(
        store.create_channel(dm("1,2")).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.channel_by_dm_key("1,2").await.unwrap().unwrap().id,
        first.id
    );
    assert_eq!(store.members(first.id).await.unwrap().len(), 2);
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
    users_and_sessions,
    concurrent_sends_are_gapless_and_logged_in_order,
    client_msg_id_is_idempotent_across_reopen,
    edits_deletes_reactions_pins_and_threads,
    read_state_and_counts,
    event_log_audiences_snapshots_and_pruning,
    unique_names_and_dm_keys,
);

// Apps and bot tokens (after the macros, which it uses).
#[path = "store/apps.rs"]
mod apps;

// File search: the rebuild's read of every live file.
#[path = "store/file_search.rs"]
mod file_search;
