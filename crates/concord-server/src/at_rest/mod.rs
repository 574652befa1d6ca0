//! Encryption at rest, server side: builds the master key provider named by
//! `[crypto.at_rest]` (a key file in `data_dir/keys`, or an HSM through PKCS#11), wraps it in
//! the core's [`Keyring`] and hands that to the store, which seals and opens values at its
//! boundary. Every command that opens the store goes through [`open_store`], so the server,
//! the CLI tools and the tests all read and write the same way.

pub mod file;
pub mod pkcs11;

use crate::config::{Config, MasterKeyProvider};
use concord_core::Store;
use concord_core::at_rest::{Keyring, MasterKeys};
use std::sync::Arc;

/// A master key provider that can also make a new master key (`concord keys rotate`).
pub trait Provider: MasterKeys {
    /// Creates a new master key and makes it the active one; returns its id.
    fn create_next(&mut self) -> Result<String, String>;
    /// Every master key id it holds, oldest first.
    fn ids(&self) -> Vec<String>;
}

/// Opens the provider the configuration names, creating the first master key if none exists.
pub fn provider(config: &Config) -> Result<Box<dyn Provider>, String> {
    let suite = config.crypto.suite;
    match config.crypto.at_rest.provider {
        MasterKeyProvider::File => Ok(Box::new(file::FileMasterKeys::load_or_create(
            &config.data_dir.join("keys"),
            suite,
        )?)),
        MasterKeyProvider::Pkcs11 => Ok(Box::new(pkcs11::HsmMasterKeys::open(
            &config.crypto.at_rest.pkcs11,
        )?)),
    }
}

/// The keyring for the configuration; `None` when encryption at rest is off.
pub fn keyring(config: &Config) -> Result<Option<Arc<Keyring>>, String> {
    if !config.crypto.at_rest.enabled {
        return Ok(None);
    }
    let provider: Arc<dyn MasterKeys> = Arc::from(provider(config)? as Box<dyn MasterKeys>);
    Ok(Some(Arc::new(Keyring::new(config.crypto.suite, provider))))
}

/// Opens the configured store with its keyring.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    open_store_at(config, &config.store_config()).await
}

/// [`open_store`] on a given store location (tests use a fresh PostgreSQL schema).
pub async fn open_store_at(
    config: &Config,
    store: &concord_store::StoreConfig,
) -> anyhow::Result<Arc<dyn Store>> {
    let keyring = keyring(config).map_err(|e| anyhow::anyhow!("encryption at rest: {e}"))?;
    Ok(concord_store::open_sealed(store, keyring).await?)
}
