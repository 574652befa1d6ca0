// Files' writes on SQLite's writer thread (rusqlite), running the statements of
// `shared/files_sql.rs`. Included by `sqlite.rs` after it.

fn r_file(row: &rusqlite::Row<'_>) -> rusqlite::Result<FileInfo> {
    let sensitive: bool = row.get("sensitive")?;
    Ok(FileInfo {
        id: FileId(row.get("id")?),
        channel_id: ChannelId(row.get("channel_id")?),
        name: row.get("name")?,
        mime: row.get("mime")?,
        size: row.get("size")?,
        sha256: row.get("sha256")?,
        version: row.get("current_version")?,
        sensitive,
        effective_sensitive: sensitive,
        width: row.get("width")?,
        height: row.get("height")?,
        created_by: UserId(row.get("created_by")?),
        created_at: ts(row.get("created_at")?),
        updated_at: ts(row.get("updated_at")?),
    })
}

fn r_load_file(conn: &rusqlite::Connection, id: FileId) -> Result<FileInfo, StoreError> {
    let sql = format!("{FILE_SELECT} WHERE f.id = $1 AND f.deleted_at IS NULL");
    conn.prepare_cached(&sql)
        .and_then(|mut st| st.query_row([id.0], r_file).optional())
        .map_err(map_rerr)?
        .ok_or(StoreError::NotFound("file"))
}

fn r_insert_version(conn: &rusqlite::Connection, file: FileId, version: i64, v: &NewFileVersion) -> Result<(), StoreError> {
    exec(conn, SQL_INSERT_BLOB, params![v.sha256, v.size, ms(v.uploaded_at)])?;
    exec(
        conn,
        SQL_INSERT_VERSION,
        params![
            file.0,
            version,
            v.sha256,
            v.size,
            v.mime,
            v.width,
            v.height,
            v.uploaded_by.0,
            ms(v.uploaded_at),
            v.comment,
            v.restored_from
        ],
    )?;
    Ok(())
}

fn op_create_file(conn: &rusqlite::Connection, events: &mut Vec<CommittedEvent>, f: NewFile) -> Result<FileInfo, StoreError> {
    let at = f.first.uploaded_at;
    let id: i64 = conn
        .prepare_cached(SQL_INSERT_FILE)
        .and_then(|mut st| st.query_row(params![f.channel_id.0, f.name, f.sensitive, f.first.uploaded_by.0, ms(at)], |r| r.get(0)))
        .map_err(map_rerr)?;
    r_insert_version(conn, FileId(id), 1, &f.first)?;
    let file = r_load_file(conn, FileId(id))?;
    r_append_event(conn, events, Audience::Channel(f.channel_id), at, Event::FileCreated { file: file.clone() })?;
    Ok(file)
}

fn op_add_file_version(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    id: FileId,
    v: NewFileVersion,
) -> Result<FileInfo, StoreError> {
    let version: i64 = conn
        .prepare_cached(SQL_NEXT_VERSION)
        .and_then(|mut st| st.query_row(params![ms(v.uploaded_at), id.0], |r| r.get(0)).optional())
        .map_err(map_rerr)?
        .ok_or(StoreError::NotFound("file"))?;
    r_insert_version(conn, id, version, &v)?;
    let file = r_load_file(conn, id)?;
    r_append_event(conn, events, Audience::Channel(file.channel_id), v.uploaded_at, Event::FileUpdated { file: file.clone() })?;
    Ok(file)
}

fn op_update_file(conn: &rusqlite::Connection, events: &mut Vec<CommittedEvent>, id: FileId, u: FileUpdate) -> Result<FileInfo, StoreError> {
    if let Some(name) = &u.name
        && exec(conn, SQL_RENAME_FILE, params![name, ms(u.at), id.0])? == 0
    {
        return Err(StoreError::NotFound("file"));
    }
    if let Some(flag) = u.sensitive
        && exec(conn, SQL_FLAG_FILE, params![flag, ms(u.at), id.0])? == 0
    {
        return Err(StoreError::NotFound("file"));
    }
    let file = r_load_file(conn, id)?;
    r_append_event(conn, events, Audience::Channel(file.channel_id), u.at, Event::FileUpdated { file: file.clone() })?;
    Ok(file)
}

fn op_delete_file(conn: &rusqlite::Connection, events: &mut Vec<CommittedEvent>, id: FileId, at: Timestamp) -> Result<(), StoreError> {
    let channel: i64 = conn
        .prepare_cached(SQL_DELETE_FILE)
        .and_then(|mut st| st.query_row(params![ms(at), id.0], |r| r.get(0)).optional())
        .map_err(map_rerr)?
        .ok_or(StoreError::NotFound("file"))?;
    let channel_id = ChannelId(channel);
    r_append_event(conn, events, Audience::Channel(channel_id), at, Event::FileDeleted { channel_id, file_id: id })
}

