//! Measures the SQLite store's send path alone: many concurrent `send_message` calls through
//! group commit, reporting messages/s and the writer thread's CPU time per message. It isolates
//! the writer from HTTP, WebSocket and the load generator, so changes to the write path can be
//! compared even on a busy machine (CPU time per message moves far less than wall time).
//!
//!   cargo run --release -p concord-store --example send_throughput -- [messages] [channels] [senders]

use concord_core::store::{NewChannel, NewMessage, NewUser, Store};
use concord_proto::{ChannelKind, MemberRole};
use concord_store::StoreConfig;
use std::sync::Arc;
use std::time::Instant;

/// CPU seconds used so far by this process's thread whose name starts with `prefix`.
fn thread_cpu_seconds(prefix: &str) -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let mut total = 0.0;
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.trim().starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised name: state is field 3; utime 14, stime 15.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let utime: f64 = fields.get(11).and_then(|f| f.parse().ok()).unwrap_or(0.0);
        let stime: f64 = fields.get(12).and_then(|f| f.parse().ok()).unwrap_or(0.0);
        total += (utime + stime) / ticks;
    }
    total
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let messages = args.first().copied().unwrap_or(200_000);
    let channels = args.get(1).copied().unwrap_or(100);
    let senders = args.get(2).copied().unwrap_or(1_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn Store> = concord_store::open(&StoreConfig::Sqlite {
        path: dir.path().join("concord.db"),
    })
    .await
    .expect("open store");
    let now = jiff::Timestamp::now();
    let mut users = Vec::new();
    for i in 0..senders {
        let user = store
            .create_user(NewUser {
                username: format!("u{i}"),
                email: None,
                display_name: format!("User {i}"),
                password_hash: "x".into(),
                is_admin: false,
                guest: false,
                search_key: String::new(),
                audit: None,
                created_at: now,
            })
            .await
            .expect("user");
        users.push(user.id);
    }
    let mut channel_ids = Vec::new();
    for c in 0..channels {
        let members = users
            .iter()
            .enumerate()
            .filter(|(i, _)| i % channels == c)
            .map(|(_, u)| (*u, MemberRole::Member))
            .collect();
        let channel = store
            .create_channel(NewChannel {
                kind: ChannelKind::Public,
                name: format!("c{c}"),
                topic: String::new(),
                purpose: String::new(),
                created_by: users[c % senders],
                created_at: now,
                dm_key: None,
                members,
            })
            .await
            .expect("channel");
        channel_ids.push(channel.id);
    }
    let per_sender = messages / senders;
    let cpu_before = thread_cpu_seconds("concord-sqlite");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, user) in users.iter().copied().enumerate() {
        let store = store.clone();
        let channel = channel_ids[i % channels];
        tasks.push(tokio::spawn(async move {
            for k in 0..per_sender {
                store
                    .send_message(NewMessage {
                        channel_id: channel,
                        sender_id: user,
                        text: format!(
                            "message {k} from {i}: the quick brown fox jumps over the lazy dog"
                        ),
                        client_msg_id: Some(format!("{i}-{k}-0123456789abcdef")),
                        thread_root_id: None,
                        mentions: Vec::new(),
                        mention_all: false,
                        created_at: jiff::Timestamp::now(),
                        files: Vec::new(),
                    })
                    .await
                    .expect("send");
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = thread_cpu_seconds("concord-sqlite") - cpu_before;
    let sent = (per_sender * senders) as f64;
    println!(
        "{{\"messages\":{sent},\"channels\":{channels},\"senders\":{senders},\"wall_s\":{wall:.2},\"msgs_per_s\":{:.0},\"writer_cpu_us_per_msg\":{:.1}}}",
        sent / wall,
        cpu * 1e6 / sent
    );
    store.close().await;
}
