// The store implementation shared by the SQLite and PostgreSQL backends.
//
// This file is `include!`d by `sqlite.rs` and `postgres.rs`, each of which first defines
// `Db`, `DbConn`, `DbPool`, `DbRow`, `BACKEND`, `lock_log_for_append` and `begin_snapshot`.
// The SQL below is written once in the dialect both accept (`$n` parameters, `RETURNING`,
// `ON CONFLICT`), so the two backends cannot drift apart.

use async_trait::async_trait;
use concord_core::store::{
    Audience, ChannelUpdate, CommittedBatch, CommittedEvent, Membership, NewChannel, NewMessage, NewSession,
    NewUser, SendOutcome, SessionRecord, Store, StoreError, UserRecord,
};
use concord_proto::{
    Channel, ChannelId, ChannelKind, Event, Member, MemberRole, Message, MessageId, MessageVersion, MyChannel,
    Position, Reaction, StoredEvent, User, UserId,
};
use jiff::Timestamp;
use sqlx::{Acquire, Connection, QueryBuilder, Row};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{broadcast, mpsc, oneshot};

/// `format!` for SQL assembled from this file's own constant column lists (never user input).
macro_rules! sqlf {
    ($($arg:tt)*) => {
        sqlx::AssertSqlSafe(format!($($arg)*))
    };
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
/// Completes a job once its batch has committed (or failed to).
type Finisher = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// One write, run inside the writer's transaction under its own savepoint.
type Job = Box<dyn for<'c> FnOnce(&'c mut DbConn, &'c mut Vec<CommittedEvent>) -> BoxFuture<'c, Option<Finisher>> + Send>;

/// Most jobs folded into one transaction.
const MAX_BATCH: usize = 1024;
/// Jobs waiting for the writer before senders wait too (backpressure).
const QUEUE_DEPTH: usize = 16 * 1024;

/// A store on one database. Reads go to a pool; writes are queued to a single writer task
/// that folds whatever is waiting into one transaction (group commit), so every
/// acknowledged write is durable while throughput grows with load.
pub struct SqlStore {
    read: DbPool,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    committed: broadcast::Sender<CommittedBatch>,
    pools: Vec<DbPool>,
}

impl SqlStore {
    fn start(read: DbPool, write: DbPool) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let (committed, _) = broadcast::channel(4096);
        let writer = tokio::spawn(run_writer(write.clone(), rx, committed.clone()));
        Self {
            pools: vec![read.clone(), write],
            read,
            jobs: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
            committed,
        }
    }

    /// Queues `f` for the writer and waits until its batch has committed.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut DbConn, &'c mut Vec<CommittedEvent>) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |conn, events| {
            Box::pin(async move {
                match f(conn, events).await {
                    Ok(value) => Some(Box::new(move |commit: Result<(), StoreError>| {
                        let _ = reply.send(commit.map(|()| value));
                    }) as Finisher),
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        None
                    }
                }
            })
        });
        let sender = self.jobs.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let sender = sender.ok_or_else(|| StoreError::Unavailable("the store is shutting down".into()))?;
        sender.send(job).await.map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        answer.await.map_err(|_| StoreError::Unavailable("the write was abandoned".into()))?
    }
}

async fn run_writer(pool: DbPool, mut jobs: mpsc::Receiver<Job>, committed: broadcast::Sender<CommittedBatch>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let size = batch.len();
        let mut events = Vec::new();
        let mut finishers = Vec::with_capacity(size);
        let result = commit_batch(&pool, batch.drain(..), &mut events, &mut finishers).await;
        metrics::histogram!("concord_store_commit_seconds", "backend" => BACKEND)
            .record(started.elapsed().as_secs_f64());
        metrics::histogram!("concord_store_batch_size", "backend" => BACKEND).record(size as f64);
        match result {
            Ok(()) => {
                for finish in finishers {
                    finish(Ok(()));
                }
                if !events.is_empty() {
                    let _ = committed.send(Arc::new(events));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, backend = BACKEND, "group commit failed");
                let err = StoreError::Unavailable(format!("commit failed: {e}"));
                for finish in finishers {
                    finish(Err(err.clone()));
                }
            }
        }
    }
}

async fn commit_batch(
    pool: &DbPool,
    batch: impl Iterator<Item = Job>,
    events: &mut Vec<CommittedEvent>,
    finishers: &mut Vec<Finisher>,
) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let mut tx = conn.begin().await?;
    lock_log_for_append(&mut tx).await?;
    for job in batch {
        let mark = events.len();
        let mut savepoint = tx.begin().await?;
        match job(&mut savepoint, events).await {
            Some(finish) => {
                savepoint.commit().await?;
                finishers.push(finish);
            }
            None => {
                savepoint.rollback().await?;
                events.truncate(mark);
            }
        }
    }
    tx.commit().await
}

fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound("row"),
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_string()),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound("referenced record"),
        _ => StoreError::Unavailable(e.to_string()),
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

const USER_COLS: &str = "id, username, email, display_name, is_admin, created_at";

fn user_from_row(row: &DbRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        is_admin: row.try_get("is_admin")?,
        created_at: ts(row.try_get("created_at")?),
    })
}

const CHANNEL_COLS: &str = "c.id, c.kind, c.name, c.topic, c.purpose, c.created_by, c.created_at, c.last_seq";

fn channel_from_row(row: &DbRow) -> Result<Channel, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    Ok(Channel {
        id: ChannelId(row.try_get("id")?),
        kind: ChannelKind::parse(&kind).ok_or_else(|| sqlx::Error::Decode(format!("channel kind {kind}").into()))?,
        name: row.try_get("name")?,
        topic: row.try_get("topic")?,
        purpose: row.try_get("purpose")?,
        created_by: UserId(row.try_get("created_by")?),
        created_at: ts(row.try_get("created_at")?),
        last_seq: row.try_get("last_seq")?,
    })
}

fn role_from(s: &str) -> Result<MemberRole, sqlx::Error> {
    MemberRole::parse(s).ok_or_else(|| sqlx::Error::Decode(format!("member role {s}").into()))
}

const MSG_COLS: &str = "m.id, m.channel_id, m.seq, m.sender_id, m.body, m.thread_root_id, m.reply_count, \
                        m.client_msg_id, m.created_at, m.edited_at, m.deleted_at, m.pinned_at";

fn message_from_row(row: &DbRow) -> Result<Message, sqlx::Error> {
    let deleted = row.try_get::<Option<i64>, _>("deleted_at")?.is_some();
    Ok(Message {
        id: MessageId(row.try_get("id")?),
        channel_id: ChannelId(row.try_get("channel_id")?),
        seq: row.try_get("seq")?,
        sender_id: UserId(row.try_get("sender_id")?),
        text: if deleted { String::new() } else { row.try_get("body")? },
        thread_root_id: row.try_get::<Option<i64>, _>("thread_root_id")?.map(MessageId),
        reply_count: row.try_get("reply_count")?,
        client_msg_id: row.try_get("client_msg_id")?,
        created_at: ts(row.try_get("created_at")?),
        edited_at: row.try_get::<Option<i64>, _>("edited_at")?.map(ts),
        deleted,
        pinned: row.try_get::<Option<i64>, _>("pinned_at")?.is_some(),
        reactions: Vec::new(),
    })
}

/// Fills in `reactions` for the given messages with one query.
async fn attach_reactions<'e, E>(exec: E, messages: &mut [Message]) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    if messages.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::<Db>::new("SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN (");
    let mut list = q.separated(", ");
    for m in messages.iter() {
        list.push_bind(m.id.0);
    }
    q.push(") ORDER BY created_at, user_id");
    let rows = q.build().fetch_all(exec).await?;
    for row in rows {
        let id = MessageId(row.try_get("message_id")?);
        let emoji: String = row.try_get("emoji")?;
        let user = UserId(row.try_get("user_id")?);
        if let Some(m) = messages.iter_mut().find(|m| m.id == id) {
            match m.reactions.iter_mut().find(|r| r.emoji == emoji) {
                Some(r) => r.user_ids.push(user),
                None => m.reactions.push(Reaction { emoji, user_ids: vec![user] }),
            }
        }
    }
    Ok(())
}

