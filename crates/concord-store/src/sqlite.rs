//! The SQLite backend: WAL, `synchronous = FULL` (an acknowledged write survives power loss),
//! one writer connection and a pool of readers.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;

type Db = sqlx::Sqlite;
type DbConn = sqlx::SqliteConnection;
type DbPool = sqlx::SqlitePool;
type DbRow = sqlx::sqlite::SqliteRow;
const BACKEND: &str = "sqlite";

/// SQLite has one writer at a time and ours is the only one: nothing to lock.
async fn lock_log_for_append(_conn: &mut DbConn) -> Result<(), sqlx::Error> {
    Ok(())
}

/// A read transaction sees one snapshot from its first read on (WAL).
async fn begin_snapshot(conn: &mut DbConn) -> Result<sqlx::Transaction<'_, Db>, sqlx::Error> {
    Connection::begin(conn).await
}

/// The writer gets a thread and a runtime of its own: it is the hot path of every write, and
/// on a shared runtime it queues behind thousands of connection tasks. SQLite connections run
/// on their own worker threads, so they do not care which runtime drives them.
fn spawn_writer(writer: impl Future<Output = ()> + Send + 'static) {
    let spawned = std::thread::Builder::new()
        .name("concord-sqlite-writer".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(writer),
                Err(e) => tracing::error!(error = %e, "cannot start the writer runtime"),
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the writer thread");
    }
}

include!("shared/writer.rs");
include!("shared/rows.rs");
include!("shared/writes.rs");
include!("shared/store_impl.rs");

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
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .connect_with(options.clone())
        .await
        .map_err(map_err)?;
    MIGRATOR
        .run(&write)
        .await
        .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
    let read = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options.read_only(true))
        .await
        .map_err(map_err)?;
    Ok(SqlStore::start(read, write))
}
