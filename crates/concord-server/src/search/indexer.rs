//! The indexer: follows the durable event log into the search index.
//!
//! On start it resumes from the index's recorded position, reading the events table (or, if
//! the log was pruned past that position, rebuilding from the messages table); then it waits
//! for committed batches and, once enough events are pending or a short time has passed since
//! the first pending message event, reads the new events from the table in log order and
//! applies them as one commit tagged with the last position. Reading from the table rather
//! than from the broadcast means a lagging subscriber loses nothing.
//!
//! Files are indexed by name as their events pass; their text is extracted by `file_text`'s
//! workers meanwhile and comes back on a channel, to be applied between batches of events
//! (at the position already reached: it changes no event's outcome).

use super::docs::{FileWork, KnownRoots, ops_for_events, ops_for_messages, touches_index};
use super::file_text::{ExtractedText, FileTexts, TextJob, file_doc, job_for};
use concord_core::Store;
use concord_proto::{FileId, MessageId};
use concord_search::{IndexOp, SearchIndex};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Events read from the table per round trip.
const EVENTS_PER_READ: i64 = 2_000;
/// Messages read per round trip during a rebuild, and upserts per commit.
const MESSAGES_PER_READ: i64 = 5_000;
/// Files read per round trip during a rebuild (their texts are extracted before the next read).
const FILES_PER_READ: i64 = 64;
const REBUILD_OPS_PER_COMMIT: usize = 100_000;
/// Without message events, pending events are committed (to move the position) this late.
const IDLE_COMMIT: Duration = Duration::from_secs(30);

pub type IndexResult<T> = Result<T, String>;

/// Runs `apply` on a blocking thread.
pub async fn apply(index: &Arc<SearchIndex>, ops: Vec<IndexOp>, position: i64) -> IndexResult<()> {
    let index = index.clone();
    tokio::task::spawn_blocking(move || index.apply(&ops, position))
        .await
        .map_err(|e| format!("indexing thread failed: {e}"))?
        .map_err(|e| e.to_string())
}

/// Reads every event after the index's position and applies it, until the table has no more;
/// rebuilds first if the log was pruned past the index. Returns the position reached; the file
/// texts still to extract are added to `work`.
pub async fn catch_up(
    store: &dyn Store,
    index: &Arc<SearchIndex>,
    roots: &mut KnownRoots,
    texts: Option<&FileTexts>,
    work: &mut FileWork,
) -> IndexResult<i64> {
    let mut position = index.indexed_position().unwrap_or(0);
    let pruned = store.pruned_through().await.map_err(|e| e.to_string())?;
    if position < pruned {
        tracing::warn!(
            indexed = position,
            pruned_through = pruned,
            "the event log was pruned past the search index: rebuilding it from the messages"
        );
        position = rebuild(store, index, texts).await?;
    }
    loop {
        let events = store
            .events_after(position, EVENTS_PER_READ)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = events.last().map(|e| e.position) else {
            return Ok(position);
        };
        let ops = ops_for_events(store, index, &events, roots, work)
            .await
            .map_err(|e| e.to_string())?;
        apply(index, ops, last).await?;
        position = last;
    }
}

/// Empties the index and fills it from the messages and files tables (file texts extracted
/// inline when `texts` is given), recording the log position read before the first message
/// (events after it are applied again by the caller: upserts and deletes are idempotent).
/// Returns that position.
pub async fn rebuild(
    store: &dyn Store,
    index: &Arc<SearchIndex>,
    texts: Option<&FileTexts>,
) -> IndexResult<i64> {
    let head = store.log_head().await.map_err(|e| e.to_string())?;
    let cleared = index.clone();
    tokio::task::spawn_blocking(move || cleared.clear())
        .await
        .map_err(|e| format!("indexing thread failed: {e}"))?
        .map_err(|e| e.to_string())?;
    let mut after = MessageId(0);
    let mut pending = Vec::new();
    let mut count = 0u64;
    loop {
        let messages = store
            .messages_after(after, MESSAGES_PER_READ)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = messages.last().map(|m| m.id) else {
            break;
        };
        after = last;
        count += messages.len() as u64;
        pending.extend(
            ops_for_messages(store, &messages)
                .await
                .map_err(|e| e.to_string())?,
        );
        if pending.len() >= REBUILD_OPS_PER_COMMIT {
            // Position 0 until done: a crash halfway leaves an index that rebuilds again.
            apply(index, std::mem::take(&mut pending), 0).await?;
            tracing::info!(messages = count, "search index rebuild in progress");
        }
    }
    let files = rebuild_files(store, index, texts).await?;
    apply(index, pending, head).await?;
    tracing::info!(
        messages = count,
        files,
        position = head,
        "search index rebuilt"
    );
    Ok(head)
}

