//! Turning the store's messages, files and events into index operations: a message as the index
//! sees it (with its mentions, read from the store, and its attachments' names), a file (name
//! now, text once extracted: see `file_text`), and the ops a run of the event log causes.

use super::file_text::{TextJob, file_doc, job_for};
use concord_core::{Store, StoreError};
use concord_proto::{Event, FileInfo, Message, MessageId, StoredEvent, UserId};
use concord_search::{IndexOp, MessageDoc, SearchIndex};
use std::collections::{HashMap, HashSet};

/// Thread roots already indexed with `has_replies`, so a root is re-indexed once, when its
/// first reply arrives (or the first one this process sees). Bounded: forgetting only costs
/// one more re-index of a root.
#[derive(Default)]
pub struct KnownRoots(HashSet<i64>);

const MAX_KNOWN_ROOTS: usize = 100_000;

impl KnownRoots {
    /// Whether `root` is new (and remembers it).
    fn first_time(&mut self, root: i64) -> bool {
        if self.0.len() >= MAX_KNOWN_ROOTS {
            self.0.clear();
        }
        self.0.insert(root)
    }
}

/// What a message mentions: users by name, and the whole channel.
type MentionMap = HashMap<i64, (Vec<UserId>, bool)>;

async fn mentions_of(store: &dyn Store, ids: Vec<MessageId>) -> Result<MentionMap, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(store
        .message_mentions(&ids)
        .await?
        .into_iter()
        .map(|(id, users, all)| (id.0, (users, all)))
        .collect())
}

/// The index's view of `message`.
pub fn document(message: &Message, mentions: &MentionMap) -> MessageDoc {
    let (named, all) = mentions.get(&message.id.0).cloned().unwrap_or_default();
    MessageDoc {
        message_id: message.id.0,
        channel_id: message.channel_id.0,
        sender_id: message.sender_id.0,
        created_at_ms: message.created_at.as_millisecond(),
        thread_root_id: message.thread_root_id.map(|r| r.0),
        has_replies: message.reply_count > 0,
        mentions: named.into_iter().map(|u| u.0).collect(),
        mentions_channel: all,
        body: message.text.clone(),
        // Names make `has_file` and let a message be found by its attachments; their text is
        // the files' own documents'.
        file_names: message.files.iter().map(|f| f.name.clone()).collect(),
        file_text: String::new(),
    }
}

/// Upserts for messages read from the messages table (a rebuild); tombstones are skipped.
pub async fn ops_for_messages(
    store: &dyn Store,
    messages: &[Message],
) -> Result<Vec<IndexOp>, StoreError> {
    let live: Vec<&Message> = messages.iter().filter(|m| !m.deleted).collect();
    let mentions = mentions_of(store, live.iter().map(|m| m.id).collect()).await?;
    Ok(live
        .into_iter()
        .map(|m| IndexOp::Upsert(document(m, &mentions)))
        .collect())
}

/// What the ops of a run of events need done besides: the file texts to extract.
#[derive(Default)]
pub struct FileWork {
    pub jobs: Vec<TextJob>,
}

/// What a run knows of a file's text: (content hash, text, still pending).
type KnownText = (String, String, bool);

/// The text already indexed for `file`'s current content (in this run or the index), if any,
/// and whether it is still being extracted: a rename or a flag change keeps it without
/// extracting again.
fn known_text(
    file: &FileInfo,
    in_run: &HashMap<i64, KnownText>,
    index: &SearchIndex,
) -> Option<(String, bool)> {
    if let Some((sha256, text, pending)) = in_run.get(&file.id.0) {
        return (*sha256 == file.sha256).then(|| (text.clone(), *pending));
    }
    match index.indexed_file(file.id.0) {
        Ok(Some(indexed)) if indexed.content_sha256 == file.sha256 => {
            Some((indexed.text, indexed.text_pending))
        }
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(%error, file_id = file.id.0, "reading an indexed file failed");
            None
        }
    }
}

/// The ops `events` cause, in log order: created and edited messages are upserted (with their
/// current mentions), deleted ones removed, and a thread root is upserted again with
/// `has_replies` when a reply to it first appears. Created and updated files are upserted
/// with the text known for their content, or by name with a job in `work` to extract it;
/// deleted ones removed.
pub async fn ops_for_events(
    store: &dyn Store,
    index: &SearchIndex,
    events: &[StoredEvent],
    roots: &mut KnownRoots,
    work: &mut FileWork,
) -> Result<Vec<IndexOp>, StoreError> {
    // First pass: which messages need their mentions, which roots need reloading.
    let mut ids = Vec::new();
    let mut new_roots = Vec::new();
    for stored in events {
        match &stored.event {
            Event::MessageCreated { message } | Event::MessageEdited { message } => {
                if !message.deleted {
                    ids.push(message.id);
                }
                if let Some(root) = message.thread_root_id
                    && matches!(stored.event, Event::MessageCreated { .. })
                    && roots.first_time(root.0)
                {
                    new_roots.push(root);
                }
            }
            _ => {}
        }
    }
    let mut root_messages: HashMap<i64, Message> = HashMap::new();
    for root in new_roots {
        if let Some(message) = store.message(root).await?
            && !message.deleted
        {
            ids.push(message.id);
            root_messages.insert(root.0, message);
        }
    }
    let mentions = mentions_of(store, ids).await?;
    let mut ops = Vec::new();
    // Files upserted in this run, as the index will hold them.
    let mut files_in_run: HashMap<i64, KnownText> = HashMap::new();
    for stored in events {
        match &stored.event {
            Event::MessageCreated { message } | Event::MessageEdited { message } => {
                if message.deleted {
                    ops.push(IndexOp::Delete {
                        message_id: message.id.0,
                    });
                    continue;
                }
                ops.push(IndexOp::Upsert(document(message, &mentions)));
                if let Some(root) = message.thread_root_id
                    && let Some(mut root_message) = root_messages.remove(&root.0)
                {
                    // The reply exists, so the root has replies even if the row read raced.
                    root_message.reply_count = root_message.reply_count.max(1);
                    ops.push(IndexOp::Upsert(document(&root_message, &mentions)));
                }
            }
            Event::MessageDeleted { message_id, .. } => ops.push(IndexOp::Delete {
                message_id: message_id.0,
            }),
            Event::FileCreated { file } | Event::FileUpdated { file } => {
                let (text, pending) = match known_text(file, &files_in_run, index) {
                    Some(known) => known,
                    None => {
                        let job = job_for(file);
                        let pending = job.is_some();
                        work.jobs.extend(job);
                        (String::new(), pending)
                    }
                };
                files_in_run.insert(file.id.0, (file.sha256.clone(), text.clone(), pending));
                ops.push(IndexOp::UpsertFile(file_doc(file, text, pending)));
            }
            Event::FileDeleted { file_id, .. } => {
                files_in_run.remove(&file_id.0);
                ops.push(IndexOp::DeleteFile { file_id: file_id.0 });
            }
            // Retention removed them for good.
            Event::MessagesPruned { message_ids, .. } => {
                ops.extend(
                    message_ids
                        .iter()
                        .map(|id| IndexOp::Delete { message_id: id.0 }),
                );
            }
            _ => {}
        }
    }
    Ok(ops)
}

/// Whether an event changes the index.
pub fn touches_index(event: &Event) -> bool {
    matches!(
        event,
        Event::MessageCreated { .. }
            | Event::MessageEdited { .. }
            | Event::MessageDeleted { .. }
            | Event::MessagesPruned { .. }
            | Event::FileCreated { .. }
            | Event::FileUpdated { .. }
            | Event::FileDeleted { .. }
    )
}