async fn load_message(conn: &mut DbConn, id: MessageId) -> Result<Option<Message>, sqlx::Error> {
    let row = sqlx::query(sqlf!("SELECT {MSG_COLS} FROM messages m WHERE m.id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut msgs = vec![message_from_row(&row)?];
    attach_reactions(&mut *conn, &mut msgs).await?;
    Ok(msgs.pop())
}

async fn load_channel(conn: &mut DbConn, id: ChannelId) -> Result<Option<Channel>, sqlx::Error> {
    let row = sqlx::query(sqlf!("SELECT {CHANNEL_COLS} FROM channels c WHERE c.id = $1"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(channel_from_row).transpose()
}

/// Appends an event to the log inside the current transaction.
async fn append_event(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    audience: Audience,
    at: Timestamp,
    event: Event,
) -> Result<(), StoreError> {
    let payload = serde_json::to_string(&event).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let position: i64 = sqlx::query_scalar(
        "INSERT INTO events (created_at, channel_id, user_id, kind, payload) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(ms(at))
    .bind(audience.channel().map(|c| c.0))
    .bind(audience.user().map(|u| u.0))
    .bind(event.kind())
    .bind(payload)
    .fetch_one(&mut *conn)
    .await
    .map_err(map_err)?;
    events.push(CommittedEvent { stored: StoredEvent { position, at, event }, audience });
    Ok(())
}

fn channel_audience(channel: &Channel) -> Audience {
    if channel.kind == ChannelKind::Public { Audience::Everyone } else { Audience::Channel(channel.id) }
}

// ---- writes (each runs inside the writer's transaction) ----

async fn op_create_user(conn: &mut DbConn, u: NewUser) -> Result<User, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, email, display_name, password_hash, is_admin, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&u.username)
    .bind(&u.email)
    .bind(&u.display_name)
    .bind(&u.password_hash)
    .bind(u.is_admin)
    .bind(ms(u.created_at))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match map_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict("username or email is already taken".into()),
        other => other,
    })?;
    Ok(User {
        id: UserId(id),
        username: u.username,
        email: u.email,
        display_name: u.display_name,
        is_admin: u.is_admin,
        created_at: u.created_at,
    })
}

async fn op_create_channel(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    c: NewChannel,
) -> Result<Channel, StoreError> {
    let name_key = (!c.kind.is_direct()).then(|| c.name.to_lowercase());
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO channels (kind, name, name_key, dm_key, topic, purpose, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(c.kind.as_str())
    .bind(&c.name)
    .bind(name_key)
    .bind(&c.dm_key)
    .bind(&c.topic)
    .bind(&c.purpose)
    .bind(c.created_by.0)
    .bind(ms(c.created_at))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match map_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict("a channel with this name already exists".into()),
        other => other,
    })?;
    let channel = Channel {
        id: ChannelId(id),
        kind: c.kind,
        name: c.name,
        topic: c.topic,
        purpose: c.purpose,
        created_by: c.created_by,
        created_at: c.created_at,
        last_seq: 0,
    };
    for (user, role) in &c.members {
        insert_member(conn, channel.id, *user, *role, c.created_at).await?;
    }
    let member_ids = c.members.iter().map(|(u, _)| *u).collect();
    let event = Event::ChannelCreated { channel: channel.clone(), member_ids };
    append_event(conn, events, channel_audience(&channel), c.created_at, event).await?;
    Ok(channel)
}

async fn insert_member(
    conn: &mut DbConn,
    channel: ChannelId,
    user: UserId,
    role: MemberRole,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO channel_members (channel_id, user_id, role, joined_at, last_read_seq) \
         SELECT $1, $2, $3, $4, c.last_seq FROM channels c WHERE c.id = $1 \
         ON CONFLICT (channel_id, user_id) DO NOTHING",
    )
    .bind(channel.0)
    .bind(user.0)
    .bind(role.as_str())
    .bind(ms(at))
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() == 1)
}

async fn op_update_channel(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    id: ChannelId,
    u: ChannelUpdate,
    at: Timestamp,
) -> Result<Channel, StoreError> {
    let name_key = u.name.as_ref().map(|n| n.to_lowercase());
    let done = sqlx::query(
        "UPDATE channels SET name = COALESCE($2, name), name_key = COALESCE($3, name_key), \
         topic = COALESCE($4, topic), purpose = COALESCE($5, purpose) WHERE id = $1",
    )
    .bind(id.0)
    .bind(&u.name)
    .bind(name_key)
    .bind(&u.topic)
    .bind(&u.purpose)
    .execute(&mut *conn)
    .await
    .map_err(|e| match map_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict("a channel with this name already exists".into()),
        other => other,
    })?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound("channel"));
    }
    let channel = load_channel(conn, id).await.map_err(map_err)?.ok_or(StoreError::NotFound("channel"))?;
    append_event(conn, events, channel_audience(&channel), at, Event::ChannelUpdated { channel: channel.clone() }).await?;
    Ok(channel)
}

async fn op_add_members(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    channel: ChannelId,
    users: Vec<UserId>,
    actor: UserId,
    at: Timestamp,
) -> Result<Vec<UserId>, StoreError> {
    let mut added = Vec::new();
    for user in users {
        if insert_member(conn, channel, user, MemberRole::Member, at).await? {
            let event = Event::MemberJoined { channel_id: channel, user_id: user, actor_id: actor };
            append_event(conn, events, Audience::Channel(channel), at, event).await?;
            added.push(user);
        }
    }
    Ok(added)
}

