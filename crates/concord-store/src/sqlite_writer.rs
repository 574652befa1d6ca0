// The SQLite writer: one thread with its own rusqlite connection folds queued jobs into one
// transaction, each job under its own savepoint. Included by `sqlite.rs` after `shared/base.rs`.
//
// Why not sqlx here: sqlx's SQLite driver sends every statement to a worker thread and back,
// which made the writer spend most of its time switching threads. rusqlite runs the same
// statements (cached, prepared once) on the writer's own thread. The statements mirror
// `shared/sqlx_writes.rs`; the behavioural store suite checks both backends alike.

use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// One write, run inside the writer's transaction under its own savepoint.
type Job = Box<dyn FnOnce(&rusqlite::Connection, &mut Vec<CommittedEvent>) -> Option<Finisher> + Send>;

/// `write_op!(store, op_name(args...))`: run `op_name(conn, events, args...)` on the writer.
macro_rules! write_op {
    ($store:expr, $op:ident($($arg:expr),* $(,)?)) => {
        $store.write(move |c, ev| $op(c, ev, $($arg),*)).await
    };
}

impl SqlStore {
    fn start_sqlite(read: DbPool, conn: rusqlite::Connection, checkpointer: rusqlite::Connection) -> Result<Self, StoreError> {
        let (store, parts) = Self::with_writer(read.clone(), vec![read]);
        let WriterParts { jobs, committed, done } = parts;
        let (writer_alive, writer_gone) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("concord-sqlite-writer".into())
            .spawn(move || {
                run_writer(conn, jobs, committed);
                drop(writer_alive);
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer thread: {e}")))?;
        // `close` returns after the final checkpoint, so a process that exits right after it
        // leaves no page behind in the WAL (and none of its old images in the database file).
        std::thread::Builder::new()
            .name("concord-sqlite-checkpointer".into())
            .spawn(move || {
                run_checkpointer(checkpointer, writer_gone);
                let _ = done.send(());
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the checkpointer thread: {e}")))?;
        Ok(store)
    }

    /// Queues `f` for the writer and waits until its batch has committed.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection, &mut Vec<CommittedEvent>) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |conn, events| match f(conn, events) {
            Ok(value) => Some(Box::new(move |commit: Result<(), StoreError>| {
                let _ = reply.send(commit.map(|()| value));
            }) as Finisher),
            Err(e) => {
                let _ = reply.send(Err(e));
                None
            }
        });
        self.submit(job, answer).await
    }
}

fn run_writer(mut conn: rusqlite::Connection, mut jobs: mpsc::Receiver<Job>, committed: broadcast::Sender<CommittedBatch>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.blocking_recv() {
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
        let result = commit_batch(&mut conn, batch.drain(..), &mut events, &mut finishers);
        settle_batch(result.map_err(|e| e.to_string()), finishers, events, &committed, started, size);
    }
}

/// Copies the WAL back into the database file off the writer's thread, so commits do not pay
/// for checkpoints (the writer's own automatic checkpoint is only a backstop). Stops with the
/// writer.
fn run_checkpointer(conn: rusqlite::Connection, writer_gone: std::sync::mpsc::Receiver<()>) {
    let tick = std::time::Duration::from_millis(500);
    while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = writer_gone.recv_timeout(tick) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "final WAL checkpoint failed");
    }
}

fn commit_batch(
    conn: &mut rusqlite::Connection,
    batch: impl Iterator<Item = Job>,
    events: &mut Vec<CommittedEvent>,
    finishers: &mut Vec<Finisher>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for job in batch {
        let mark = events.len();
        // Savepoint statements from the statement cache: rusqlite's `savepoint()` parses its SQL
        // anew for every job, which showed up in the writer's profile.
        tx.prepare_cached("SAVEPOINT job")?.execute([])?;
        match job(&tx, events) {
            Some(finish) => {
                tx.prepare_cached("RELEASE job")?.execute([])?;
                finishers.push(finish);
            }
            None => {
                tx.prepare_cached("ROLLBACK TO job")?.execute([])?;
                tx.prepare_cached("RELEASE job")?.execute([])?;
                events.truncate(mark);
            }
        }
    }
    tx.commit()
}

