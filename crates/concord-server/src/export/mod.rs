//! Compliance and personal exports: the archive (`archive.rs`) filled from the store's paged
//! export reads and the blob store, used by `POST /compliance/exports`, `GET /users/me/export`
//! and `concord compliance export` alike.
//!
//! An archive holds `messages`, `edits`, `deletions`, `reactions` and `files` as JSON Lines and
//! CSV, the file contents under `files/<file_id>/v<version>/<name>` when asked for, and
//! `manifest.json` (last) listing every other entry with its size and SHA-256, the criteria,
//! who exported and when. Deleted messages keep their last text: a deletion only marks the
//! row (reads hide the text), so the store still holds it; messages pruned by retention are
//! gone with their edits and reactions and cannot appear. Edits are every stored version of
//! the exported messages, whenever the edit was made.

mod archive;

pub use archive::{FinishedArchive, ManifestEntry, csv_record};

use crate::files::blobs::{BlobError, BlobStore};
use archive::{Archive, Spool};
use concord_core::Store;
use concord_core::service::ExportPlan;
use concord_core::store::{ExportFileVersion, ExportMessage, ExportReaction, ExportVersion};
use concord_proto::User;
use futures_util::StreamExt;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

/// Rows read from the store per page.
const PAGE: i64 = 500;
/// The format named in every manifest.
pub const FORMAT: &str = "concord-export/1";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] concord_core::store::StoreError),
    #[error("writing the archive failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the blob store failed: {0}")]
    Blob(String),
}

/// Which export, and what only a personal export carries.
pub enum ExportKind {
    Compliance,
    /// The person's profile and sessions, as JSON documents.
    Personal {
        profile: Value,
        sessions: Value,
    },
}

/// What to export and for whom.
pub struct ExportJob {
    pub kind: ExportKind,
    pub plan: ExportPlan,
    /// The criteria as asked, for the manifest and the audit entry.
    pub criteria: Value,
    /// `None` when run from the command line.
    pub exported_by: Option<User>,
    pub at: Timestamp,
}

/// How many of each thing an export holds.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ExportCounts {
    pub messages: u64,
    pub edits: u64,
    pub deletions: u64,
    pub reactions: u64,
    pub file_versions: u64,
    pub file_contents: u64,
    /// File versions whose content the blob store no longer holds (deleted files collected).
    pub missing_contents: u64,
}

/// A finished export: the archive and what it holds.
pub struct FinishedExport {
    pub archive: FinishedArchive,
    pub counts: ExportCounts,
}

impl FinishedExport {
    /// The details an audit entry records.
    pub fn audit_details(&self, criteria: &Value) -> Value {
        json!({
            "criteria": criteria,
            "counts": self.counts,
            "archive_sha256": self.archive.sha256,
            "archive_size": self.archive.size,
            "manifest_sha256": self.archive.manifest_sha256,
        })
    }
}

/// Writes the export into an unnamed temporary file under `tmp_dir`, on a blocking thread
/// (the archive is synchronous; store and blob reads are driven from it).
pub async fn write_export(
    store: Arc<dyn Store>,
    blobs: BlobStore,
    tmp_dir: PathBuf,
    job: ExportJob,
) -> Result<FinishedExport, ExportError> {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let writer = Writer {
            handle,
            store,
            blobs,
            archive: Archive::create(&tmp_dir)?,
            counts: ExportCounts::default(),
        };
        writer.run(job)
    })
    .await
    .map_err(|e| ExportError::Io(std::io::Error::other(e)))?
}

/// The row files every export has, in the order they are added to the archive.
struct RowFiles {
    messages_jsonl: Spool,
    messages_csv: Spool,
    edits_jsonl: Spool,
    edits_csv: Spool,
    deletions_jsonl: Spool,
    deletions_csv: Spool,
    reactions_jsonl: Spool,
    reactions_csv: Spool,
    files_jsonl: Spool,
    files_csv: Spool,
}

