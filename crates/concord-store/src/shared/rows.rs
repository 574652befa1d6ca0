// Included by the backends (see writer.rs): error mapping and row decoding.

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

const USER_COLS: &str = "id, username, email, display_name, is_admin, is_bot, created_at";

fn user_from_row(row: &DbRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        is_admin: row.try_get("is_admin")?,
        is_bot: row.try_get("is_bot")?,
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
        files: Vec::new(),
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
    attach_files(&mut *conn, &mut msgs).await?;
    Ok(msgs.pop())
}

fn channel_audience(channel: &Channel) -> Audience {
    if channel.kind == ChannelKind::Public { Audience::Everyone } else { Audience::Channel(channel.id) }
}