fn map_rerr(e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi;
    match &e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound("row"),
        rusqlite::Error::SqliteFailure(f, msg) => match f.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                StoreError::Conflict(msg.clone().unwrap_or_else(|| "unique constraint".into()))
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => StoreError::NotFound("referenced record"),
            _ => StoreError::Unavailable(e.to_string()),
        },
        _ => StoreError::Unavailable(e.to_string()),
    }
}

fn conflict_as(e: rusqlite::Error, what: &str) -> StoreError {
    match map_rerr(e) {
        StoreError::Conflict(_) => StoreError::Conflict(what.into()),
        other => other,
    }
}

fn r_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    let deleted = row.get::<_, Option<i64>>("deleted_at")?.is_some();
    Ok(Message {
        id: MessageId(row.get("id")?),
        channel_id: ChannelId(row.get("channel_id")?),
        seq: row.get("seq")?,
        sender_id: UserId(row.get("sender_id")?),
        text: if deleted { String::new() } else { row.get("body")? },
        thread_root_id: row.get::<_, Option<i64>>("thread_root_id")?.map(MessageId),
        reply_count: row.get("reply_count")?,
        client_msg_id: row.get("client_msg_id")?,
        created_at: ts(row.get("created_at")?),
        edited_at: row.get::<_, Option<i64>>("edited_at")?.map(ts),
        deleted,
        pinned: row.get::<_, Option<i64>>("pinned_at")?.is_some(),
        reactions: Vec::new(),
        files: Vec::new(),
    })
}

fn r_load_message(conn: &rusqlite::Connection, id: MessageId) -> Result<Option<Message>, StoreError> {
    let sql = format!("SELECT {MSG_COLS} FROM messages m WHERE m.id = ?1");
    let msg = conn.prepare_cached(&sql).and_then(|mut st| st.query_row([id.0], r_message).optional()).map_err(map_rerr)?;
    let Some(mut msg) = msg else { return Ok(None) };
    let mut st = conn
        .prepare_cached("SELECT emoji, user_id FROM reactions WHERE message_id = ?1 ORDER BY created_at, user_id")
        .map_err(map_rerr)?;
    let rows = st.query_map([id.0], |r| Ok((r.get::<_, String>(0)?, UserId(r.get(1)?)))).map_err(map_rerr)?;
    for row in rows {
        let (emoji, user) = row.map_err(map_rerr)?;
        match msg.reactions.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => r.user_ids.push(user),
            None => msg.reactions.push(Reaction { emoji, user_ids: vec![user] }),
        }
    }
    msg.files = r_message_files(conn, id)?;
    Ok(Some(msg))
}

fn r_load_channel(conn: &rusqlite::Connection, id: ChannelId) -> Result<Option<Channel>, StoreError> {
    let sql = format!("SELECT {CHANNEL_COLS} FROM channels c WHERE c.id = ?1");
    conn.prepare_cached(&sql)
        .and_then(|mut st| {
            st.query_row([id.0], |row| {
                let kind: String = row.get("kind")?;
                Ok(Channel {
                    id: ChannelId(row.get("id")?),
                    kind: ChannelKind::parse(&kind).unwrap_or(ChannelKind::Private),
                    name: row.get("name")?,
                    topic: row.get("topic")?,
                    purpose: row.get("purpose")?,
                    created_by: UserId(row.get("created_by")?),
                    created_at: ts(row.get("created_at")?),
                    last_seq: row.get("last_seq")?,
                })
            })
            .optional()
        })
        .map_err(map_rerr)
}

/// Appends an event to the log inside the current transaction.
fn r_append_event(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    audience: Audience,
    at: Timestamp,
    event: Event,
) -> Result<(), StoreError> {
    r_append_sealed_event(conn, events, audience, at, event, None)
}