impl RowFiles {
    fn open(archive: &Archive) -> std::io::Result<Self> {
        let mut files = Self {
            messages_jsonl: archive.spool("messages.jsonl")?,
            messages_csv: archive.spool("messages.csv")?,
            edits_jsonl: archive.spool("edits.jsonl")?,
            edits_csv: archive.spool("edits.csv")?,
            deletions_jsonl: archive.spool("deletions.jsonl")?,
            deletions_csv: archive.spool("deletions.csv")?,
            reactions_jsonl: archive.spool("reactions.jsonl")?,
            reactions_csv: archive.spool("reactions.csv")?,
            files_jsonl: archive.spool("files.jsonl")?,
            files_csv: archive.spool("files.csv")?,
        };
        files.messages_csv.write_line(&csv_record(&[
            "message_id",
            "channel_id",
            "channel_name",
            "seq",
            "sender_id",
            "sender_username",
            "created_at",
            "text",
            "thread_root_id",
            "edited_at",
            "deleted",
            "deleted_at",
        ]))?;
        files.edits_csv.write_line(&csv_record(&[
            "message_id",
            "channel_id",
            "version",
            "created_at",
            "text",
        ]))?;
        files.deletions_csv.write_line(&csv_record(&[
            "message_id",
            "channel_id",
            "sender_id",
            "sender_username",
            "created_at",
            "deleted_at",
            "last_text",
        ]))?;
        files.reactions_csv.write_line(&csv_record(&[
            "message_id",
            "channel_id",
            "user_id",
            "username",
            "emoji",
            "created_at",
        ]))?;
        files.files_csv.write_line(&csv_record(&[
            "file_id",
            "channel_id",
            "name",
            "version",
            "size",
            "sha256",
            "mime",
            "uploaded_by",
            "uploader_username",
            "uploaded_at",
            "comment",
            "file_deleted_at",
            "content_path",
        ]))?;
        Ok(files)
    }

    fn into_spools(self) -> [Spool; 10] {
        [
            self.messages_jsonl,
            self.messages_csv,
            self.edits_jsonl,
            self.edits_csv,
            self.deletions_jsonl,
            self.deletions_csv,
            self.reactions_jsonl,
            self.reactions_csv,
            self.files_jsonl,
            self.files_csv,
        ]
    }
}

fn time(t: Option<Timestamp>) -> String {
    t.map(|t| t.to_string()).unwrap_or_default()
}

fn jsonl(spool: &mut Spool, value: &Value) -> std::io::Result<()> {
    spool.write_line(&value.to_string())
}

/// A file name safe as the last component of an archive path.
fn entry_name(name: &str) -> String {
    let clean = concord_media::sanitize_file_name(name).replace(['/', '\\'], "_");
    if clean.is_empty() || clean == "." || clean == ".." {
        "file".to_string()
    } else {
        clean
    }
}

struct Writer {
    handle: tokio::runtime::Handle,
    store: Arc<dyn Store>,
    blobs: BlobStore,
    archive: Archive,
    counts: ExportCounts,
}

impl Writer {
    fn run(mut self, job: ExportJob) -> Result<FinishedExport, ExportError> {
        let mut rows = RowFiles::open(&self.archive)?;
        self.messages(&job, &mut rows)?;
        self.files(&job, &mut rows)?;
        for spool in rows.into_spools() {
            self.archive.add_spool(spool)?;
        }
        let kind = match &job.kind {
            ExportKind::Compliance => "compliance",
            ExportKind::Personal { profile, sessions } => {
                self.archive.add_bytes("profile.json", &pretty(profile))?;
                self.archive.add_bytes("sessions.json", &pretty(sessions))?;
                "personal"
            }
        };
        let manifest = json!({
            "format": FORMAT,
            "kind": kind,
            "exported_at": job.at.to_string(),
            "exported_by": job.exported_by.as_ref().map(|u| json!({"id": u.id, "username": u.username})),
            "criteria": job.criteria,
            "counts": self.counts,
            "entries": self.archive.entries(),
            "notes": "Times are RFC 3339 (UTC). Messages are those created in [from, to). Deleted messages \
                      appear in messages (deleted = true) and deletions with their last text, which the store \
                      keeps under the tombstone; messages removed by retention are gone. edits lists every \
                      stored version of edited messages (version 1 is the original). CSV files are UTF-8 with \
                      a byte-order mark.",
        });
        let archive = self.archive.finish(&pretty(&manifest))?;
        Ok(FinishedExport {
            archive,
            counts: self.counts,
        })
    }

