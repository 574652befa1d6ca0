//! The searchable text of files, extracted apart from the indexer: reading a file from the blob
//! store and parsing a PDF can take seconds, and message indexing must not wait for it.
//!
//! The indexer indexes a new or changed file at once by its name and asks for its text here; a
//! bounded number of workers (`search.file_text_workers`) extract it (text files and PDFs, up to
//! `[files] max_processing_bytes`, cut to `search.file_text_max_chars`) and hand the result
//! back, and the indexer then re-indexes the file with its text if it is still the same content.
//! A rebuild extracts inline instead ([`FileTexts::extract`]), with the same bound.

use crate::files::Files;
use concord_media::FileKind;
use concord_proto::FileInfo;
use concord_search::FileDoc;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, mpsc};

/// Extractions waiting or running at most; past this new ones are dropped (the file stays
/// searchable by name; a reindex extracts it).
const MAX_PENDING: usize = 10_000;

/// A file whose content's text is wanted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextJob {
    pub file_id: i64,
    pub sha256: String,
    pub size: i64,
    pub kind: FileKind,
}

/// The text extracted for a job (empty when the content has none or could not be read).
#[derive(Clone, Debug)]
pub struct ExtractedText {
    pub file_id: i64,
    pub sha256: String,
    pub text: String,
}

/// The kind of content text can be extracted from, by its detected type.
pub fn text_kind(mime: &str) -> Option<FileKind> {
    let essence = mime.split(';').next().unwrap_or(mime).trim();
    match essence {
        "application/pdf" => Some(FileKind::Pdf),
        "text/plain" => Some(FileKind::Text),
        "text/html" | "image/svg+xml" | "application/xml" => Some(FileKind::Markup),
        _ => None,
    }
}

/// The job for `file`'s current content, if it may have text.
pub fn job_for(file: &FileInfo) -> Option<TextJob> {
    text_kind(&file.mime).map(|kind| TextJob {
        file_id: file.id.0,
        sha256: file.sha256.clone(),
        size: file.size,
        kind,
    })
}

/// The index's view of a file with `text` (`text_pending`: still to be extracted).
pub fn file_doc(file: &FileInfo, text: String, text_pending: bool) -> FileDoc {
    FileDoc {
        file_id: file.id.0,
        channel_id: file.channel_id.0,
        uploader_id: file.created_by.0,
        created_at_ms: file.created_at.as_millisecond(),
        name: file.name.clone(),
        text,
        content_sha256: file.sha256.clone(),
        text_pending,
    }
}

/// Text extraction with bounded concurrency. Cloning shares.
#[derive(Clone)]
pub struct FileTexts {
    files: Arc<Files>,
    max_chars: usize,
    workers: Arc<Semaphore>,
    /// Jobs queued or running, so the same content of a file is extracted once at a time.
    pending: Arc<Mutex<HashSet<(i64, String)>>>,
}

impl FileTexts {
    /// Whether texts are extracted at all (`search.file_text_max_chars` above 0).
    pub fn enabled(&self) -> bool {
        self.max_chars > 0
    }

    pub fn new(files: Arc<Files>, max_chars: usize, workers: usize) -> Self {
        FileTexts {
            files,
            max_chars,
            workers: Arc::new(Semaphore::new(workers.max(1))),
            pending: Arc::default(),
        }
    }

    /// Extracts the job's text now, waiting for a worker.
    pub async fn extract(&self, job: &TextJob) -> String {
        if self.max_chars == 0 {
            return String::new();
        }
        let Ok(_permit) = self.workers.acquire().await else {
            return String::new();
        };
        let text = self
            .files
            .text_of(&job.sha256, job.size, job.kind)
            .await
            .unwrap_or_default();
        match text.char_indices().nth(self.max_chars) {
            Some((cut, _)) => text[..cut].to_string(),
            None => text,
        }
    }

    /// Extracts the job's text on a task of its own and sends it to `done`. Returns false when
    /// the job was dropped (too many pending) or is already pending.
    pub fn spawn(&self, job: TextJob, done: mpsc::UnboundedSender<ExtractedText>) -> bool {
        if self.max_chars == 0 {
            return false;
        }
        let key = (job.file_id, job.sha256.clone());
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if pending.len() >= MAX_PENDING {
                tracing::warn!(
                    file_id = job.file_id,
                    "too many file texts waiting for extraction; this file is searchable by name \
                     only until a reindex"
                );
                return false;
            }
            if !pending.insert(key.clone()) {
                return false;
            }
        }
        let texts = self.clone();
        tokio::spawn(async move {
            let text = texts.extract(&job).await;
            texts
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
            let _ = done.send(ExtractedText {
                file_id: job.file_id,
                sha256: job.sha256,
                text,
            });
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// A file store in a temporary directory holding `content`; its job.
    async fn stored(content: &str) -> (tempfile::TempDir, Arc<Files>, TextJob) {
        let dir = tempfile::tempdir().unwrap();
        let files = Files::open(&crate::config::FilesConfig::default(), dir.path(), None).unwrap();
        let body = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from(
            content.to_string(),
        ))]);
        let blob = files
            .blobs
            .put(body, 1 << 20, concord_proto::ChannelId(1))
            .await
            .unwrap();
        let job = TextJob {
            file_id: 7,
            sha256: blob.sha256,
            size: blob.size as i64,
            kind: FileKind::Text,
        };
        (dir, Arc::new(files), job)
    }

    /// Handing out a job never waits for a worker; the text arrives when one is free, cut to the
    /// configured length, and the same content is not extracted twice at once.
    #[tokio::test]
    async fn extraction_is_queued_off_the_caller_and_bounded_by_the_workers() {
        let (_dir, files, job) = stored("会议纪要 budget approval").await;
        let texts = FileTexts::new(files, 4, 1);
        let busy = texts.workers.clone().acquire_owned().await.unwrap();
        let (done_tx, mut done) = mpsc::unbounded_channel();
        assert!(texts.spawn(job.clone(), done_tx.clone()));
        assert!(
            !texts.spawn(job.clone(), done_tx.clone()),
            "already pending"
        );
        let waited = tokio::time::timeout(std::time::Duration::from_millis(200), done.recv()).await;
        assert!(waited.is_err(), "extracted without a free worker");
        drop(busy);
        let extracted = done.recv().await.unwrap();
        assert_eq!(
            (extracted.file_id, extracted.text.as_str()),
            (7, "会议纪要")
        );
        assert_eq!(extracted.sha256, job.sha256);
        // Done, so it may be asked for again.
        assert!(texts.spawn(job, done_tx));
        assert_eq!(done.recv().await.unwrap().text, "会议纪要");
    }

    #[test]
    fn text_kinds_follow_the_detected_type() {
        assert_eq!(text_kind("application/pdf"), Some(FileKind::Pdf));
        assert_eq!(
            text_kind("text/plain; charset=gb18030"),
            Some(FileKind::Text)
        );
        assert_eq!(text_kind("text/html"), Some(FileKind::Markup));
        assert_eq!(text_kind("image/png"), None);
        assert_eq!(text_kind("application/zip"), None);
    }
}
