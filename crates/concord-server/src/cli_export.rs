//! `concord compliance export`: the compliance export of `POST /compliance/exports`, written
//! to a file by the same code (`export/`), for an officer with shell access to the server.
//! Audited like the API's (`compliance.export`, no actor, `"via": "cli"` in the criteria).

use crate::Config;
use crate::export::{ExportJob, ExportKind, write_export};
use crate::files::blobs::BlobStore;
use anyhow::Context;
use clap::Subcommand;
use concord_core::service::NobodyOnline;
use concord_core::{Services, SystemClock};
use concord_proto::ComplianceExportRequest;
use jiff::Timestamp;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum ComplianceCommand {
    /// Export the messages, edits, deletions, reactions and files of channels and/or people
    /// created in [--from, --to) as a zip of JSON Lines and CSV with a manifest of SHA-256
    /// hashes. Audited.
    Export {
        /// A channel id (repeatable).
        #[arg(long = "channel")]
        channels: Vec<i64>,
        /// A user id or username (repeatable).
        #[arg(long = "user")]
        users: Vec<String>,
        /// Inclusive start, RFC 3339 (e.g. 2026-01-01T00:00:00+08:00).
        #[arg(long)]
        from: Option<Timestamp>,
        /// Exclusive end, RFC 3339.
        #[arg(long)]
        to: Option<Timestamp>,
        /// Put the files' contents in the archive too.
        #[arg(long)]
        include_files: bool,
        /// Where to write the zip (refuses to overwrite an existing file).
        #[arg(long)]
        out: PathBuf,
    },
}

pub async fn run(config: Config, command: ComplianceCommand) -> anyhow::Result<()> {
    let ComplianceCommand::Export {
        channels,
        users,
        from,
        to,
        include_files,
        out,
    } = command;
    config.validate().map_err(anyhow::Error::msg)?;
    if out.exists() {
        anyhow::bail!("{} exists; choose another --out", out.display());
    }
    let store = crate::at_rest::open_store(&config)
        .await
        .context("opening the store")?;
    let services = Services::new(
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(NobodyOnline),
        config.domain_limits(),
    );
    let result = export(
        &config,
        &services,
        channels,
        users,
        from,
        to,
        include_files,
        &out,
    )
    .await;
    store.close().await;
    result
}

#[allow(clippy::too_many_arguments)]
async fn export(
    config: &Config,
    services: &Services,
    channels: Vec<i64>,
    users: Vec<String>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    include_files: bool,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let mut user_ids = Vec::new();
    for user in users {
        match user.parse::<i64>() {
            Ok(id) => user_ids.push(id),
            Err(_) => {
                let found = services
                    .store
                    .users_by_usernames(std::slice::from_ref(&user))
                    .await?;
                let found = found
                    .first()
                    .with_context(|| format!("no user named {user}"))?;
                user_ids.push(found.id.0);
            }
        }
    }
    let req = ComplianceExportRequest {
        channel_ids: channels,
        user_ids,
        from,
        to,
        include_files,
    };
    let mut criteria = serde_json::json!(req);
    criteria["via"] = "cli".into();
    let plan = services
        .check_export_criteria(req)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let blobs = BlobStore::open(&config.files, &config.data_dir)?.with_keys(services.store.clone());
    let job = ExportJob {
        kind: ExportKind::Compliance,
        plan,
        criteria: criteria.clone(),
        exported_by: None,
        at: Timestamp::now(),
    };
    let done = write_export(
        services.store.clone(),
        blobs,
        config.data_dir.join("exports"),
        job,
    )
    .await?;
    services
        .audit(
            None,
            "compliance.export",
            "export:compliance".into(),
            Some(done.audit_details(&criteria)),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut source = done.archive.file.try_clone()?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .with_context(|| format!("creating {}", out.display()))?;
    std::io::copy(&mut source, &mut file)?;
    file.sync_all()?;
    let c = done.counts;
    println!(
        "exported {} messages, {} edit versions, {} deletions, {} reactions, {} file versions ({} contents, {} missing) to {}",
        c.messages,
        c.edits,
        c.deletions,
        c.reactions,
        c.file_versions,
        c.file_contents,
        c.missing_contents,
        out.display()
    );
    println!("sha256 {}", done.archive.sha256);
    Ok(())
}