    fn messages(&mut self, job: &ExportJob, rows: &mut RowFiles) -> Result<(), ExportError> {
        let scope = &job.plan.scope;
        let mut after = None;
        loop {
            let page: Vec<ExportMessage> = self
                .handle
                .block_on(self.store.export_messages(scope, after, PAGE))?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let ids: Vec<_> = page.iter().map(|m| m.id).collect();
            for m in &page {
                write_message(rows, m)?;
                self.counts.messages += 1;
                if m.deleted_at.is_some() {
                    self.counts.deletions += 1;
                }
            }
            let versions: Vec<ExportVersion> =
                self.handle.block_on(self.store.export_versions(&ids))?;
            for v in &versions {
                let channel = page
                    .iter()
                    .find(|m| m.id == v.message_id)
                    .map(|m| m.channel_id);
                write_version(rows, v, channel)?;
                self.counts.edits += 1;
            }
            if matches!(job.kind, ExportKind::Compliance) {
                let reactions = self.handle.block_on(self.store.export_reactions(&ids))?;
                for r in &reactions {
                    write_reaction(rows, r)?;
                    self.counts.reactions += 1;
                }
            }
            if (page.len() as i64) < PAGE {
                break;
            }
        }
        if let (ExportKind::Personal { .. }, Some(user)) = (&job.kind, job.plan.scope.users.first())
        {
            // A person's export holds the reactions they made, wherever.
            let mut after = None;
            loop {
                let page = self
                    .handle
                    .block_on(self.store.export_user_reactions(*user, after, PAGE))?;
                let Some(last) = page.last() else { break };
                after = Some((last.message_id, last.emoji.clone()));
                for r in &page {
                    write_reaction(rows, r)?;
                    self.counts.reactions += 1;
                }
                if (page.len() as i64) < PAGE {
                    break;
                }
            }
        }
        Ok(())
    }

    fn files(&mut self, job: &ExportJob, rows: &mut RowFiles) -> Result<(), ExportError> {
        let mut after = None;
        loop {
            let page: Vec<ExportFileVersion> = self.handle.block_on(
                self.store
                    .export_file_versions(&job.plan.scope, after, PAGE),
            )?;
            let Some(last) = page.last() else { break };
            after = Some((last.file_id, last.version));
            for f in &page {
                let content_path = if job.plan.include_files {
                    self.content(f)?
                } else {
                    None
                };
                write_file_version(rows, f, content_path.as_deref())?;
                self.counts.file_versions += 1;
            }
            if (page.len() as i64) < PAGE {
                break;
            }
        }
        Ok(())
    }

    /// Copies a version's content into the archive; `None` when the blob store no longer has
    /// it (a deleted file whose content was collected).
    fn content(&mut self, f: &ExportFileVersion) -> Result<Option<String>, ExportError> {
        let path = format!(
            "files/{}/v{}/{}",
            f.file_id.0,
            f.version,
            entry_name(&f.name)
        );
        let read = match self.handle.block_on(self.blobs.get(&f.sha256, None)) {
            Ok(read) => read,
            Err(BlobError::NotFound) => {
                self.counts.missing_contents += 1;
                return Ok(None);
            }
            Err(e) => return Err(ExportError::Blob(e.to_string())),
        };
        let mut body = read.body;
        self.archive.begin(&path)?;
        while let Some(chunk) = self.handle.block_on(body.next()) {
            match chunk {
                Ok(bytes) => self.archive.write_chunk(&bytes)?,
                Err(e) => {
                    self.archive.abandon()?;
                    return Err(ExportError::Blob(e.to_string()));
                }
            }
        }
        self.archive.end()?;
        self.counts.file_contents += 1;
        Ok(Some(path))
    }
}

fn pretty(value: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(value).unwrap_or_default()
}

