//! Bulk import of messages from JSON Lines: `{"channel", "sender", "ts", "text"}` per line
//! (`ts`: RFC 3339 with an offset, or Unix milliseconds).
//!
//! Missing public channels (by name) and users (by username, with an unusable password: they
//! sign in once an admin sets one or a directory links them) are created; senders join the
//! channel they post in. Messages go through the store's ordinary send path with their
//! original timestamps, so they get events, sequence numbers and search indexing like any
//! other; many sends are in flight at once (the writer group-commits them), but each channel's
//! sends are issued one after another, so each channel keeps the file's order (sequence numbers
//! follow the file). The file should be in time order within each channel, as an export is.

use concord_core::store::{NewChannel, NewMessage, NewUser, SendOutcome};
use concord_core::{Store, StoreError, mentions, validate};
use concord_proto::{
    ChannelId, ChannelKind, ImportProblem, ImportSummary, MemberRole, Position, UserId,
};
use jiff::Timestamp;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Channels' send queues: sends of one channel go to one worker, in order.
const WORKERS: usize = 64;
const MAX_PROBLEMS: usize = 100;
const MAX_CHANNEL_NAME: usize = 80;
/// Longest text imported, in characters (longer lines are skipped).
const MAX_TEXT_CHARS: usize = 64_000;
/// Unusable as an Argon2 hash, so nobody can sign in with a password until one is set.
const NO_PASSWORD: &str = "!imported";

#[derive(Deserialize)]
struct Line {
    channel: String,
    sender: String,
    ts: serde_json::Value,
    text: String,
}

fn parse_ts(value: &serde_json::Value) -> Result<Timestamp, String> {
    match value {
        serde_json::Value::String(s) => s
            .parse::<Timestamp>()
            .map_err(|e| format!("ts {s:?} is not an RFC 3339 time with an offset: {e}")),
        serde_json::Value::Number(n) => n
            .as_i64()
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
            .ok_or_else(|| format!("ts {n} is not a time in Unix milliseconds")),
        other => Err(format!("ts must be a string or a number, not {other}")),
    }
}

/// Progress callback: messages read so far, imported so far.
pub type Progress = Box<dyn FnMut(&ImportSummary, u64) + Send>;

/// Imports the lines of `input` as `actor` (who creates the channels; `None`: each channel's
/// first sender). Returns the summary and the log position of the last message imported.
pub async fn import<R: tokio::io::AsyncBufRead + Unpin>(
    store: Arc<dyn Store>,
    mut input: R,
    actor: Option<UserId>,
    mut progress: Option<Progress>,
) -> Result<(ImportSummary, Position), StoreError> {
    use tokio::io::AsyncBufReadExt;
    let mut state = Importer::new(store.clone(), actor).await?;
    let mut senders = Vec::with_capacity(WORKERS);
    let mut workers = JoinSet::new();
    for _ in 0..WORKERS {
        let (tx, rx) = mpsc::channel::<(u64, NewMessage)>(256);
        senders.push(tx);
        workers.spawn(send_all(store.clone(), rx));
    }
    let mut line = String::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let read = input.read_line(&mut line).await;
        match read {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                state.problem(number + 1, format!("unreadable input: {e}"));
                break;
            }
        }
        number += 1;
        if line.trim().is_empty() {
            continue;
        }
        match state.prepare(&line).await {
            Ok(message) => {
                let worker = worker_of(message.channel_id);
                if senders[worker].send((number, message)).await.is_err() {
                    break;
                }
            }
            Err(Failure::Line(msg)) => state.problem(number, msg),
            Err(Failure::Store(e)) => return Err(e),
        }
        if let Some(report) = progress.as_mut()
            && number.is_multiple_of(10_000)
        {
            report(&state.summary, number);
        }
    }
    drop(senders);
    let mut position = 0;
    while let Some(done) = workers.join_next().await {
        let outcome = done.map_err(|e| StoreError::Unavailable(format!("import worker: {e}")))?;
        state.summary.imported += outcome.imported;
        position = position.max(outcome.position);
        for (line, message) in outcome.problems {
            state.problem(line, message);
        }
    }
    if let Some(report) = progress.as_mut() {
        report(&state.summary, number);
    }
    Ok((state.summary, position))
}

fn worker_of(channel: ChannelId) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    channel.0.hash(&mut hasher);
    (hasher.finish() % WORKERS as u64) as usize
}

#[derive(Default)]
struct WorkerOutcome {
    imported: u64,
    position: Position,
    problems: Vec<(u64, String)>,
}

/// Sends one channel group's messages in order.
async fn send_all(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<(u64, NewMessage)>,
) -> WorkerOutcome {
    let mut outcome = WorkerOutcome::default();
    while let Some((line, message)) = rx.recv().await {
        match store.send_message(message).await {
            Ok(SendOutcome::Created(_)) | Ok(SendOutcome::Existing(_)) => outcome.imported += 1,
            Err(e) => {
                if outcome.problems.len() < MAX_PROBLEMS {
                    outcome.problems.push((line, format!("not stored: {e}")));
                }
            }
        }
    }
    outcome.position = store.log_head().await.unwrap_or(0);
    outcome
}