async fn op_remove_member(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    channel: ChannelId,
    user: UserId,
    actor: UserId,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2")
        .bind(channel.0)
        .bind(user.0)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let event = Event::MemberLeft { channel_id: channel, user_id: user, actor_id: actor };
    append_event(conn, events, Audience::ChannelAndUser(channel, user), at, event).await?;
    Ok(true)
}

async fn op_send_message(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    m: NewMessage,
) -> Result<SendOutcome, StoreError> {
    if let Some(key) = &m.client_msg_id {
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM messages WHERE sender_id = $1 AND client_msg_id = $2")
                .bind(m.sender_id.0)
                .bind(key)
                .fetch_optional(&mut *conn)
                .await
                .map_err(map_err)?;
        if let Some(id) = existing {
            let msg = load_message(conn, MessageId(id)).await.map_err(map_err)?.ok_or(StoreError::NotFound("message"))?;
            return Ok(SendOutcome::Existing(msg));
        }
    }
    let seq: Option<i64> = sqlx::query_scalar("UPDATE channels SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq")
        .bind(m.channel_id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    let seq = seq.ok_or(StoreError::NotFound("channel"))?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (channel_id, seq, sender_id, body, thread_root_id, client_msg_id, mention_all, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(m.channel_id.0)
    .bind(seq)
    .bind(m.sender_id.0)
    .bind(&m.text)
    .bind(m.thread_root_id.map(|r| r.0))
    .bind(&m.client_msg_id)
    .bind(m.mention_all)
    .bind(ms(m.created_at))
    .fetch_one(&mut *conn)
    .await
    .map_err(map_err)?;
    for user in &m.mentions {
        sqlx::query("INSERT INTO message_mentions (message_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(user.0)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    if let Some(root) = m.thread_root_id {
        sqlx::query("UPDATE messages SET reply_count = reply_count + 1 WHERE id = $1")
            .bind(root.0)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    let message = Message {
        id: MessageId(id),
        channel_id: m.channel_id,
        seq,
        sender_id: m.sender_id,
        text: m.text,
        thread_root_id: m.thread_root_id,
        reply_count: 0,
        client_msg_id: m.client_msg_id,
        created_at: m.created_at,
        edited_at: None,
        deleted: false,
        pinned: false,
        reactions: Vec::new(),
    };
    let event = Event::MessageCreated { message: message.clone() };
    append_event(conn, events, Audience::Channel(m.channel_id), m.created_at, event).await?;
    Ok(SendOutcome::Created(message))
}

async fn op_edit_message(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    id: MessageId,
    text: String,
    at: Timestamp,
) -> Result<Message, StoreError> {
    let current = load_message(conn, id).await.map_err(map_err)?.ok_or(StoreError::NotFound("message"))?;
    if current.deleted {
        return Err(StoreError::Conflict("the message was deleted".into()));
    }
    let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM message_versions WHERE message_id = $1")
        .bind(id.0)
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    let mut next = versions + 1;
    if versions == 0 {
        insert_version(conn, id, 1, &current.text, current.created_at).await?;
        next = 2;
    }
    insert_version(conn, id, next, &text, at).await?;
    sqlx::query("UPDATE messages SET body = $2, edited_at = $3 WHERE id = $1")
        .bind(id.0)
        .bind(&text)
        .bind(ms(at))
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    let message = load_message(conn, id).await.map_err(map_err)?.ok_or(StoreError::NotFound("message"))?;
    append_event(conn, events, Audience::Channel(message.channel_id), at, Event::MessageEdited { message: message.clone() })
        .await?;
    Ok(message)
}

async fn insert_version(conn: &mut DbConn, id: MessageId, version: i64, body: &str, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO message_versions (message_id, version, body, created_at) VALUES ($1, $2, $3, $4)")
        .bind(id.0)
        .bind(version)
        .bind(body)
        .bind(ms(at))
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

async fn op_delete_message(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    id: MessageId,
    at: Timestamp,
) -> Result<(), StoreError> {
    let row = sqlx::query(
        "UPDATE messages SET deleted_at = $2, pinned_at = NULL, pinned_by = NULL \
         WHERE id = $1 AND deleted_at IS NULL RETURNING channel_id, seq",
    )
    .bind(id.0)
    .bind(ms(at))
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_err)?;
    if let Some(row) = row {
        let channel_id = ChannelId(row.try_get("channel_id").map_err(map_err)?);
        let seq: i64 = row.try_get("seq").map_err(map_err)?;
        let event = Event::MessageDeleted { channel_id, message_id: id, seq };
        append_event(conn, events, Audience::Channel(channel_id), at, event).await?;
    }
    Ok(())
}

async fn message_channel(conn: &mut DbConn, id: MessageId) -> Result<ChannelId, StoreError> {
    let channel: Option<i64> = sqlx::query_scalar("SELECT channel_id FROM messages WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    channel.map(ChannelId).ok_or(StoreError::NotFound("message"))
}

async fn op_set_reaction(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    id: MessageId,
    user: UserId,
    emoji: String,
    present: bool,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let channel_id = message_channel(conn, id).await?;
    let done = if present {
        sqlx::query(
            "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (message_id, emoji, user_id) DO NOTHING",
        )
        .bind(id.0)
        .bind(user.0)
        .bind(&emoji)
        .bind(ms(at))
        .execute(&mut *conn)
        .await
    } else {
        sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3")
            .bind(id.0)
            .bind(user.0)
            .bind(&emoji)
            .execute(&mut *conn)
            .await
    }
    .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let event = if present {
        Event::ReactionAdded { channel_id, message_id: id, user_id: user, emoji }
    } else {
        Event::ReactionRemoved { channel_id, message_id: id, user_id: user, emoji }
    };
    append_event(conn, events, Audience::Channel(channel_id), at, event).await?;
    Ok(true)
}

async fn op_set_pinned(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    id: MessageId,
    user: UserId,
    pinned: bool,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let channel_id = message_channel(conn, id).await?;
    let done = if pinned {
        sqlx::query("UPDATE messages SET pinned_at = $2, pinned_by = $3 WHERE id = $1 AND pinned_at IS NULL")
            .bind(id.0)
            .bind(ms(at))
            .bind(user.0)
            .execute(&mut *conn)
            .await
    } else {
        sqlx::query("UPDATE messages SET pinned_at = NULL, pinned_by = NULL WHERE id = $1 AND pinned_at IS NOT NULL")
            .bind(id.0)
            .execute(&mut *conn)
            .await
    }
    .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    let event = if pinned {
        Event::MessagePinned { channel_id, message_id: id, user_id: user }
    } else {
        Event::MessageUnpinned { channel_id, message_id: id, user_id: user }
    };
    append_event(conn, events, Audience::Channel(channel_id), at, event).await?;
    Ok(true)
}

async fn op_mark_read(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    channel: ChannelId,
    user: UserId,
    seq: i64,
    at: Timestamp,
) -> Result<i64, StoreError> {
    let current: Option<i64> =
        sqlx::query_scalar("SELECT last_read_seq FROM channel_members WHERE channel_id = $1 AND user_id = $2")
            .bind(channel.0)
            .bind(user.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?;
    let current = current.ok_or(StoreError::NotFound("membership"))?;
    if current == seq {
        return Ok(seq);
    }
    sqlx::query("UPDATE channel_members SET last_read_seq = $3 WHERE channel_id = $1 AND user_id = $2")
        .bind(channel.0)
        .bind(user.0)
        .bind(seq)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    let event = Event::ChannelRead { channel_id: channel, user_id: user, last_read_seq: seq };
    append_event(conn, events, Audience::User(user), at, event).await?;
    Ok(seq)
}

async fn op_prune_events(conn: &mut DbConn, before: Timestamp) -> Result<u64, StoreError> {
    let upto: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events WHERE created_at < $1")
        .bind(ms(before))
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    let Some(upto) = upto else { return Ok(0) };
    let done = sqlx::query("DELETE FROM events WHERE id <= $1")
        .bind(upto)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    sqlx::query("UPDATE log_meta SET pruned_through = $1 WHERE id = 1 AND pruned_through < $1")
        .bind(upto)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(done.rows_affected())
}

#[async_trait]
impl Store for SqlStore {
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        self.write(move |c, _| Box::pin(op_create_user(c, user))).await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(sqlf!("SELECT {USER_COLS} FROM users WHERE id = $1 AND status = 'active'"))
            .bind(id.0)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.as_ref().map(user_from_row).transpose().map_err(map_err)
    }

    async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>, StoreError> {
        let login = login.to_lowercase();
        let row = sqlx::query(sqlf!(
            "SELECT {USER_COLS}, password_hash, status FROM users WHERE username = $1 OR email = $1 LIMIT 1"
        ))
        .bind(&login)
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let status: String = row.try_get("status").map_err(map_err)?;
        Ok(Some(UserRecord {
            user: user_from_row(&row).map_err(map_err)?,
            password_hash: row.try_get("password_hash").map_err(map_err)?,
            active: status == "active",
        }))
    }

    async fn users_by_usernames(&self, usernames: &[String]) -> Result<Vec<User>, StoreError> {
        if usernames.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<Db>::new(format!("SELECT {USER_COLS} FROM users WHERE status = 'active' AND username IN ("));
        let mut list = q.separated(", ");
        for name in usernames.iter().take(256) {
            list.push_bind(name.clone());
        }
        q.push(")");
        let rows = q.build().fetch_all(&self.read).await.map_err(map_err)?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn list_users(&self, after: i64, limit: i64) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(sqlf!(
            "SELECT {USER_COLS} FROM users WHERE status = 'active' AND id > $1 ORDER BY id LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn count_users(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.read).await.map_err(map_err)
    }

    async fn create_session(&self, s: NewSession) -> Result<(), StoreError> {
        self.write(move |c, _| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) \
                     VALUES ($1, $2, $3, $3, $4)",
                )
                .bind(&s.token_hash)
                .bind(s.user_id.0)
                .bind(ms(s.created_at))
                .bind(ms(s.expires_at))
                .execute(&mut *c)
                .await
                .map_err(map_err)?;
                Ok(())
            })
        })
        .await
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query("SELECT user_id, created_at, last_seen_at, expires_at FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let get = |col: &str| row.try_get::<i64, _>(col).map_err(map_err);
        Ok(Some(SessionRecord {
            user_id: UserId(get("user_id")?),
            created_at: ts(get("created_at")?),
            last_seen_at: ts(get("last_seen_at")?),
            expires_at: ts(get("expires_at")?),
        }))
    }

    async fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<(), StoreError> {
        let hash = token_hash.to_string();
        self.write(move |c, _| {
            Box::pin(async move {
                sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                    .bind(&hash)
                    .bind(ms(at))
                    .execute(&mut *c)
                    .await
                    .map_err(map_err)?;
                Ok(())
            })
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let hash = token_hash.to_string();
        self.write(move |c, _| {
            Box::pin(async move {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(&hash)
                    .execute(&mut *c)
                    .await
                    .map_err(map_err)?;
                Ok(())
            })
        })
        .await
    }

    async fn create_channel(&self, channel: NewChannel) -> Result<Channel, StoreError> {
        self.write(move |c, ev| Box::pin(op_create_channel(c, ev, channel))).await
    }

    async fn channel(&self, id: ChannelId) -> Result<Option<Channel>, StoreError> {
        let row = sqlx::query(sqlf!("SELECT {CHANNEL_COLS} FROM channels c WHERE c.id = $1"))
            .bind(id.0)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.as_ref().map(channel_from_row).transpose().map_err(map_err)
    }

    async fn channel_by_dm_key(&self, dm_key: &str) -> Result<Option<Channel>, StoreError> {
        let row = sqlx::query(sqlf!("SELECT {CHANNEL_COLS} FROM channels c WHERE c.dm_key = $1"))
            .bind(dm_key)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.as_ref().map(channel_from_row).transpose().map_err(map_err)
    }

    async fn update_channel(&self, id: ChannelId, update: ChannelUpdate, at: Timestamp) -> Result<Channel, StoreError> {
        self.write(move |c, ev| Box::pin(op_update_channel(c, ev, id, update, at))).await
    }

    async fn membership(&self, channel: ChannelId, user: UserId) -> Result<Option<Membership>, StoreError> {
        let row = sqlx::query(
            "SELECT role, last_read_seq, joined_at FROM channel_members WHERE channel_id = $1 AND user_id = $2",
        )
        .bind(channel.0)
        .bind(user.0)
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role").map_err(map_err)?;
        Ok(Some(Membership {
            role: role_from(&role).map_err(map_err)?,
            last_read_seq: row.try_get("last_read_seq").map_err(map_err)?,
            joined_at: ts(row.try_get("joined_at").map_err(map_err)?),
        }))
    }

    async fn add_members(
        &self,
        channel: ChannelId,
        users: Vec<UserId>,
        actor: UserId,
        at: Timestamp,
    ) -> Result<Vec<UserId>, StoreError> {
        self.write(move |c, ev| Box::pin(op_add_members(c, ev, channel, users, actor, at))).await
    }

    async fn remove_member(
        &self,
        channel: ChannelId,
        user: UserId,
        actor: UserId,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write(move |c, ev| Box::pin(op_remove_member(c, ev, channel, user, actor, at))).await
    }

    async fn members(&self, channel: ChannelId) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, role, joined_at FROM channel_members WHERE channel_id = $1 ORDER BY joined_at, user_id",
        )
        .bind(channel.0)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                let role: String = row.try_get("role")?;
                Ok(Member {
                    user_id: UserId(row.try_get("user_id")?),
                    role: role_from(&role)?,
                    joined_at: ts(row.try_get("joined_at")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn my_channels(&self, user: UserId) -> Result<Vec<MyChannel>, StoreError> {
        let rows = sqlx::query(sqlf!(
            "SELECT {CHANNEL_COLS}, cm.role, cm.last_read_seq, \
               (SELECT COUNT(*) FROM messages x WHERE x.channel_id = c.id AND x.seq > cm.last_read_seq \
                  AND x.sender_id <> $1 AND x.deleted_at IS NULL) AS unread_count, \
               (SELECT COUNT(*) FROM messages x WHERE x.channel_id = c.id AND x.seq > cm.last_read_seq \
                  AND x.sender_id <> $1 AND x.deleted_at IS NULL AND (x.mention_all OR EXISTS \
                  (SELECT 1 FROM message_mentions mm WHERE mm.message_id = x.id AND mm.user_id = $1))) AS mention_count \
             FROM channel_members cm JOIN channels c ON c.id = cm.channel_id \
             WHERE cm.user_id = $1 ORDER BY c.id"
        ))
        .bind(user.0)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        let dm_rows = sqlx::query(
            "SELECT other.channel_id, other.user_id FROM channel_members mine \
             JOIN channels c ON c.id = mine.channel_id AND c.kind IN ('dm', 'group_dm') \
             JOIN channel_members other ON other.channel_id = mine.channel_id \
             WHERE mine.user_id = $1 ORDER BY other.channel_id, other.user_id",
        )
        .bind(user.0)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let channel = channel_from_row(row).map_err(map_err)?;
            let role: String = row.try_get("role").map_err(map_err)?;
            let mut dm_members = Vec::new();
            for r in &dm_rows {
                if r.try_get::<i64, _>("channel_id").map_err(map_err)? == channel.id.0 {
                    dm_members.push(UserId(r.try_get("user_id").map_err(map_err)?));
                }
            }
            out.push(MyChannel {
                role: role_from(&role).map_err(map_err)?,
                dm_members,
                last_read_seq: row.try_get("last_read_seq").map_err(map_err)?,
                unread_count: row.try_get("unread_count").map_err(map_err)?,
                mention_count: row.try_get("mention_count").map_err(map_err)?,
                channel,
            });
        }
        Ok(out)
    }

    async fn public_channels(&self, after: i64, limit: i64) -> Result<Vec<Channel>, StoreError> {
        let rows = sqlx::query(sqlf!(
            "SELECT {CHANNEL_COLS} FROM channels c WHERE c.kind = 'public' AND c.id > $1 ORDER BY c.id LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        rows.iter().map(channel_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn send_message(&self, message: NewMessage) -> Result<SendOutcome, StoreError> {
        self.write(move |c, ev| Box::pin(op_send_message(c, ev, message))).await
    }

    async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        load_message(&mut conn, id).await.map_err(map_err)
    }

    async fn messages_by_seq(&self, channel: ChannelId, lo: i64, hi: i64) -> Result<Vec<Message>, StoreError> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        let rows = sqlx::query(sqlf!(
            "SELECT {MSG_COLS} FROM messages m WHERE m.channel_id = $1 AND m.seq >= $2 AND m.seq <= $3 ORDER BY m.seq"
        ))
        .bind(channel.0)
        .bind(lo)
        .bind(hi)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
        let mut msgs = rows.iter().map(message_from_row).collect::<Result<Vec<_>, _>>().map_err(map_err)?;
        attach_reactions(&mut *conn, &mut msgs).await.map_err(map_err)?;
        Ok(msgs)
    }

    async fn seq_at_time(&self, channel: ChannelId, at: Timestamp) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar(
            "SELECT seq FROM messages WHERE channel_id = $1 AND created_at >= $2 ORDER BY created_at, seq LIMIT 1",
        )
        .bind(channel.0)
        .bind(ms(at))
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)
    }

    async fn thread_replies(&self, root: MessageId, limit: i64) -> Result<Vec<Message>, StoreError> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        let rows = sqlx::query(sqlf!(
            "SELECT {MSG_COLS} FROM messages m WHERE m.thread_root_id = $1 ORDER BY m.seq LIMIT $2"
        ))
        .bind(root.0)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
        let mut msgs = rows.iter().map(message_from_row).collect::<Result<Vec<_>, _>>().map_err(map_err)?;
        attach_reactions(&mut *conn, &mut msgs).await.map_err(map_err)?;
        Ok(msgs)
    }

    async fn edit_message(&self, id: MessageId, text: String, at: Timestamp) -> Result<Message, StoreError> {
        self.write(move |c, ev| Box::pin(op_edit_message(c, ev, id, text, at))).await
    }

    async fn message_versions(&self, id: MessageId) -> Result<Vec<MessageVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, body, created_at FROM message_versions WHERE message_id = $1 ORDER BY version",
        )
        .bind(id.0)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(MessageVersion {
                    version: r.try_get("version")?,
                    text: r.try_get("body")?,
                    created_at: ts(r.try_get("created_at")?),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(map_err)?;
        if out.is_empty() {
            // Never edited: the only version is the current text.
            let msg = self.message(id).await?.ok_or(StoreError::NotFound("message"))?;
            out.push(MessageVersion { version: 1, text: msg.text, created_at: msg.created_at });
        }
        Ok(out)
    }

    async fn delete_message(&self, id: MessageId, at: Timestamp) -> Result<(), StoreError> {
        self.write(move |c, ev| Box::pin(op_delete_message(c, ev, id, at))).await
    }

    async fn set_reaction(
        &self,
        id: MessageId,
        user: UserId,
        emoji: String,
        present: bool,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write(move |c, ev| Box::pin(op_set_reaction(c, ev, id, user, emoji, present, at))).await
    }

    async fn set_pinned(&self, id: MessageId, user: UserId, pinned: bool, at: Timestamp) -> Result<bool, StoreError> {
        self.write(move |c, ev| Box::pin(op_set_pinned(c, ev, id, user, pinned, at))).await
    }

    async fn pinned_messages(&self, channel: ChannelId) -> Result<Vec<Message>, StoreError> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        let rows = sqlx::query(sqlf!(
            "SELECT {MSG_COLS} FROM messages m WHERE m.channel_id = $1 AND m.pinned_at IS NOT NULL \
             ORDER BY m.pinned_at DESC, m.seq DESC LIMIT 1000"
        ))
        .bind(channel.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
        let mut msgs = rows.iter().map(message_from_row).collect::<Result<Vec<_>, _>>().map_err(map_err)?;
        attach_reactions(&mut *conn, &mut msgs).await.map_err(map_err)?;
        Ok(msgs)
    }

    async fn mark_read(&self, channel: ChannelId, user: UserId, seq: i64, at: Timestamp) -> Result<i64, StoreError> {
        self.write(move |c, ev| Box::pin(op_mark_read(c, ev, channel, user, seq, at))).await
    }

    async fn events_for_user(
        &self,
        user: UserId,
        after: Position,
        upto: Position,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, created_at, payload FROM events WHERE id > $1 AND id <= $2 AND (user_id = $3 \
               OR (channel_id IS NULL AND user_id IS NULL) \
               OR channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = $3)) \
             ORDER BY id LIMIT $4",
        )
        .bind(after)
        .bind(upto)
        .bind(user.0)
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                let payload: String = r.try_get("payload").map_err(map_err)?;
                Ok(StoredEvent {
                    position: r.try_get("id").map_err(map_err)?,
                    at: ts(r.try_get("created_at").map_err(map_err)?),
                    event: serde_json::from_str(&payload)
                        .map_err(|e| StoreError::Unavailable(format!("undecodable event: {e}")))?,
                })
            })
            .collect()
    }

    async fn pruned_through(&self) -> Result<Position, StoreError> {
        sqlx::query_scalar("SELECT pruned_through FROM log_meta WHERE id = 1")
            .fetch_one(&self.read)
            .await
            .map_err(map_err)
    }

    async fn membership_snapshot(&self, user: UserId) -> Result<(Vec<ChannelId>, Position), StoreError> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        let mut tx = begin_snapshot(&mut conn).await.map_err(map_err)?;
        let channels: Vec<i64> = sqlx::query_scalar("SELECT channel_id FROM channel_members WHERE user_id = $1")
            .bind(user.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        let position: i64 = sqlx::query_scalar(
            "SELECT COALESCE((SELECT MAX(id) FROM events), (SELECT pruned_through FROM log_meta WHERE id = 1))",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok((channels.into_iter().map(ChannelId).collect(), position))
    }

    async fn prune_events(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.write(move |c, _| Box::pin(op_prune_events(c, before))).await
    }

    fn subscribe(&self) -> broadcast::Receiver<CommittedBatch> {
        self.committed.subscribe()
    }

    async fn close(&self) {
        drop(self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take());
        let writer = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(writer) = writer {
            let _ = writer.await;
        }
        for pool in &self.pools {
            pool.close().await;
        }
    }
}