fn write_message(rows: &mut RowFiles, m: &ExportMessage) -> std::io::Result<()> {
    jsonl(
        &mut rows.messages_jsonl,
        &json!({
            "message_id": m.id,
            "channel_id": m.channel_id,
            "channel_name": m.channel_name,
            "seq": m.seq,
            "sender_id": m.sender_id,
            "sender_username": m.sender_username,
            "created_at": m.created_at.to_string(),
            "text": m.text,
            "thread_root_id": m.thread_root_id,
            "edited_at": m.edited_at.map(|t| t.to_string()),
            "deleted": m.deleted_at.is_some(),
            "deleted_at": m.deleted_at.map(|t| t.to_string()),
        }),
    )?;
    rows.messages_csv.write_line(&csv_record(&[
        m.id.0.to_string(),
        m.channel_id.0.to_string(),
        m.channel_name.clone(),
        m.seq.to_string(),
        m.sender_id.0.to_string(),
        m.sender_username.clone(),
        m.created_at.to_string(),
        m.text.clone(),
        m.thread_root_id
            .map(|t| t.0.to_string())
            .unwrap_or_default(),
        time(m.edited_at),
        m.deleted_at.is_some().to_string(),
        time(m.deleted_at),
    ]))?;
    if let Some(deleted_at) = m.deleted_at {
        jsonl(
            &mut rows.deletions_jsonl,
            &json!({
                "message_id": m.id,
                "channel_id": m.channel_id,
                "sender_id": m.sender_id,
                "sender_username": m.sender_username,
                "created_at": m.created_at.to_string(),
                "deleted_at": deleted_at.to_string(),
                "last_text": m.text,
            }),
        )?;
        rows.deletions_csv.write_line(&csv_record(&[
            m.id.0.to_string(),
            m.channel_id.0.to_string(),
            m.sender_id.0.to_string(),
            m.sender_username.clone(),
            m.created_at.to_string(),
            deleted_at.to_string(),
            m.text.clone(),
        ]))?;
    }
    Ok(())
}

fn write_version(
    rows: &mut RowFiles,
    v: &ExportVersion,
    channel: Option<concord_proto::ChannelId>,
) -> std::io::Result<()> {
    jsonl(
        &mut rows.edits_jsonl,
        &json!({
            "message_id": v.message_id,
            "channel_id": channel,
            "version": v.version,
            "created_at": v.created_at.to_string(),
            "text": v.text,
        }),
    )?;
    rows.edits_csv.write_line(&csv_record(&[
        v.message_id.0.to_string(),
        channel.map(|c| c.0.to_string()).unwrap_or_default(),
        v.version.to_string(),
        v.created_at.to_string(),
        v.text.clone(),
    ]))
}

fn write_reaction(rows: &mut RowFiles, r: &ExportReaction) -> std::io::Result<()> {
    jsonl(
        &mut rows.reactions_jsonl,
        &json!({
            "message_id": r.message_id,
            "channel_id": r.channel_id,
            "user_id": r.user_id,
            "username": r.username,
            "emoji": r.emoji,
            "created_at": r.created_at.to_string(),
        }),
    )?;
    rows.reactions_csv.write_line(&csv_record(&[
        r.message_id.0.to_string(),
        r.channel_id.0.to_string(),
        r.user_id.0.to_string(),
        r.username.clone(),
        r.emoji.clone(),
        r.created_at.to_string(),
    ]))
}

fn write_file_version(
    rows: &mut RowFiles,
    f: &ExportFileVersion,
    content_path: Option<&str>,
) -> std::io::Result<()> {
    jsonl(
        &mut rows.files_jsonl,
        &json!({
            "file_id": f.file_id,
            "channel_id": f.channel_id,
            "name": f.name,
            "version": f.version,
            "size": f.size,
            "sha256": f.sha256,
            "mime": f.mime,
            "uploaded_by": f.uploaded_by,
            "uploader_username": f.uploader_username,
            "uploaded_at": f.uploaded_at.to_string(),
            "comment": f.comment,
            "file_deleted_at": f.file_deleted_at.map(|t| t.to_string()),
            "content_path": content_path,
        }),
    )?;
    rows.files_csv.write_line(&csv_record(&[
        f.file_id.0.to_string(),
        f.channel_id.0.to_string(),
        f.name.clone(),
        f.version.to_string(),
        f.size.to_string(),
        f.sha256.clone(),
        f.mime.clone(),
        f.uploaded_by.0.to_string(),
        f.uploader_username.clone(),
        f.uploaded_at.to_string(),
        f.comment.clone().unwrap_or_default(),
        time(f.file_deleted_at),
        content_path.unwrap_or_default().to_string(),
    ]))
}
