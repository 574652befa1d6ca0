// Included by both backends: the reads behind compliance and personal exports and the
// `ExportStore` impl. Read-only, so there is no writer part. Lists of ids are bound one by
// one through `QueryBuilder` (which numbers placeholders for each dialect); every read is
// paged by a key, so an export holds one page at a time. Texts are opened after the read
// (encryption at rest), like every other read of message bodies.

use concord_core::store::{
    ExportFileVersion, ExportMessage, ExportReaction, ExportScope, ExportStore, ExportVersion, ReactionKey,
};

/// The most ids bound into one `IN` list (SQLite's default limit on variables is 32,766).
const EXPORT_MAX_IDS: usize = 1_000;

const SQL_EXPORT_MESSAGES: &str = "SELECT m.id, m.channel_id, c.name AS channel_name, m.seq, m.sender_id, \
     u.username AS sender_username, m.body, m.thread_root_id, m.created_at, m.edited_at, m.deleted_at \
     FROM messages m JOIN channels c ON c.id = m.channel_id JOIN users u ON u.id = m.sender_id WHERE m.id > ";

const SQL_EXPORT_VERSIONS: &str =
    "SELECT v.message_id, v.version, v.body, v.created_at FROM message_versions v WHERE v.message_id IN (";

const SQL_EXPORT_REACTIONS: &str = "SELECT r.message_id, m.channel_id, r.user_id, u.username, r.emoji, r.created_at \
     FROM reactions r JOIN messages m ON m.id = r.message_id JOIN users u ON u.id = r.user_id WHERE ";

const SQL_EXPORT_FILE_VERSIONS: &str = "SELECT f.id AS file_id, f.channel_id, f.name, v.version, v.sha256, v.size, \
     v.mime, v.uploaded_by, u.username AS uploader_username, v.uploaded_at, v.comment, f.deleted_at \
     FROM file_versions v JOIN files f ON f.id = v.file_id JOIN users u ON u.id = v.uploaded_by WHERE ";

/// Appends ` AND {column} IN (...)` when `ids` is not empty.
fn push_in_list(q: &mut QueryBuilder<Db>, column: &str, ids: &[i64]) {
    if ids.is_empty() {
        return;
    }
    q.push(format_args!(" AND {column} IN ("));
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
}

/// Appends the scope's channel, person and `[from, to)` conditions.
fn push_scope(q: &mut QueryBuilder<Db>, scope: &ExportScope, channel: &str, person: &str, time: &str) {
    let channels: Vec<i64> = scope.channels.iter().map(|c| c.0).collect();
    let users: Vec<i64> = scope.users.iter().map(|u| u.0).collect();
    push_in_list(q, channel, &channels);
    push_in_list(q, person, &users);
    if let Some(from) = scope.from {
        q.push(format_args!(" AND {time} >= ")).push_bind(ms(from));
    }
    if let Some(to) = scope.to {
        q.push(format_args!(" AND {time} < ")).push_bind(ms(to));
    }
}

fn export_message_from_row(row: &DbRow) -> Result<ExportMessage, sqlx::Error> {
    Ok(ExportMessage {
        id: MessageId(row.try_get("id")?),
        channel_id: ChannelId(row.try_get("channel_id")?),
        channel_name: row.try_get::<Option<String>, _>("channel_name")?.unwrap_or_default(),
        seq: row.try_get("seq")?,
        sender_id: UserId(row.try_get("sender_id")?),
        sender_username: row.try_get("sender_username")?,
        text: row.try_get("body")?,
        thread_root_id: row.try_get::<Option<i64>, _>("thread_root_id")?.map(MessageId),
        created_at: ts(row.try_get("created_at")?),
        edited_at: row.try_get::<Option<i64>, _>("edited_at")?.map(ts),
        deleted_at: row.try_get::<Option<i64>, _>("deleted_at")?.map(ts),
    })
}

fn export_reaction_from_row(row: &DbRow) -> Result<ExportReaction, sqlx::Error> {
    Ok(ExportReaction {
        message_id: MessageId(row.try_get("message_id")?),
        channel_id: ChannelId(row.try_get("channel_id")?),
        user_id: UserId(row.try_get("user_id")?),
        username: row.try_get("username")?,
        emoji: row.try_get("emoji")?,
        created_at: ts(row.try_get("created_at")?),
    })
}

fn export_file_version_from_row(row: &DbRow) -> Result<ExportFileVersion, sqlx::Error> {
    Ok(ExportFileVersion {
        file_id: FileId(row.try_get("file_id")?),
        channel_id: ChannelId(row.try_get("channel_id")?),
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        sha256: row.try_get("sha256")?,
        size: row.try_get("size")?,
        mime: row.try_get("mime")?,
        uploaded_by: UserId(row.try_get("uploaded_by")?),
        uploader_username: row.try_get("uploader_username")?,
        uploaded_at: ts(row.try_get("uploaded_at")?),
        comment: row.try_get("comment")?,
        file_deleted_at: row.try_get::<Option<i64>, _>("deleted_at")?.map(ts),
    })
}