enum Failure {
    Line(String),
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

struct Importer {
    store: Arc<dyn Store>,
    actor: Option<UserId>,
    channels: HashMap<String, ChannelId>,
    users: HashMap<String, UserId>,
    joined: HashSet<(ChannelId, UserId)>,
    summary: ImportSummary,
}

impl Importer {
    async fn new(store: Arc<dyn Store>, actor: Option<UserId>) -> Result<Self, StoreError> {
        let mut channels = HashMap::new();
        let mut after = 0;
        loop {
            let page = store.public_channels(after, 500).await?;
            let Some(last) = page.last() else { break };
            after = last.id.0;
            for channel in page {
                channels.entry(channel.name.clone()).or_insert(channel.id);
            }
        }
        Ok(Importer {
            store,
            actor,
            channels,
            users: HashMap::new(),
            joined: HashSet::new(),
            summary: ImportSummary::default(),
        })
    }

    fn problem(&mut self, line: u64, message: String) {
        self.summary.skipped += 1;
        if self.summary.problems.len() < MAX_PROBLEMS {
            self.summary.problems.push(ImportProblem { line, message });
        }
    }

    async fn prepare(&mut self, raw: &str) -> Result<NewMessage, Failure> {
        let line: Line = serde_json::from_str(raw.trim()).map_err(|e| {
            Failure::Line(format!(
                "not a JSON object with channel, sender, ts, text: {e}"
            ))
        })?;
        let at = parse_ts(&line.ts).map_err(Failure::Line)?;
        if line.text.trim().is_empty() {
            return Err(Failure::Line("empty text".into()));
        }
        if line.text.chars().count() > MAX_TEXT_CHARS {
            return Err(Failure::Line(format!(
                "text longer than {MAX_TEXT_CHARS} characters"
            )));
        }
        let sender = self.user(&line.sender, at).await?;
        let channel = self.channel(&line.channel, sender, at).await?;
        if self.joined.insert((channel, sender)) {
            self.store
                .add_members(channel, vec![sender], sender, at)
                .await?;
        }
        let found = mentions::parse(&line.text);
        let mut mentioned = Vec::new();
        for name in &found.usernames {
            if let Some(id) = self.known_user(name).await? {
                mentioned.push(id);
            }
        }
        Ok(NewMessage {
            channel_id: channel,
            sender_id: sender,
            text: line.text,
            client_msg_id: None,
            thread_root_id: None,
            mentions: mentioned,
            mention_all: found.channel,
            created_at: at,
            files: Vec::new(),
        })
    }

    /// An existing active user by username, remembered.
    async fn known_user(&mut self, username: &str) -> Result<Option<UserId>, StoreError> {
        if let Some(id) = self.users.get(username) {
            return Ok(Some(*id));
        }
        let found = self
            .store
            .users_by_usernames(&[username.to_string()])
            .await?;
        Ok(found.first().map(|user| {
            self.users.insert(username.to_string(), user.id);
            user.id
        }))
    }

    async fn user(&mut self, raw: &str, at: Timestamp) -> Result<UserId, Failure> {
        let username =
            validate::username(raw).map_err(|e| Failure::Line(format!("sender {raw:?}: {e}")))?;
        if let Some(id) = self.known_user(&username).await? {
            return Ok(id);
        }
        let created = self
            .store
            .create_user(NewUser {
                username: username.clone(),
                email: None,
                display_name: username.clone(),
                password_hash: NO_PASSWORD.into(),
                is_admin: false,
                guest: false,
                search_key: concord_core::service::search_key(&username, &username, None, None),
                created_at: at,
                audit: None,
            })
            .await;
        let user = match created {
            Ok(user) => {
                self.summary.users_created += 1;
                user
            }
            // Taken meanwhile, or by a deactivated account: not importable under that name.
            Err(StoreError::Conflict(_)) => match self.known_user(&username).await? {
                Some(id) => return Ok(id),
                None => {
                    return Err(Failure::Line(format!(
                        "sender {username:?} exists but is not active"
                    )));
                }
            },
            Err(e) => return Err(e.into()),
        };
        self.users.insert(username, user.id);
        Ok(user.id)
    }

    async fn channel(
        &mut self,
        raw: &str,
        sender: UserId,
        at: Timestamp,
    ) -> Result<ChannelId, Failure> {
        let name = validate::label("channel", raw, MAX_CHANNEL_NAME)
            .map_err(|e| Failure::Line(format!("channel {raw:?}: {e}")))?;
        if let Some(id) = self.channels.get(&name) {
            return Ok(*id);
        }
        let creator = self.actor.unwrap_or(sender);
        let channel = self
            .store
            .create_channel(NewChannel {
                kind: ChannelKind::Public,
                name: name.clone(),
                topic: String::new(),
                purpose: String::new(),
                created_by: creator,
                created_at: at,
                dm_key: None,
                members: vec![(creator, MemberRole::Admin)],
            })
            .await?;
        self.summary.channels_created += 1;
        self.joined.insert((channel.id, creator));
        self.channels.insert(name, channel.id);
        Ok(channel.id)
    }
}
