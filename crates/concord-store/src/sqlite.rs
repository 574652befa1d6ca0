//! The SQLite backend: WAL, `synchronous = FULL` (an acknowledged write survives power loss),
//! one writer thread with its own connection (rusqlite) and a pool of readers (sqlx).

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;

type Db = sqlx::Sqlite;
type DbConn = sqlx::SqliteConnection;
type DbPool = sqlx::SqlitePool;
type DbRow = sqlx::sqlite::SqliteRow;
const BACKEND: &str = "sqlite";

/// A read transaction sees one snapshot from its first read on (WAL).
async fn begin_snapshot(conn: &mut DbConn) -> Result<sqlx::Transaction<'_, Db>, sqlx::Error> {
    Connection::begin(conn).await
}

include!("shared/base.rs");
include!("shared/rows.rs");
include!("shared/org_sql.rs");
include!("shared/org_reads.rs");
include!("shared/dynamic_sql.rs");
include!("sqlite_writer.rs");
include!("sqlite_org_writer.rs");
include!("shared/directory_sql.rs");
include!("shared/directory_reads.rs");
include!("sqlite_directory_writer.rs");
include!("sqlite_dynamic_writer.rs");
include!("shared/accounts_sql.rs");
include!("sqlite_accounts_writer.rs");
include!("shared/files_sql.rs");
include!("shared/file_search_sql.rs");
include!("sqlite_files_writer.rs");
include!("shared/apps_sql.rs");
include!("sqlite_apps_writer.rs");
include!("shared/retention_sql.rs");
include!("sqlite_retention_writer.rs");
include!("shared/at_rest.rs");
include!("sqlite_keys_writer.rs");
include!("shared/store_impl.rs");
// Compliance and personal exports (reads only).
include!("shared/export_sql.rs");

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// Opens (creating if needed) the database file at `path` and migrates it.
pub async fn open(path: &Path) -> Result<SqlStore, StoreError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
        })?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .pragma("cache_size", "-32768")
        .pragma("temp_store", "memory");
    // Migrations run through sqlx; writes then go through the writer's own connection.
    let migrate = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .map_err(map_err)?;
    let migrated = MIGRATOR.run(&migrate).await;
    migrate.close().await;
    migrated.map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
    let writer = open_writer(path).map_err(map_rerr)?;
    let checkpointer = open_writer(path).map_err(map_rerr)?;
    let read = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options.read_only(true))
        .await
        .map_err(map_err)?;
    SqlStore::start_sqlite(read, writer, checkpointer)
}

/// A writing connection (the writer's, the checkpointer's): the readers' durability settings.
fn open_writer(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -32768)?;
    // Checkpoints run on their own thread (see `run_checkpointer`); this is only a backstop.
    conn.pragma_update(None, "wal_autocheckpoint", 20_000)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}
