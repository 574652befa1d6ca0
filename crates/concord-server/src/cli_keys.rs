//! `concord keys status|rotate|encrypt-existing`: the master keys of encryption at rest.
//!
//! Rotation makes a new master key (a new key file, or a new label in the HSM), then rewraps
//! every data key with it in one transaction together with its audit entry (`keys.rotate`).
//! Sealed data is not touched: it names its data key, whose id does not change. Old master
//! keys are kept, so a rotation interrupted between the two steps leaves everything readable.

use crate::Config;
use crate::at_rest::{Provider, provider};
use clap::Subcommand;
use concord_core::at_rest::{DataKeyRecord, Keyring, MasterKeys};
use concord_core::store::NewAudit;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Show the active master key, data keys per master key, and how many stored values are
    /// sealed or still plaintext.
    Status,
    /// Create a new master key and rewrap every data key with it (data is not re-encrypted).
    Rotate,
    /// Seal values written before encryption at rest was turned on (safe to rerun, and to run
    /// while the server is up).
    EncryptExisting,
}

pub async fn run(config: Config, command: KeysCommand) -> anyhow::Result<()> {
    config.validate().map_err(anyhow::Error::msg)?;
    if !config.crypto.at_rest.enabled {
        anyhow::bail!("crypto.at_rest.enabled is false: there are no keys to manage");
    }
    match command {
        KeysCommand::Status => status(&config).await,
        KeysCommand::Rotate => rotate(&config).await,
        KeysCommand::EncryptExisting => encrypt_existing(&config).await,
    }
}

fn open_provider(config: &Config) -> anyhow::Result<Box<dyn Provider>> {
    provider(config).map_err(|e| anyhow::anyhow!("encryption at rest: {e}"))
}

/// The store opened with `keys` (one provider per process: a PKCS#11 module is initialised
/// once).
async fn open_with(
    config: &Config,
    keys: Arc<dyn MasterKeys>,
) -> anyhow::Result<Arc<dyn concord_core::Store>> {
    let keyring = Arc::new(Keyring::new(config.crypto.suite, keys));
    Ok(concord_store::open_sealed(&config.store_config(), Some(keyring)).await?)
}

async fn status(config: &Config) -> anyhow::Result<()> {
    let keys: Arc<dyn MasterKeys> = Arc::from(open_provider(config)? as Box<dyn MasterKeys>);
    let store = open_with(config, keys.clone()).await?;
    let counts = store.at_rest_counts().await;
    store.close().await;
    let counts = counts?;
    println!("suite: {}", config.crypto.suite.as_str());
    println!("master keys: {}", keys.describe());
    println!("active master key: {}", keys.active_id());
    println!("data keys: {}", counts.data_keys);
    for (master, n) in &counts.by_master {
        println!("  wrapped by {master}: {n}");
    }
    println!("sealed values: {}", counts.sealed);
    println!("plaintext values: {}", counts.plaintext);
    if counts.plaintext > 0 {
        println!("run `concord keys encrypt-existing` to seal the plaintext values");
    }
    Ok(())
}

async fn rotate(config: &Config) -> anyhow::Result<()> {
    let mut keys = open_provider(config)?;
    let old = keys.active_id();
    let new = keys.create_next().map_err(anyhow::Error::msg)?;
    let keys: Arc<dyn MasterKeys> = Arc::from(keys as Box<dyn MasterKeys>);
    let store = open_with(config, keys.clone()).await?;
    let result = rewrap_all(store.as_ref(), keys.as_ref(), config, &old, &new).await;
    store.close().await;
    let n = result?;
    println!("master key rotated: {old} -> {new}; {n} data keys rewrapped");
    Ok(())
}

async fn rewrap_all(
    store: &dyn concord_core::Store,
    keys: &dyn MasterKeys,
    config: &Config,
    old: &str,
    new: &str,
) -> anyhow::Result<usize> {
    let records = store.data_keys().await?;
    let mut rewrapped = Vec::with_capacity(records.len());
    for record in records {
        let secret = keys
            .unwrap(&record.master_key_id, &record.wrapped)
            .map_err(|e| anyhow::anyhow!("data key {} ({}): {e}", record.id, record.scope))?;
        let wrapped = keys.wrap(&secret)?;
        rewrapped.push(DataKeyRecord {
            master_key_id: wrapped.master_key_id,
            wrapped: wrapped.wrapped,
            ..record
        });
    }
    let n = rewrapped.len();
    let audit = NewAudit {
        at: jiff::Timestamp::now(),
        actor_id: None,
        ip: None,
        action: "keys.rotate".into(),
        target: format!("master_key:{new}"),
        before: Some(serde_json::json!({ "master_key": old })),
        after: Some(serde_json::json!({ "master_key": new, "data_keys_rewrapped": n })),
        suite: config.crypto.suite,
    };
    store.rewrap_data_keys(rewrapped, audit).await?;
    Ok(n)
}

async fn encrypt_existing(config: &Config) -> anyhow::Result<()> {
    let store = crate::at_rest::open_store(config).await?;
    let mut total = 0u64;
    let result = async {
        loop {
            let n = store.seal_existing(500).await?;
            if n == 0 {
                break;
            }
            total += n;
        }
        anyhow::Ok(())
    }
    .await;
    store.close().await;
    result?;
    println!("{total} plaintext values sealed");
    Ok(())
}
