// Included by both backends: the statements behind files (metadata, versions, comments,
// attachments to messages, blob bookkeeping), with the row mapping both readers share. `$n`
// parameters are numbered in order of first appearance (see org_sql.rs), so the SQLite writer
// can bind them positionally.

use concord_core::store::{FileStore, FileUpdate, NewFile, NewFileComment, NewFileVersion};
use concord_proto::{FileComment, FileCommentId, FileId, FileInfo, FileRef, FileVersion};

/// A file joined with its current version.
const FILE_SELECT: &str = "SELECT f.id, f.channel_id, f.name, f.sensitive, f.current_version, f.created_by, \
     f.created_at, f.updated_at, v.sha256, v.size, v.mime, v.width, v.height \
     FROM files f JOIN file_versions v ON v.file_id = f.id AND v.version = f.current_version";
const VERSION_COLS: &str = "version, sha256, size, mime, width, height, uploaded_by, uploaded_at, comment, restored_from";
const COMMENT_COLS: &str = "id, file_id, version, author_id, body, mentions, created_at";

const SQL_INSERT_BLOB: &str = "INSERT INTO file_blobs (sha256, size, created_at) VALUES ($1, $2, $3) \
     ON CONFLICT (sha256) DO NOTHING";
const SQL_INSERT_FILE: &str = "INSERT INTO files (channel_id, name, sensitive, current_version, created_by, created_at, updated_at) \
     VALUES ($1, $2, $3, 1, $4, $5, $5) RETURNING id";
const SQL_INSERT_VERSION: &str = "INSERT INTO file_versions \
     (file_id, version, sha256, size, mime, width, height, uploaded_by, uploaded_at, comment, restored_from) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
const SQL_NEXT_VERSION: &str = "UPDATE files SET current_version = current_version + 1, updated_at = $1 \
     WHERE id = $2 AND deleted_at IS NULL RETURNING current_version";
const SQL_RENAME_FILE: &str = "UPDATE files SET name = $1, updated_at = $2 WHERE id = $3 AND deleted_at IS NULL";
const SQL_FLAG_FILE: &str = "UPDATE files SET sensitive = $1, updated_at = $2 WHERE id = $3 AND deleted_at IS NULL";
const SQL_DELETE_FILE: &str = "UPDATE files SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL RETURNING channel_id";
const SQL_INSERT_COMMENT: &str = "INSERT INTO file_comments (file_id, version, author_id, body, mentions, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
const SQL_VERSION_EXISTS: &str = "SELECT 1 FROM file_versions v JOIN files f ON f.id = v.file_id \
     WHERE v.file_id = $1 AND v.version = $2 AND f.deleted_at IS NULL";
/// The attachment as a message shows it: only a live file of the message's channel.
const SQL_ATTACHABLE: &str = "SELECT f.id, f.name, v.mime, v.size, f.current_version, v.width, v.height \
     FROM files f JOIN file_versions v ON v.file_id = f.id AND v.version = f.current_version \
     WHERE f.id = $1 AND f.channel_id = $2 AND f.deleted_at IS NULL";
const SQL_ATTACH: &str = "INSERT INTO message_files (message_id, file_id, position) VALUES ($1, $2, $3)";
// Content stays while any version of any file uses it, deleted files included (a deleted file
// is a tombstone, kept for compliance and legal holds until retention removes it).
const SQL_UNREFERENCED_BLOBS: &str = "SELECT b.sha256 FROM file_blobs b WHERE NOT EXISTS \
     (SELECT 1 FROM file_versions v WHERE v.sha256 = b.sha256) ORDER BY b.created_at LIMIT $1";
const SQL_FORGET_BLOB: &str = "DELETE FROM file_blobs WHERE sha256 = $1 AND NOT EXISTS \
     (SELECT 1 FROM file_versions v WHERE v.sha256 = $1)";

