// Files' writes for the sqlx writer (PostgreSQL); SQLite's are in `sqlite_files_writer.rs`,
// with the same statements (`shared/files_sql.rs`).

async fn sx_load_file(conn: &mut DbConn, id: FileId) -> Result<FileInfo, StoreError> {
    let row = sqlx::query(sqlf!("{FILE_SELECT} WHERE f.id = $1 AND f.deleted_at IS NULL"))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?
        .ok_or(StoreError::NotFound("file"))?;
    file_from_row(&row).map_err(map_err)
}

async fn sx_insert_version(conn: &mut DbConn, file: FileId, version: i64, v: &NewFileVersion) -> Result<(), StoreError> {
    exec_sql(conn, sqlx::query(SQL_INSERT_BLOB).bind(v.sha256.clone()).bind(v.size).bind(ms(v.uploaded_at))).await?;
    let q = sqlx::query(SQL_INSERT_VERSION)
        .bind(file.0)
        .bind(version)
        .bind(v.sha256.clone())
        .bind(v.size)
        .bind(v.mime.clone())
        .bind(v.width)
        .bind(v.height)
        .bind(v.uploaded_by.0)
        .bind(ms(v.uploaded_at))
        .bind(v.comment.clone())
        .bind(v.restored_from);
    exec_sql(conn, q).await?;
    Ok(())
}

async fn op_create_file(conn: &mut DbConn, events: &mut Vec<CommittedEvent>, f: NewFile) -> Result<FileInfo, StoreError> {
    let at = f.first.uploaded_at;
    let id: i64 = sqlx::query_scalar(SQL_INSERT_FILE)
        .bind(f.channel_id.0)
        .bind(f.name.clone())
        .bind(f.sensitive)
        .bind(f.first.uploaded_by.0)
        .bind(ms(at))
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    sx_insert_version(conn, FileId(id), 1, &f.first).await?;
    let file = sx_load_file(conn, FileId(id)).await?;
    append_event(conn, events, Audience::Channel(f.channel_id), at, Event::FileCreated { file: file.clone() }).await?;
    Ok(file)
}

async fn op_add_file_version(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    id: FileId,
    v: NewFileVersion,
) -> Result<FileInfo, StoreError> {
    let version: i64 = sqlx::query_scalar(SQL_NEXT_VERSION)
        .bind(ms(v.uploaded_at))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?
        .ok_or(StoreError::NotFound("file"))?;
    sx_insert_version(conn, id, version, &v).await?;
    let file = sx_load_file(conn, id).await?;
    append_event(conn, events, Audience::Channel(file.channel_id), v.uploaded_at, Event::FileUpdated { file: file.clone() }).await?;
    Ok(file)
}

async fn op_update_file(conn: &mut DbConn, events: &mut Vec<CommittedEvent>, id: FileId, u: FileUpdate) -> Result<FileInfo, StoreError> {
    if let Some(name) = &u.name
        && exec_sql(conn, sqlx::query(SQL_RENAME_FILE).bind(name.clone()).bind(ms(u.at)).bind(id.0)).await? == 0
    {
        return Err(StoreError::NotFound("file"));
    }
    if let Some(flag) = u.sensitive
        && exec_sql(conn, sqlx::query(SQL_FLAG_FILE).bind(flag).bind(ms(u.at)).bind(id.0)).await? == 0
    {
        return Err(StoreError::NotFound("file"));
    }
    let file = sx_load_file(conn, id).await?;
    append_event(conn, events, Audience::Channel(file.channel_id), u.at, Event::FileUpdated { file: file.clone() }).await?;
    Ok(file)
}

async fn op_delete_file(conn: &mut DbConn, events: &mut Vec<CommittedEvent>, id: FileId, at: Timestamp) -> Result<(), StoreError> {
    let channel: i64 = sqlx::query_scalar(SQL_DELETE_FILE)
        .bind(ms(at))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?
        .ok_or(StoreError::NotFound("file"))?;
    let channel_id = ChannelId(channel);
    append_event(conn, events, Audience::Channel(channel_id), at, Event::FileDeleted { channel_id, file_id: id }).await
}