fn export_limit(limit: i64) -> i64 {
    limit.clamp(1, EXPORT_MAX_IDS as i64)
}

#[async_trait]
impl ExportStore for SqlStore {
    async fn export_messages(
        &self,
        scope: &ExportScope,
        after: Option<MessageId>,
        limit: i64,
    ) -> Result<Vec<ExportMessage>, StoreError> {
        let mut q = QueryBuilder::<Db>::new(SQL_EXPORT_MESSAGES);
        q.push_bind(after.map_or(0, |m| m.0));
        push_scope(&mut q, scope, "m.channel_id", "m.sender_id", "m.created_at");
        q.push(" ORDER BY m.id LIMIT ").push_bind(export_limit(limit));
        let rows = q.build().fetch_all(&self.read).await.map_err(map_err)?;
        let mut out = rows.iter().map(export_message_from_row).collect::<Result<Vec<_>, _>>().map_err(map_err)?;
        for m in &mut out {
            self.open_in_place(&mut m.text).await?;
        }
        Ok(out)
    }

    async fn export_versions(&self, messages: &[MessageId]) -> Result<Vec<ExportVersion>, StoreError> {
        let mut out = Vec::new();
        for chunk in messages.chunks(EXPORT_MAX_IDS) {
            let mut q = QueryBuilder::<Db>::new(SQL_EXPORT_VERSIONS);
            let mut list = q.separated(", ");
            for m in chunk {
                list.push_bind(m.0);
            }
            q.push(") ORDER BY v.message_id, v.version");
            for row in q.build().fetch_all(&self.read).await.map_err(map_err)? {
                let mut version = (|| {
                    Ok::<_, sqlx::Error>(ExportVersion {
                        message_id: MessageId(row.try_get("message_id")?),
                        version: row.try_get("version")?,
                        text: row.try_get("body")?,
                        created_at: ts(row.try_get("created_at")?),
                    })
                })()
                .map_err(map_err)?;
                self.open_in_place(&mut version.text).await?;
                out.push(version);
            }
        }
        Ok(out)
    }

    async fn export_reactions(&self, messages: &[MessageId]) -> Result<Vec<ExportReaction>, StoreError> {
        let mut out = Vec::new();
        for chunk in messages.chunks(EXPORT_MAX_IDS) {
            let mut q = QueryBuilder::<Db>::new(SQL_EXPORT_REACTIONS);
            q.push("r.message_id IN (");
            let mut list = q.separated(", ");
            for m in chunk {
                list.push_bind(m.0);
            }
            q.push(") ORDER BY r.message_id, r.created_at, r.user_id, r.emoji");
            let rows = q.build().fetch_all(&self.read).await.map_err(map_err)?;
            for row in &rows {
                out.push(export_reaction_from_row(row).map_err(map_err)?);
            }
        }
        Ok(out)
    }

    async fn export_user_reactions(
        &self,
        user: UserId,
        after: Option<ReactionKey>,
        limit: i64,
    ) -> Result<Vec<ExportReaction>, StoreError> {
        let mut q = QueryBuilder::<Db>::new(SQL_EXPORT_REACTIONS);
        q.push("r.user_id = ").push_bind(user.0);
        if let Some((message, emoji)) = after {
            q.push(" AND (r.message_id > ").push_bind(message.0);
            q.push(" OR (r.message_id = ").push_bind(message.0);
            q.push(" AND r.emoji > ").push_bind(emoji).push("))");
        }
        q.push(" ORDER BY r.message_id, r.emoji LIMIT ").push_bind(export_limit(limit));
        let rows = q.build().fetch_all(&self.read).await.map_err(map_err)?;
        rows.iter().map(export_reaction_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn export_file_versions(
        &self,
        scope: &ExportScope,
        after: Option<(FileId, i64)>,
        limit: i64,
    ) -> Result<Vec<ExportFileVersion>, StoreError> {
        let (file, version) = after.map_or((0, 0), |(f, v)| (f.0, v));
        let mut q = QueryBuilder::<Db>::new(SQL_EXPORT_FILE_VERSIONS);
        q.push("(v.file_id > ").push_bind(file);
        q.push(" OR (v.file_id = ").push_bind(file);
        q.push(" AND v.version > ").push_bind(version).push("))");
        push_scope(&mut q, scope, "f.channel_id", "v.uploaded_by", "v.uploaded_at");
        q.push(" ORDER BY v.file_id, v.version LIMIT ").push_bind(export_limit(limit));
        let rows = q.build().fetch_all(&self.read).await.map_err(map_err)?;
        rows.iter().map(export_file_version_from_row).collect::<Result<_, _>>().map_err(map_err)
    }
}