/// [`r_append_event`], storing `sealed_text` in place of a message event's text (at rest)
/// while publishing the plaintext event.
fn r_append_sealed_event(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    audience: Audience,
    at: Timestamp,
    event: Event,
    sealed_text: Option<&str>,
) -> Result<(), StoreError> {
    let payload = stored_payload(&event, sealed_text)?;
    let position: i64 = conn
        .prepare_cached(
            "INSERT INTO events (created_at, channel_id, user_id, kind, payload) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        )
        .and_then(|mut st| {
            st.query_row(
                params![ms(at), audience.channel().map(|c| c.0), audience.user().map(|u| u.0), event.kind(), payload],
                |r| r.get(0),
            )
        })
        .map_err(map_rerr)?;
    events.push(CommittedEvent { stored: StoredEvent { position, at, event }, audience });
    Ok(())
}

fn exec(conn: &rusqlite::Connection, sql: &str, params: impl rusqlite::Params) -> Result<usize, StoreError> {
    conn.prepare_cached(sql).and_then(|mut st| st.execute(params)).map_err(map_rerr)
}

fn op_create_user(conn: &rusqlite::Connection, events: &mut Vec<CommittedEvent>, u: NewUser) -> Result<User, StoreError> {
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO users (username, email, display_name, password_hash, is_admin, created_at, guest, search_key) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        )
        .and_then(|mut st| {
            st.query_row(
                params![u.username, u.email, u.display_name, u.password_hash, u.is_admin, ms(u.created_at), u.guest, u.search_key],
                |r| r.get(0),
            )
        })
        .map_err(|e| conflict_as(e, "username or email is already taken"))?;
    if u.is_admin {
        exec(conn, SQL_ASSIGN_BUILTIN, params![id, ms(u.created_at), "org_admin"])?;
    }
        if let Some(mut audit) = u.audit {
        audit.target = audit.target.replace("{id}", &id.to_string());
        op_append_audit(conn, events, audit)?;
    }
Ok(User {
        id: UserId(id),
        username: u.username,
        email: u.email,
        display_name: u.display_name,
        is_admin: u.is_admin,
        is_bot: false,
        created_at: u.created_at,
    })
}

fn op_create_session(conn: &rusqlite::Connection, _events: &mut Vec<CommittedEvent>, s: NewSession) -> Result<(), StoreError> {
    exec(
        conn,
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) VALUES (?1, ?2, ?3, ?3, ?4)",
        params![s.token_hash, s.user_id.0, ms(s.created_at), ms(s.expires_at)],
    )?;
    Ok(())
}

fn op_touch_session(
    conn: &rusqlite::Connection,
    _events: &mut Vec<CommittedEvent>,
    hash: String,
    at: Timestamp,
) -> Result<(), StoreError> {
    exec(conn, "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1", params![hash, ms(at)])?;
    Ok(())
}

fn op_delete_session(conn: &rusqlite::Connection, _events: &mut Vec<CommittedEvent>, hash: String) -> Result<(), StoreError> {
    exec(conn, "DELETE FROM sessions WHERE token_hash = ?1", params![hash])?;
    Ok(())
}

fn op_create_channel(conn: &rusqlite::Connection, events: &mut Vec<CommittedEvent>, c: NewChannel) -> Result<Channel, StoreError> {
    let name_key = (!c.kind.is_direct()).then(|| c.name.to_lowercase());
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO channels (kind, name, name_key, dm_key, topic, purpose, created_by, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        )
        .and_then(|mut st| {
            st.query_row(
                params![c.kind.as_str(), c.name, name_key, c.dm_key, c.topic, c.purpose, c.created_by.0, ms(c.created_at)],
                |r| r.get(0),
            )
        })
        .map_err(|e| conflict_as(e, "a channel with this name already exists"))?;
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
        insert_member(conn, channel.id, *user, *role, c.created_at)?;
    }
    let member_ids = c.members.iter().map(|(u, _)| *u).collect();
    let event = Event::ChannelCreated { channel: channel.clone(), member_ids };
    r_append_event(conn, events, channel_audience(&channel), c.created_at, event)?;
    Ok(channel)
}