// Retention. A file goes when it has expired (its last change is at or before the cutoff),
// every message that carried it is being pruned, and its uploader is not on hold.
const SQL_EXPIRED_FILES: &str = "SELECT id, created_by FROM files WHERE channel_id = $1 AND updated_at <= $2";
const SQL_FILE_CARRIERS: &str = "SELECT message_id FROM message_files WHERE file_id = $1";
const SQL_DELETE_MESSAGE_FILES: &str = "DELETE FROM message_files WHERE message_id = $1";
const SQL_PURGE_FILE_COMMENTS: &str = "DELETE FROM file_comments WHERE file_id = $1";
const SQL_PURGE_FILE_VERSIONS: &str = "DELETE FROM file_versions WHERE file_id = $1";
const SQL_PURGE_FILE: &str = "DELETE FROM files WHERE id = $1";

/// Whether an expired file can go with the messages being pruned: nothing else carries it and
/// its uploader is not on hold.
fn file_prunable(created_by: i64, carriers: &[i64], pruning: &std::collections::HashSet<i64>, held: &std::collections::HashSet<i64>) -> bool {
    !held.contains(&created_by) && carriers.iter().all(|m| pruning.contains(m))
}

fn file_mentions_text(mentions: &[UserId]) -> String {
    serde_json::to_string(&mentions.iter().map(|u| u.0).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

fn file_mentions_parse(text: &str) -> Vec<UserId> {
    serde_json::from_str::<Vec<i64>>(text).unwrap_or_default().into_iter().map(UserId).collect()
}

fn file_from_row(row: &DbRow) -> Result<FileInfo, sqlx::Error> {
    let sensitive: bool = row.try_get("sensitive")?;
    Ok(FileInfo {
        id: FileId(row.try_get("id")?),
        channel_id: ChannelId(row.try_get("channel_id")?),
        name: row.try_get("name")?,
        mime: row.try_get("mime")?,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        version: row.try_get("current_version")?,
        sensitive,
        effective_sensitive: sensitive,
        width: row.try_get("width")?,
        height: row.try_get("height")?,
        created_by: UserId(row.try_get("created_by")?),
        created_at: ts(row.try_get("created_at")?),
        updated_at: ts(row.try_get("updated_at")?),
    })
}

fn file_version_from_row(row: &DbRow) -> Result<FileVersion, sqlx::Error> {
    Ok(FileVersion {
        version: row.try_get("version")?,
        sha256: row.try_get("sha256")?,
        size: row.try_get("size")?,
        mime: row.try_get("mime")?,
        width: row.try_get("width")?,
        height: row.try_get("height")?,
        uploaded_by: UserId(row.try_get("uploaded_by")?),
        uploaded_at: ts(row.try_get("uploaded_at")?),
        comment: row.try_get("comment")?,
        restored_from: row.try_get("restored_from")?,
    })
}

fn file_comment_from_row(row: &DbRow) -> Result<FileComment, sqlx::Error> {
    Ok(FileComment {
        id: FileCommentId(row.try_get("id")?),
        file_id: FileId(row.try_get("file_id")?),
        version: row.try_get("version")?,
        author_id: UserId(row.try_get("author_id")?),
        text: row.try_get("body")?,
        mentions: file_mentions_parse(&row.try_get::<String, _>("mentions")?),
        created_at: ts(row.try_get("created_at")?),
    })
}

/// Fills in `files` for the given messages with one query (deleted files are left out).
async fn attach_files<'e, E>(exec: E, messages: &mut [Message]) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    if messages.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::<Db>::new(
        "SELECT mf.message_id, f.id, f.name, v.mime, v.size, f.current_version, v.width, v.height \
         FROM message_files mf JOIN files f ON f.id = mf.file_id \
         JOIN file_versions v ON v.file_id = f.id AND v.version = f.current_version \
         WHERE f.deleted_at IS NULL AND mf.message_id IN (",
    );
    let mut list = q.separated(", ");
    for m in messages.iter() {
        list.push_bind(m.id.0);
    }
    q.push(") ORDER BY mf.message_id, mf.position");
    let rows = q.build().fetch_all(exec).await?;
    for row in rows {
        let id = MessageId(row.try_get("message_id")?);
        let file = FileRef {
            id: FileId(row.try_get("id")?),
            name: row.try_get("name")?,
            mime: row.try_get("mime")?,
            size: row.try_get("size")?,
            version: row.try_get("current_version")?,
            width: row.try_get("width")?,
            height: row.try_get("height")?,
        };
        if let Some(m) = messages.iter_mut().find(|m| m.id == id) {
            m.files.push(file);
        }
    }
    Ok(())
}

