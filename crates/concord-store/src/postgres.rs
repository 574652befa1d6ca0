//! The PostgreSQL backend: `synchronous_commit = on` (the server default), one pool.
//! Appends to the event log are serialised with a transaction-scoped advisory lock, so log
//! positions commit in order even with several Concord nodes on one database.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

type Db = sqlx::Postgres;
type DbConn = sqlx::PgConnection;
type DbPool = sqlx::PgPool;
type DbRow = sqlx::postgres::PgRow;
const BACKEND: &str = "postgres";

/// Any stable number; it names the lock that orders appends to the event log.
const EVENT_LOG_LOCK: i64 = 0x0063_6f6e_636f_7264;

async fn lock_log_for_append(conn: &mut DbConn) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(EVENT_LOG_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}

/// REPEATABLE READ: every statement in the transaction sees the same snapshot.
async fn begin_snapshot(conn: &mut DbConn) -> Result<sqlx::Transaction<'_, Db>, sqlx::Error> {
    let mut tx = Connection::begin(conn).await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// PostgreSQL connections are sockets on the server's runtime: the writer stays on it.
fn spawn_writer(writer: impl Future<Output = ()> + Send + 'static) {
    tokio::spawn(writer);
}

include!("shared/base.rs");
include!("shared/rows.rs");
include!("shared/org_sql.rs");
include!("shared/org_reads.rs");
include!("shared/dynamic_sql.rs");
include!("shared/sqlx_writer.rs");
include!("shared/sqlx_writes.rs");
include!("shared/sqlx_org_writes.rs");
include!("shared/directory_sql.rs");
include!("shared/directory_reads.rs");
include!("shared/sqlx_directory_writes.rs");
include!("shared/sqlx_dynamic_writes.rs");
include!("shared/accounts_sql.rs");
include!("shared/sqlx_accounts_writes.rs");
include!("shared/files_sql.rs");
include!("shared/file_search_sql.rs");
include!("shared/sqlx_files_writes.rs");
include!("shared/apps_sql.rs");
include!("shared/sqlx_apps_writes.rs");
include!("shared/retention_sql.rs");
include!("shared/sqlx_retention_writes.rs");
include!("shared/at_rest.rs");
include!("shared/sqlx_keys_writes.rs");
include!("shared/store_impl.rs");
// Compliance and personal exports (reads only).
include!("shared/export_sql.rs");

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Connects, creates `schema` if given (and uses it for everything), and migrates.
pub async fn open(
    url: &str,
    schema: Option<&str>,
    max_connections: u32,
) -> Result<SqlStore, StoreError> {
    let mut options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Unavailable(format!("invalid database URL: {e}")))?;
    if let Some(schema) = schema {
        if !schema
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(StoreError::Unavailable(
                "schema names may contain only a-z, 0-9 and _".into(),
            ));
        }
        let mut admin = sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(map_err)?;
        sqlx::query(sqlf!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .execute(&mut admin)
            .await
            .map_err(map_err)?;
        admin.close().await.map_err(map_err)?;
        options = options.options([("search_path", schema)]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(max_connections.max(2))
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(map_err)?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
    Ok(SqlStore::start(pool.clone(), pool))
}
