//! Concord's store on SQLite (the embedded default) and PostgreSQL (for scale-out).
//!
//! Both backends share one implementation of [`concord_core::Store`] (`shared/*.rs`, included
//! into each backend module) and differ only in how they connect, migrate and lock.
//! Invariant: every write goes through the backend's single writer task, which group-commits.

pub mod postgres;
pub mod sqlite;

use concord_core::{Store, StoreError};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the data lives.
#[derive(Clone, Debug)]
pub enum StoreConfig {
    /// A database file (created with its directory if missing).
    Sqlite { path: PathBuf },
    /// A PostgreSQL URL; `schema`, when given, is created if missing and used for every table
    /// (tests use a fresh schema each).
    Postgres {
        url: String,
        schema: Option<String>,
        max_connections: u32,
    },
}

/// Opens the store and applies pending migrations.
pub async fn open(config: &StoreConfig) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match config {
        StoreConfig::Sqlite { path } => Arc::new(sqlite::open(path).await?),
        StoreConfig::Postgres {
            url,
            schema,
            max_connections,
        } => Arc::new(postgres::open(url, schema.as_deref(), *max_connections).await?),
    })
}