#[async_trait]
impl FileStore for SqlStore {
    async fn create_file(&self, file: NewFile) -> Result<FileInfo, StoreError> {
        write_op!(self, op_create_file(file))
    }

    async fn add_file_version(&self, file: FileId, version: NewFileVersion) -> Result<FileInfo, StoreError> {
        write_op!(self, op_add_file_version(file, version))
    }

    async fn update_file(&self, file: FileId, update: FileUpdate) -> Result<FileInfo, StoreError> {
        write_op!(self, op_update_file(file, update))
    }

    async fn delete_file(&self, file: FileId, at: Timestamp) -> Result<(), StoreError> {
        write_op!(self, op_delete_file(file, at))
    }

    async fn file(&self, id: FileId) -> Result<Option<FileInfo>, StoreError> {
        let row = sqlx::query(sqlf!("{FILE_SELECT} WHERE f.id = $1 AND f.deleted_at IS NULL"))
            .bind(id.0)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.as_ref().map(file_from_row).transpose().map_err(map_err)
    }

    async fn file_versions(&self, id: FileId) -> Result<Vec<FileVersion>, StoreError> {
        let rows = sqlx::query(sqlf!("SELECT {VERSION_COLS} FROM file_versions WHERE file_id = $1 ORDER BY version"))
            .bind(id.0)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.iter().map(file_version_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn channel_files(&self, channel: ChannelId, before: Option<FileId>, limit: i64) -> Result<Vec<FileInfo>, StoreError> {
        let rows = sqlx::query(sqlf!(
            "{FILE_SELECT} WHERE f.channel_id = $1 AND f.deleted_at IS NULL AND f.id < $2 ORDER BY f.id DESC LIMIT $3"
        ))
        .bind(channel.0)
        .bind(before.map_or(i64::MAX, |b| b.0))
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        rows.iter().map(file_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn add_file_comment(&self, comment: NewFileComment) -> Result<FileComment, StoreError> {
        // Comments are sealed at rest like messages, with their channel's key.
        let file = self.file(comment.file_id).await?.ok_or(StoreError::NotFound("file"))?;
        let sealed = self.seal_for(&at_rest::scope::channel(file.channel_id), &comment.text).await?;
        write_op!(self, op_add_file_comment(comment, sealed))
    }

    async fn file_comments(&self, file: FileId) -> Result<Vec<FileComment>, StoreError> {
        let rows = sqlx::query(sqlf!("SELECT {COMMENT_COLS} FROM file_comments WHERE file_id = $1 ORDER BY id"))
            .bind(file.0)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        let mut comments: Vec<FileComment> = rows.iter().map(file_comment_from_row).collect::<Result<_, _>>().map_err(map_err)?;
        for c in &mut comments {
            self.open_in_place(&mut c.text).await?;
        }
        Ok(comments)
    }

    async fn unreferenced_blobs(&self, limit: i64) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(SQL_UNREFERENCED_BLOBS).bind(limit).fetch_all(&self.read).await.map_err(map_err)
    }

    async fn forget_blob(&self, sha256: String) -> Result<bool, StoreError> {
        write_op!(self, op_forget_blob(sha256))
    }
}