fn insert_member(
    conn: &rusqlite::Connection,
    channel: ChannelId,
    user: UserId,
    role: MemberRole,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let n = exec(
        conn,
        "INSERT INTO channel_members (channel_id, user_id, role, joined_at, last_read_seq) \
         SELECT ?1, ?2, ?3, ?4, c.last_seq FROM channels c WHERE c.id = ?1 \
         ON CONFLICT (channel_id, user_id) DO NOTHING",
        params![channel.0, user.0, role.as_str(), ms(at)],
    )?;
    Ok(n == 1)
}

fn op_update_channel(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    id: ChannelId,
    u: ChannelUpdate,
    at: Timestamp,
) -> Result<Channel, StoreError> {
    let name_key = u.name.as_ref().map(|n| n.to_lowercase());
    let n = conn
        .prepare_cached(
            "UPDATE channels SET name = COALESCE(?2, name), name_key = COALESCE(?3, name_key), \
             topic = COALESCE(?4, topic), purpose = COALESCE(?5, purpose) WHERE id = ?1",
        )
        .and_then(|mut st| st.execute(params![id.0, u.name, name_key, u.topic, u.purpose]))
        .map_err(|e| conflict_as(e, "a channel with this name already exists"))?;
    if n == 0 {
        return Err(StoreError::NotFound("channel"));
    }
    let channel = r_load_channel(conn, id)?.ok_or(StoreError::NotFound("channel"))?;
    r_append_event(conn, events, channel_audience(&channel), at, Event::ChannelUpdated { channel: channel.clone() })?;
    Ok(channel)
}

fn op_add_members(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    channel: ChannelId,
    users: Vec<UserId>,
    actor: UserId,
    at: Timestamp,
) -> Result<Vec<UserId>, StoreError> {
    let mut added = Vec::new();
    for user in users {
        if insert_member(conn, channel, user, MemberRole::Member, at)? {
            let event = Event::MemberJoined { channel_id: channel, user_id: user, actor_id: actor };
            r_append_event(conn, events, Audience::Channel(channel), at, event)?;
            added.push(user);
        }
    }
    Ok(added)
}

fn op_remove_member(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    channel: ChannelId,
    user: UserId,
    actor: UserId,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let n = exec(conn, "DELETE FROM channel_members WHERE channel_id = ?1 AND user_id = ?2", params![channel.0, user.0])?;
    if n == 0 {
        return Ok(false);
    }
    let event = Event::MemberLeft { channel_id: channel, user_id: user, actor_id: actor };
    r_append_event(conn, events, Audience::ChannelAndUser(channel, user), at, event)?;
    Ok(true)
}