/// `sealed`: the text as stored at rest, when encryption is on.
fn op_add_file_comment(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    c: NewFileComment,
    sealed: Option<String>,
) -> Result<FileComment, StoreError> {
    let exists = conn
        .prepare_cached(SQL_VERSION_EXISTS)
        .and_then(|mut st| st.query_row(params![c.file_id.0, c.version], |_| Ok(())).optional())
        .map_err(map_rerr)?;
    if exists.is_none() {
        return Err(StoreError::NotFound("file version"));
    }
    let id: i64 = conn
        .prepare_cached(SQL_INSERT_COMMENT)
        .and_then(|mut st| {
            st.query_row(
                params![c.file_id.0, c.version, c.author_id.0, sealed.as_deref().unwrap_or(&c.text), file_mentions_text(&c.mentions), ms(c.created_at)],
                |r| r.get(0),
            )
        })
        .map_err(map_rerr)?;
    let file = r_load_file(conn, c.file_id)?;
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
    r_append_sealed_event(conn, events, Audience::Channel(file.channel_id), c.created_at, event, sealed.as_deref())?;
    Ok(comment)
}

/// Attaches files to a message being sent (inside its job), returning them as it shows them.
fn r_attach_files(conn: &rusqlite::Connection, message: i64, channel: ChannelId, files: &[FileId]) -> Result<Vec<FileRef>, StoreError> {
    let mut refs = Vec::with_capacity(files.len());
    for (position, id) in files.iter().enumerate() {
        let file = conn
            .prepare_cached(SQL_ATTACHABLE)
            .and_then(|mut st| {
                st.query_row(params![id.0, channel.0], |r| {
                    Ok(FileRef {
                        id: FileId(r.get(0)?),
                        name: r.get(1)?,
                        mime: r.get(2)?,
                        size: r.get(3)?,
                        version: r.get(4)?,
                        width: r.get(5)?,
                        height: r.get(6)?,
                    })
                })
                .optional()
            })
            .map_err(map_rerr)?
            .ok_or(StoreError::NotFound("file"))?;
        exec(conn, SQL_ATTACH, params![message, id.0, position as i64])?;
        refs.push(file);
    }
    Ok(refs)
}

fn op_forget_blob(conn: &rusqlite::Connection, _events: &mut Vec<CommittedEvent>, sha256: String) -> Result<bool, StoreError> {
    Ok(exec(conn, SQL_FORGET_BLOB, params![sha256])? > 0)
}

/// A message's files as it shows them (for a message loaded inside the writer).
fn r_message_files(conn: &rusqlite::Connection, message: MessageId) -> Result<Vec<FileRef>, StoreError> {
    let mut st = conn
        .prepare_cached(
            "SELECT f.id, f.name, v.mime, v.size, f.current_version, v.width, v.height \
             FROM message_files mf JOIN files f ON f.id = mf.file_id \
             JOIN file_versions v ON v.file_id = f.id AND v.version = f.current_version \
             WHERE mf.message_id = ?1 AND f.deleted_at IS NULL ORDER BY mf.position",
        )
        .map_err(map_rerr)?;
    let rows = st
        .query_map([message.0], |r| {
            Ok(FileRef {
                id: FileId(r.get(0)?),
                name: r.get(1)?,
                mime: r.get(2)?,
                size: r.get(3)?,
                version: r.get(4)?,
                width: r.get(5)?,
                height: r.get(6)?,
            })
        })
        .map_err(map_rerr)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(map_rerr)
}

/// The channel's expired files that can go with the messages in `pruning` (see
/// [`file_prunable`]).
fn r_prunable_files(
    conn: &rusqlite::Connection,
    channel: i64,
    cutoff: Timestamp,
    pruning: &std::collections::HashSet<i64>,
    held: &std::collections::HashSet<i64>,
) -> Result<Vec<i64>, StoreError> {
    let expired: Vec<(i64, i64)> = conn
        .prepare_cached(SQL_EXPIRED_FILES)
        .and_then(|mut st| st.query_map(params![channel, ms(cutoff)], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(map_rerr)?;
    let mut out = Vec::new();
    for (file, created_by) in expired {
        let carriers: Vec<i64> = conn
            .prepare_cached(SQL_FILE_CARRIERS)
            .and_then(|mut st| st.query_map([file], |r| r.get(0))?.collect())
            .map_err(map_rerr)?;
        if file_prunable(created_by, &carriers, pruning, held) {
            out.push(file);
        }
    }
    Ok(out)
}

/// Removes pruned files' rows (their content is collected once no version uses it).
fn r_purge_files(conn: &rusqlite::Connection, events: &mut Vec<CommittedEvent>, channel: ChannelId, files: &[i64], at: Timestamp) -> Result<(), StoreError> {
    for file in files {
        exec(conn, SQL_PURGE_FILE_COMMENTS, [file])?;
        exec(conn, SQL_PURGE_FILE_VERSIONS, [file])?;
        exec(conn, SQL_PURGE_FILE, [file])?;
        r_append_event(conn, events, Audience::Channel(channel), at, Event::FileDeleted { channel_id: channel, file_id: FileId(*file) })?;
    }
    Ok(())
}