/// `sealed`: the text as stored at rest, when encryption is on.
async fn op_add_file_comment(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    c: NewFileComment,
    sealed: Option<String>,
) -> Result<FileComment, StoreError> {
    let exists: Option<i32> = sqlx::query_scalar(SQL_VERSION_EXISTS)
        .bind(c.file_id.0)
        .bind(c.version)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    if exists.is_none() {
        return Err(StoreError::NotFound("file version"));
    }
    let id: i64 = sqlx::query_scalar(SQL_INSERT_COMMENT)
        .bind(c.file_id.0)
        .bind(c.version)
        .bind(c.author_id.0)
        .bind(sealed.clone().unwrap_or_else(|| c.text.clone()))
        .bind(file_mentions_text(&c.mentions))
        .bind(ms(c.created_at))
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    let file = sx_load_file(conn, c.file_id).await?;
    let comment = FileComment {
        id: FileCommentId(id),
        file_id: c.file_id,
        version: c.version,
        author_id: c.author_id,
        text: c.text,
        mentions: c.mentions,
        created_at: c.created_at,
    };
    let event = Event::FileCommented { channel_id: file.channel_id, comment: comment.clone() };
    append_sealed_event(conn, events, Audience::Channel(file.channel_id), c.created_at, event, sealed.as_deref()).await?;
    Ok(comment)
}

/// Attaches files to a message being sent (inside its job), returning them as it shows them.
async fn sx_attach_files(conn: &mut DbConn, message: i64, channel: ChannelId, files: &[FileId]) -> Result<Vec<FileRef>, StoreError> {
    let mut refs = Vec::with_capacity(files.len());
    for (position, id) in files.iter().enumerate() {
        let row = sqlx::query(SQL_ATTACHABLE)
            .bind(id.0)
            .bind(channel.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?
            .ok_or(StoreError::NotFound("file"))?;
        let file = (|| -> Result<FileRef, sqlx::Error> {
            Ok(FileRef {
                id: FileId(row.try_get("id")?),
                name: row.try_get("name")?,
                mime: row.try_get("mime")?,
                size: row.try_get("size")?,
                version: row.try_get("current_version")?,
                width: row.try_get("width")?,
                height: row.try_get("height")?,
            })
        })()
        .map_err(map_err)?;
        exec_sql(conn, sqlx::query(SQL_ATTACH).bind(message).bind(id.0).bind(position as i64)).await?;
        refs.push(file);
    }
    Ok(refs)
}

async fn op_forget_blob(conn: &mut DbConn, _events: &mut Vec<CommittedEvent>, sha256: String) -> Result<bool, StoreError> {
    Ok(exec_sql(conn, sqlx::query(SQL_FORGET_BLOB).bind(sha256)).await? > 0)
}

/// The channel's expired files that can go with the messages in `pruning` (see
/// [`file_prunable`]).
async fn sx_prunable_files(
    conn: &mut DbConn,
    channel: i64,
    cutoff: Timestamp,
    pruning: &std::collections::HashSet<i64>,
    held: &std::collections::HashSet<i64>,
) -> Result<Vec<i64>, StoreError> {
    let expired: Vec<(i64, i64)> = sqlx::query_as(SQL_EXPIRED_FILES)
        .bind(channel)
        .bind(ms(cutoff))
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    let mut out = Vec::new();
    for (file, created_by) in expired {
        let carriers: Vec<i64> = sqlx::query_scalar(SQL_FILE_CARRIERS).bind(file).fetch_all(&mut *conn).await.map_err(map_err)?;
        if file_prunable(created_by, &carriers, pruning, held) {
            out.push(file);
        }
    }
    Ok(out)
}

/// Removes pruned files' rows (their content is collected once no version uses it).
async fn sx_purge_files(conn: &mut DbConn, events: &mut Vec<CommittedEvent>, channel: ChannelId, files: &[i64], at: Timestamp) -> Result<(), StoreError> {
    for file in files {
        for sql in [SQL_PURGE_FILE_COMMENTS, SQL_PURGE_FILE_VERSIONS, SQL_PURGE_FILE] {
            exec_sql(conn, sqlx::query(sql).bind(*file)).await?;
        }
        append_event(conn, events, Audience::Channel(channel), at, Event::FileDeleted { channel_id: channel, file_id: FileId(*file) }).await?;
    }
    Ok(())
}
