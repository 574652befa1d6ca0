//! The retention job: the scheduled run in the server's upkeep, `concord retention run
//! [--dry-run]`, and `concord verify channel <id>` (the channel's message hash chain).

use crate::Config;
use crate::state::AppState;
use concord_core::service::{NobodyOnline, RetentionRun};
use concord_core::store::PruneReport;
use concord_core::{Services, SystemClock};
use concord_proto::ChannelId;
use std::sync::Arc;

/// Whether the upkeep tick of minute `minutes` starts a run every `interval_secs`.
pub fn due(minutes: u64, interval_secs: u64) -> bool {
    interval_secs > 0 && (minutes * 60) % interval_secs < 60
}

/// One scheduled run, logged (and audited by the service).
pub async fn scheduled(state: &AppState) {
    let max = state.config.retention.max_messages_per_run;
    let run = RetentionRun {
        dry_run: false,
        max_messages: max,
        scheduled: true,
    };
    match state.services.run_retention(None, run).await {
        Ok(r) if r.messages == 0 => {}
        Ok(r) => tracing::info!(
            messages = r.messages,
            versions = r.versions,
            reactions = r.reactions,
            channels = r.channels.len(),
            more_remaining = r.more_remaining,
            "retention deleted expired messages"
        ),
        Err(e) => tracing::warn!(error = %e, "retention run failed"),
    }
    match state
        .files
        .collect_garbage(state.services.store.as_ref())
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(blobs = n, "deleted file content no file uses any more"),
        Err(e) => tracing::warn!(error = %e, "collecting unused file content failed"),
    }
}

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

/// The report as text, one line per channel.
pub fn describe(r: &PruneReport) -> String {
    let verb = if r.dry_run { "would delete" } else { "deleted" };
    let mut out = format!(
        "retention {verb} {} messages, {} edit versions, {} reactions, {} mentions, {} pins, {} files\n",
        r.messages, r.versions, r.reactions, r.mentions, r.pins, r.files
    );
    for c in &r.channels {
        out.push_str(&format!(
            "  channel {}: {} messages, {} versions, {} reactions\n",
            c.channel_id, c.messages, c.versions, c.reactions
        ));
    }
    if r.more_remaining {
        out.push_str("more has expired than one run deletes: run again\n");
    }
    out
}

/// `concord retention run [--dry-run]`. A running server's search index drops the messages
/// when it next reads the event log.
pub async fn run(config: Config, dry_run: bool) -> anyhow::Result<()> {
    let services = services(&config).await?;
    services
        .init_org()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let max = config.retention.max_messages_per_run;
    let run = RetentionRun {
        dry_run,
        max_messages: max,
        scheduled: false,
    };
    let result = services.run_retention(None, run).await;
    let collected = if dry_run || result.is_err() {
        Ok(0)
    } else {
        match crate::files::blobs::BlobStore::open(&config.files, &config.data_dir) {
            Ok(blobs) => crate::files::collect_garbage(services.store.as_ref(), &blobs)
                .await
                .map_err(|e| anyhow::anyhow!("{e}")),
            Err(e) => Err(e),
        }
    };
    services.store.close().await;
    let report = result.map_err(|e| anyhow::anyhow!("{e}"))?;
    print!("{}", describe(&report));
    println!("{} unused file contents deleted", collected?);
    Ok(())
}

/// `concord verify channel <id>`: `Ok(false)` when the chain shows tampering.
pub async fn verify_channel(config: Config, channel: i64) -> anyhow::Result<bool> {
    let services = services(&config).await?;
    let result = services.verify_channel(ChannelId(channel)).await;
    services.store.close().await;
    let v = result.map_err(|e| anyhow::anyhow!("{e}"))?;
    let from = v.checkpoint_through.map_or(String::new(), |n| {
        format!(", from the signed checkpoint after change {n}")
    });
    match v.problem {
        None => {
            println!(
                "channel {channel} intact: {} changes, {} messages checked{from}; {} older messages predate the chain",
                v.links, v.messages, v.unchained_messages
            );
            Ok(true)
        }
        Some(problem) => {
            println!("CHANNEL {channel} TAMPERED: {problem}");
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_fires_once_per_interval() {
        assert!(due(0, 3600));
        assert!(!due(1, 3600));
        assert!(due(60, 3600));
        assert_eq!((0..60).filter(|m| due(*m, 600)).count(), 6);
        assert!(!due(0, 0));
    }
}
