//! `concord audit verify` and `concord audit checkpoint`: check the audit log's hash chain and
//! signed checkpoints offline, against the store and the key in the data dir.

use crate::Config;
use concord_core::service::NobodyOnline;
use concord_core::{AuditVerdict, Services, SystemClock};
use std::sync::Arc;

async fn services(config: &Config) -> anyhow::Result<Services> {
    config.validate().map_err(anyhow::Error::msg)?;
    let store = crate::at_rest::open_store(config).await?;
    let key = crate::keys::load_or_create_signing_key(&config.data_dir, config.crypto.suite)?;
    Ok(Services::new(
        store,
        Arc::new(SystemClock),
        Arc::new(NobodyOnline),
        config.domain_limits(),
    )
    .with_signing_key(Arc::new(key)))
}

/// Prints the verdict; `Ok(false)` when the log was tampered with.
pub async fn verify(config: Config) -> anyhow::Result<bool> {
    let services = services(&config).await?;
    let verdict = services
        .verify_audit()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"));
    services.store.close().await;
    match verdict? {
        AuditVerdict::Intact(v) => {
            let through = v
                .last_checkpoint_through
                .map_or("no checkpoint yet".to_string(), |id| {
                    format!("latest signed checkpoint covers entry {id}")
                });
            println!(
                "audit log intact: {} entries, {} checkpoints ({through}; {} suite)",
                v.entries,
                v.checkpoints,
                config.crypto.suite.as_str()
            );
            Ok(true)
        }
        AuditVerdict::Tampered(t) => {
            println!("AUDIT LOG TAMPERED: {t}");
            Ok(false)
        }
    }
}

/// Signs the newest entry now (the server also does so every hour).
pub async fn checkpoint(config: Config) -> anyhow::Result<()> {
    let services = services(&config).await?;
    let done = services
        .checkpoint_audit()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"));
    services.store.close().await;
    match done? {
        Some(id) => println!("audit log signed through entry {id}"),
        None => println!("the audit log is empty; nothing to sign"),
    }
    Ok(())
}