/// Upserts every live file with its text (position 0: the rebuild is not done). Returns how
/// many.
async fn rebuild_files(
    store: &dyn Store,
    index: &Arc<SearchIndex>,
    texts: Option<&FileTexts>,
) -> IndexResult<u64> {
    let mut after = FileId(0);
    let mut count = 0u64;
    loop {
        let files = store
            .files_after(after, FILES_PER_READ)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = files.last().map(|f| f.id) else {
            return Ok(count);
        };
        after = last;
        count += files.len() as u64;
        let mut extracting = JoinSet::new();
        let mut ops = Vec::with_capacity(files.len());
        for file in files {
            match (texts, job_for(&file)) {
                (Some(texts), Some(job)) => {
                    let texts = texts.clone();
                    extracting.spawn(async move {
                        let text = texts.extract(&job).await;
                        IndexOp::UpsertFile(file_doc(&file, text, false))
                    });
                }
                (None, Some(_)) => {
                    ops.push(IndexOp::UpsertFile(file_doc(&file, String::new(), true)))
                }
                (_, None) => ops.push(IndexOp::UpsertFile(file_doc(&file, String::new(), false))),
            }
        }
        while let Some(op) = extracting.join_next().await {
            ops.push(op.map_err(|e| format!("file text extraction failed: {e}"))?);
        }
        let position = index.indexed_position().unwrap_or(0);
        apply(index, ops, position).await?;
    }
}

/// Extracts the texts of `jobs` now and applies them (a rebuild's catch-up, with no workers
/// to hand them to).
pub async fn extract_inline(
    store: &dyn Store,
    index: &Arc<SearchIndex>,
    texts: &FileTexts,
    jobs: Vec<TextJob>,
) -> IndexResult<()> {
    let mut extracted = Vec::with_capacity(jobs.len());
    for job in jobs {
        let text = texts.extract(&job).await;
        extracted.push(ExtractedText {
            file_id: job.file_id,
            sha256: job.sha256,
            text,
        });
    }
    apply_extracted(store, index, extracted).await
}

/// Re-indexes files with their extracted texts, where the file still exists with the same
/// content (as the store has it now: the index may be behind the store, never ahead, and the
/// events still to come re-apply anything newer). Applied at the position already reached.
pub async fn apply_extracted(
    store: &dyn Store,
    index: &Arc<SearchIndex>,
    extracted: Vec<ExtractedText>,
) -> IndexResult<()> {
    let mut ops = Vec::new();
    for done in extracted {
        let file = store
            .file(FileId(done.file_id))
            .await
            .map_err(|e| e.to_string())?;
        if let Some(file) = file
            && file.sha256 == done.sha256
        {
            ops.push(IndexOp::UpsertFile(file_doc(&file, done.text, false)));
        }
    }
    if ops.is_empty() {
        return Ok(());
    }
    let position = index.indexed_position().unwrap_or(0);
    apply(index, ops, position).await
}

/// Files a start looks for with their text still to extract (left by a stop or a crash while
/// extractions were waiting); more wait for the next start or a reindex.
const MAX_PENDING_AT_START: usize = 10_000;

/// Asks for the texts of files indexed with their text still pending.
async fn requeue_pending(
    store: &dyn Store,
    index: &Arc<SearchIndex>,
    texts: &FileTexts,
    done: &mpsc::UnboundedSender<ExtractedText>,
) -> IndexResult<usize> {
    if !texts.enabled() {
        return Ok(0);
    }
    let reading = index.clone();
    let pending =
        tokio::task::spawn_blocking(move || reading.files_pending_text(MAX_PENDING_AT_START))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    let mut asked = 0;
    for id in pending {
        let file = store.file(FileId(id)).await.map_err(|e| e.to_string())?;
        if let Some(job) = file.as_ref().and_then(job_for)
            && texts.spawn(job, done.clone())
        {
            asked += 1;
        }
    }
    Ok(asked)
}

