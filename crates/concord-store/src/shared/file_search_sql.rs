// Included by both backends: the read behind `FileSearchStore` (every live file in id order,
// for rebuilding the search index). Uses `FILE_SELECT` and `file_from_row` from files_sql.rs.

use concord_core::store::FileSearchStore;

#[async_trait]
impl FileSearchStore for SqlStore {
    async fn files_after(&self, after: FileId, limit: i64) -> Result<Vec<FileInfo>, StoreError> {
        let rows = sqlx::query(sqlf!(
            "{FILE_SELECT} WHERE f.id > $1 AND f.deleted_at IS NULL ORDER BY f.id LIMIT $2"
        ))
        .bind(after.0)
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        rows.iter().map(file_from_row).collect::<Result<_, _>>().map_err(map_err)
    }
}
