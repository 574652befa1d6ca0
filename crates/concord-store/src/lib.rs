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

/// Opens the store and applies pending migrations. Values are stored as given (plaintext);
/// see [`open_sealed`].
pub async fn open(config: &StoreConfig) -> Result<Arc<dyn Store>, StoreError> {
    open_sealed(config, None).await
}

/// Opens the store; with a keyring it seals message bodies, edit history, message events and
/// TOTP secrets at rest, and opens them on read (plaintext written before stays readable).
pub async fn open_sealed(
    config: &StoreConfig,
    keyring: Option<Arc<concord_core::at_rest::Keyring>>,
) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match config {
        StoreConfig::Sqlite { path } => {
            let store = sqlite::open(path).await?;
            match keyring {
                Some(k) => Arc::new(store.with_keyring(k)),
                None => Arc::new(store),
            }
        }
        StoreConfig::Postgres {
            url,
            schema,
            max_connections,
        } => {
            let store = postgres::open(url, schema.as_deref(), *max_connections).await?;
            match keyring {
                Some(k) => Arc::new(store.with_keyring(k)),
                None => Arc::new(store),
            }
        }
    })
}