/// How the follower batches its commits.
#[derive(Clone, Copy, Debug)]
pub struct Batching {
    pub commit_every: usize,
    pub commit_interval: Duration,
}

/// Follows the log until `stop` turns true, then commits what is pending. Errors (store or
/// index) are logged and retried from the index's position after a pause. File texts are
/// extracted by `texts`' workers (none: files are indexed by name only).
pub async fn follow(
    store: Arc<dyn Store>,
    index: Arc<SearchIndex>,
    texts: Option<FileTexts>,
    batching: Batching,
    mut stop: watch::Receiver<bool>,
    reached: Arc<watch::Sender<i64>>,
) {
    let Batching {
        commit_every,
        commit_interval,
    } = batching;
    let (extracted_tx, mut extracted_rx) = mpsc::unbounded_channel::<ExtractedText>();
    let hand_out = |work: &mut FileWork| {
        if let Some(texts) = &texts {
            for job in work.jobs.drain(..) {
                texts.spawn(job, extracted_tx.clone());
            }
        }
        work.jobs.clear();
    };
    let mut work = FileWork::default();
    let mut roots = KnownRoots::default();
    // Subscribe before reading the table, so nothing committed in between is missed.
    let mut batches = store.subscribe();
    let index_for_warm_up = index.clone();
    let _ = tokio::task::spawn_blocking(move || {
        concord_search::warm_up();
        drop(index_for_warm_up);
    })
    .await;
    let mut needs_catch_up = true;
    let mut requeued = false;
    let mut pending_events = 0usize;
    let mut deadline: Option<Instant> = None;
    loop {
        if needs_catch_up || pending_events >= commit_every {
            let caught_up = catch_up(
                store.as_ref(),
                &index,
                &mut roots,
                texts.as_ref(),
                &mut work,
            )
            .await;
            hand_out(&mut work);
            match caught_up {
                Ok(position) => {
                    reached.send_replace(position);
                    if !requeued && let Some(texts) = &texts {
                        requeued = true;
                        match requeue_pending(store.as_ref(), &index, texts, &extracted_tx).await {
                            Ok(0) => {}
                            Ok(asked) => {
                                tracing::info!(files = asked, "extracting file texts left pending")
                            }
                            Err(error) => {
                                tracing::warn!(%error, "finding file texts left pending failed")
                            }
                        }
                    }
                    needs_catch_up = false;
                    pending_events = 0;
                    deadline = None;
                }
                Err(error) => {
                    tracing::warn!(%error, "search indexer failed; retrying in 1 s");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        _ = stop.changed() => return,
                    }
                }
            }
        }
        if *stop.borrow() {
            return;
        }
        let sleep_until = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    if pending_events > 0
                        && let Err(error) = catch_up(
                            store.as_ref(), &index, &mut roots, texts.as_ref(), &mut work,
                        )
                        .await
                    {
                        tracing::warn!(%error, "search indexer: final commit failed");
                    }
                    return;
                }
            }
            batch = batches.recv() => match batch {
                Ok(batch) => {
                    let position = index.indexed_position().unwrap_or(0);
                    let mut messages = false;
                    for event in batch.iter().filter(|e| e.stored.position > position) {
                        pending_events += 1;
                        messages |= touches_index(&event.stored.event);
                    }
                    if pending_events > 0 {
                        let wait = if messages { commit_interval } else { IDLE_COMMIT };
                        let due = Instant::now() + wait;
                        deadline = Some(deadline.map_or(due, |d| d.min(due)));
                    }
                }
                Err(RecvError::Lagged(_)) => needs_catch_up = true,
                Err(RecvError::Closed) => {
                    let _ = catch_up(store.as_ref(), &index, &mut roots, texts.as_ref(), &mut work)
                        .await;
                    return;
                }
            },
            Some(first) = extracted_rx.recv() => {
                let mut extracted = vec![first];
                while let Ok(more) = extracted_rx.try_recv() {
                    extracted.push(more);
                }
                if let Err(error) = apply_extracted(store.as_ref(), &index, extracted).await {
                    tracing::warn!(%error, "search indexer: indexing file texts failed");
                }
            }
            _ = tokio::time::sleep_until(sleep_until), if deadline.is_some() => {
                needs_catch_up = true;
            }
        }
    }
}
