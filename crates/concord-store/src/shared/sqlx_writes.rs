// The write operations for the sqlx writer (PostgreSQL), each run inside the writer's
// transaction under its own savepoint, appending its events to the log. SQLite's writer runs
// the same statements through rusqlite (`sqlite_writer.rs`).

async fn op_create_user(conn: &mut DbConn, events: &mut Vec<CommittedEvent>, u: NewUser) -> Result<User, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, email, display_name, password_hash, is_admin, created_at, guest, search_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(&u.username)
    .bind(&u.email)
    .bind(&u.display_name)
    .bind(&u.password_hash)
    .bind(u.is_admin)
    .bind(ms(u.created_at))
    .bind(u.guest)
    .bind(&u.search_key)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match map_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict("username or email is already taken".into()),
        other => other,
    })?;
    if u.is_admin {
        sqlx::query(SQL_ASSIGN_BUILTIN)
            .bind(id)
            .bind(ms(u.created_at))
            .bind("org_admin")
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
        if let Some(mut audit) = u.audit {
        audit.target = audit.target.replace("{id}", &id.to_string());
        op_append_audit(conn, events, audit).await?;
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

/// `sealed`: the text as stored at rest (sealed), when encryption is on.
async fn op_send_message(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    m: NewMessage,
    suite: concord_core::crypto::Suite,
    sealed: Option<String>,
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
    let advanced = sqlx::query(SQL_SEND_ADVANCE)
        .bind(m.channel_id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?
        .ok_or(StoreError::NotFound("channel"))?;
    let seq: i64 = advanced.try_get(0).map_err(map_err)?;
    let link: (i64, String) = (advanced.try_get(1).map_err(map_err)?, advanced.try_get(2).map_err(map_err)?);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (channel_id, seq, sender_id, body, thread_root_id, client_msg_id, mention_all, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(m.channel_id.0)
    .bind(seq)
    .bind(m.sender_id.0)
    .bind(sealed.as_deref().unwrap_or(&m.text))
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
    let files = if m.files.is_empty() { Vec::new() } else { sx_attach_files(conn, id, m.channel_id, &m.files).await? };
    let canonical = concord_core::message_chain::canonical_create(
        m.channel_id.0,
        seq,
        id,
        m.sender_id.0,
        m.thread_root_id.map(|r| r.0),
        ms(m.created_at),
        &m.text,
    );
    chain_link(conn, suite, m.channel_id.0, link, LinkKind::Create, (id, seq, 0), &canonical).await?;
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
    append_sealed_event(conn, events, Audience::Channel(m.channel_id), m.created_at, event, sealed.as_deref()).await?;
    Ok(SendOutcome::Created(message))
}

async fn op_edit_message(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    id: MessageId,
    text: String,
    key: Option<Arc<DataKey>>,
    at: Timestamp,
    suite: concord_core::crypto::Suite,
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
        let first = seal_if_plain(key.as_deref(), current.text);
        insert_version(conn, id, 1, &first, current.created_at).await?;
        next = 2;
    }
    let sealed = key.as_ref().map(|k| k.seal_text(&text));
    let stored = sealed.as_deref().unwrap_or(&text);
    insert_version(conn, id, next, stored, at).await?;
    sqlx::query("UPDATE messages SET body = $2, edited_at = $3 WHERE id = $1")
        .bind(id.0)
        .bind(stored)
        .bind(ms(at))
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    let channel = current.channel_id.0;
    let canonical = concord_core::message_chain::canonical_edit(channel, current.seq, id.0, next, ms(at), &text);
    let advanced = chain_advance(conn, channel).await?;
    chain_link(conn, suite, channel, advanced, LinkKind::Edit, (id.0, current.seq, next), &canonical).await?;
    let mut message = load_message(conn, id).await.map_err(map_err)?.ok_or(StoreError::NotFound("message"))?;
    message.text = text;
    let event = Event::MessageEdited { message: message.clone() };
    append_sealed_event(conn, events, Audience::Channel(message.channel_id), at, event, sealed.as_deref()).await?;
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
    suite: concord_core::crypto::Suite,
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
        let canonical = concord_core::message_chain::canonical_delete(channel_id.0, seq, id.0, ms(at));
        let advanced = chain_advance(conn, channel_id.0).await?;
        chain_link(conn, suite, channel_id.0, advanced, LinkKind::Delete, (id.0, seq, 0), &canonical).await?;
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

async fn op_prune_events(conn: &mut DbConn, _events: &mut Vec<CommittedEvent>, before: Timestamp) -> Result<u64, StoreError> {
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
    append_sealed_event(conn, events, audience, at, event, None).await
}

/// [`append_event`], storing `sealed_text` in place of a message event's text (at rest) while
/// publishing the plaintext event.
async fn append_sealed_event(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    audience: Audience,
    at: Timestamp,
    event: Event,
    sealed_text: Option<&str>,
) -> Result<(), StoreError> {
    let payload = stored_payload(&event, sealed_text)?;
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


async fn op_create_session(conn: &mut DbConn, _events: &mut Vec<CommittedEvent>, s: NewSession) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)",
    )
    .bind(&s.token_hash)
    .bind(s.user_id.0)
    .bind(ms(s.created_at))
    .bind(ms(s.expires_at))
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

async fn op_touch_session(
    conn: &mut DbConn,
    _events: &mut Vec<CommittedEvent>,
    hash: String,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
        .bind(&hash)
        .bind(ms(at))
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

async fn op_delete_session(conn: &mut DbConn, _events: &mut Vec<CommittedEvent>, hash: String) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(&hash).execute(&mut *conn).await.map_err(map_err)?;
    Ok(())
}