/// `sealed`: the text as stored at rest (sealed), when encryption is on.
fn op_send_message(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    m: NewMessage,
    suite: concord_core::crypto::Suite,
    sealed: Option<String>,
) -> Result<SendOutcome, StoreError> {
    if let Some(key) = &m.client_msg_id {
        let existing: Option<i64> = conn
            .prepare_cached("SELECT id FROM messages WHERE sender_id = ?1 AND client_msg_id = ?2")
            .and_then(|mut st| st.query_row(params![m.sender_id.0, key], |r| r.get(0)).optional())
            .map_err(map_rerr)?;
        if let Some(id) = existing {
            let msg = r_load_message(conn, MessageId(id))?.ok_or(StoreError::NotFound("message"))?;
            return Ok(SendOutcome::Existing(msg));
        }
    }
    let (seq, link_no, prev_hash): (i64, i64, String) = conn
        .prepare_cached(SQL_SEND_ADVANCE)
        .and_then(|mut st| st.query_row([m.channel_id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional())
        .map_err(map_rerr)?
        .ok_or(StoreError::NotFound("channel"))?;
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO messages (channel_id, seq, sender_id, body, thread_root_id, client_msg_id, mention_all, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        )
        .and_then(|mut st| {
            st.query_row(
                params![
                    m.channel_id.0,
                    seq,
                    m.sender_id.0,
                    sealed.as_deref().unwrap_or(&m.text),
                    m.thread_root_id.map(|r| r.0),
                    m.client_msg_id,
                    m.mention_all,
                    ms(m.created_at)
                ],
                |r| r.get(0),
            )
        })
        .map_err(map_rerr)?;
    for user in &m.mentions {
        exec(
            conn,
            "INSERT INTO message_mentions (message_id, user_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![id, user.0],
        )?;
    }
    if let Some(root) = m.thread_root_id {
        exec(conn, "UPDATE messages SET reply_count = reply_count + 1 WHERE id = ?1", [root.0])?;
    }
    let files = if m.files.is_empty() { Vec::new() } else { r_attach_files(conn, id, m.channel_id, &m.files)? };
    let canonical = concord_core::message_chain::canonical_create(
        m.channel_id.0,
        seq,
        id,
        m.sender_id.0,
        m.thread_root_id.map(|r| r.0),
        ms(m.created_at),
        &m.text,
    );
    r_chain_link(conn, suite, m.channel_id.0, (link_no, prev_hash), LinkKind::Create, (id, seq, 0), &canonical)?;
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
        files,
    };
    let event = Event::MessageCreated { message: message.clone() };
    r_append_sealed_event(conn, events, Audience::Channel(m.channel_id), m.created_at, event, sealed.as_deref())?;
    Ok(SendOutcome::Created(message))
}

fn op_edit_message(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    id: MessageId,
    text: String,
    key: Option<Arc<DataKey>>,
    at: Timestamp,
    suite: concord_core::crypto::Suite,
) -> Result<Message, StoreError> {
    let current = r_load_message(conn, id)?.ok_or(StoreError::NotFound("message"))?;
    if current.deleted {
        return Err(StoreError::Conflict("the message was deleted".into()));
    }
    let versions: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM message_versions WHERE message_id = ?1")
        .and_then(|mut st| st.query_row([id.0], |r| r.get(0)))
        .map_err(map_rerr)?;
    let insert = "INSERT INTO message_versions (message_id, version, body, created_at) VALUES (?1, ?2, ?3, ?4)";
    let mut next = versions + 1;
    if versions == 0 {
        let first = seal_if_plain(key.as_deref(), current.text);
        exec(conn, insert, params![id.0, 1, first, ms(current.created_at)])?;
        next = 2;
    }
    let sealed = key.as_ref().map(|k| k.seal_text(&text));
    let stored = sealed.as_deref().unwrap_or(&text);
    exec(conn, insert, params![id.0, next, stored, ms(at)])?;
    exec(conn, "UPDATE messages SET body = ?2, edited_at = ?3 WHERE id = ?1", params![id.0, stored, ms(at)])?;
    let channel = current.channel_id.0;
    let canonical = concord_core::message_chain::canonical_edit(channel, current.seq, id.0, next, ms(at), &text);
    let advanced = r_chain_advance(conn, channel)?;
    r_chain_link(conn, suite, channel, advanced, LinkKind::Edit, (id.0, current.seq, next), &canonical)?;
    let mut message = r_load_message(conn, id)?.ok_or(StoreError::NotFound("message"))?;
    message.text = text;
    let event = Event::MessageEdited { message: message.clone() };
    r_append_sealed_event(conn, events, Audience::Channel(message.channel_id), at, event, sealed.as_deref())?;
    Ok(message)
}

fn op_delete_message(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    id: MessageId,
    at: Timestamp,
    suite: concord_core::crypto::Suite,
) -> Result<(), StoreError> {
    let row: Option<(i64, i64)> = conn
        .prepare_cached(
            "UPDATE messages SET deleted_at = ?2, pinned_at = NULL, pinned_by = NULL \
             WHERE id = ?1 AND deleted_at IS NULL RETURNING channel_id, seq",
        )
        .and_then(|mut st| st.query_row(params![id.0, ms(at)], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(map_rerr)?;
    if let Some((channel, seq)) = row {
        let canonical = concord_core::message_chain::canonical_delete(channel, seq, id.0, ms(at));
        let advanced = r_chain_advance(conn, channel)?;
        r_chain_link(conn, suite, channel, advanced, LinkKind::Delete, (id.0, seq, 0), &canonical)?;
        let event = Event::MessageDeleted { channel_id: ChannelId(channel), message_id: id, seq };
        r_append_event(conn, events, Audience::Channel(ChannelId(channel)), at, event)?;
    }
    Ok(())
}

fn message_channel(conn: &rusqlite::Connection, id: MessageId) -> Result<ChannelId, StoreError> {
    conn.prepare_cached("SELECT channel_id FROM messages WHERE id = ?1")
        .and_then(|mut st| st.query_row([id.0], |r| r.get(0)).optional())
        .map_err(map_rerr)?
        .map(ChannelId)
        .ok_or(StoreError::NotFound("message"))
}

fn op_set_reaction(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    id: MessageId,
    user: UserId,
    emoji: String,
    present: bool,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let channel_id = message_channel(conn, id)?;
    let n = if present {
        exec(
            conn,
            "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (message_id, emoji, user_id) DO NOTHING",
            params![id.0, user.0, emoji, ms(at)],
        )?
    } else {
        exec(conn, "DELETE FROM reactions WHERE message_id = ?1 AND user_id = ?2 AND emoji = ?3", params![id.0, user.0, emoji])?
    };
    if n == 0 {
        return Ok(false);
    }
    let event = if present {
        Event::ReactionAdded { channel_id, message_id: id, user_id: user, emoji }
    } else {
        Event::ReactionRemoved { channel_id, message_id: id, user_id: user, emoji }
    };
    r_append_event(conn, events, Audience::Channel(channel_id), at, event)?;
    Ok(true)
}

fn op_set_pinned(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    id: MessageId,
    user: UserId,
    pinned: bool,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let channel_id = message_channel(conn, id)?;
    let n = if pinned {
        exec(
            conn,
            "UPDATE messages SET pinned_at = ?2, pinned_by = ?3 WHERE id = ?1 AND pinned_at IS NULL",
            params![id.0, ms(at), user.0],
        )?
    } else {
        exec(conn, "UPDATE messages SET pinned_at = NULL, pinned_by = NULL WHERE id = ?1 AND pinned_at IS NOT NULL", [id.0])?
    };
    if n == 0 {
        return Ok(false);
    }
    let event = if pinned {
        Event::MessagePinned { channel_id, message_id: id, user_id: user }
    } else {
        Event::MessageUnpinned { channel_id, message_id: id, user_id: user }
    };
    r_append_event(conn, events, Audience::Channel(channel_id), at, event)?;
    Ok(true)
}

fn op_mark_read(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    channel: ChannelId,
    user: UserId,
    seq: i64,
    at: Timestamp,
) -> Result<i64, StoreError> {
    let current: i64 = conn
        .prepare_cached("SELECT last_read_seq FROM channel_members WHERE channel_id = ?1 AND user_id = ?2")
        .and_then(|mut st| st.query_row(params![channel.0, user.0], |r| r.get(0)).optional())
        .map_err(map_rerr)?
        .ok_or(StoreError::NotFound("membership"))?;
    if current == seq {
        return Ok(seq);
    }
    exec(
        conn,
        "UPDATE channel_members SET last_read_seq = ?3 WHERE channel_id = ?1 AND user_id = ?2",
        params![channel.0, user.0, seq],
    )?;
    let event = Event::ChannelRead { channel_id: channel, user_id: user, last_read_seq: seq };
    r_append_event(conn, events, Audience::User(user), at, event)?;
    Ok(seq)
}

fn op_prune_events(conn: &rusqlite::Connection, _events: &mut Vec<CommittedEvent>, before: Timestamp) -> Result<u64, StoreError> {
    let upto: Option<i64> = conn
        .prepare_cached("SELECT MAX(id) FROM events WHERE created_at < ?1")
        .and_then(|mut st| st.query_row([ms(before)], |r| r.get(0)))
        .map_err(map_rerr)?;
    let Some(upto) = upto else { return Ok(0) };
    let n = exec(conn, "DELETE FROM events WHERE id <= ?1", [upto])?;
    exec(conn, "UPDATE log_meta SET pruned_through = ?1 WHERE id = 1 AND pruned_through < ?1", [upto])?;
    Ok(n as u64)
}
