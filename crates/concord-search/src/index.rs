//! [`SearchIndex`]: the index on disk (or in RAM), its single writer and its reader.
//!
//! Writes go through one `IndexWriter` behind a mutex: [`SearchIndex::apply`] adds a batch of
//! operations, commits once with the event-log position in the commit payload, then reloads the
//! reader, so a search that starts after `apply` returns sees the batch. Searches take a
//! snapshot (`Searcher`) from the reader and never wait for the writer.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue};
use tantivy::collector::{Count, TopDocs};
use tantivy::columnar::Column;
use tantivy::indexer::{LogMergePolicy, NoMergePolicy, UserOperation};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, SegmentReader,
    TantivyDocument, Term,
};

use crate::analysis::{AnalysisTokenizer, CHARS_TOKENIZER, WORDS_TOKENIZER};
use crate::document::IndexOp;
use crate::error::{Result, SearchError};
use crate::highlight::{SnippetSegment, has_match, snippet};
use crate::query::{
    MAX_LIMIT, MAX_OFFSET, SearchRequest, SortOrder, bool_term_query, build_query, parse_query_text,
};
use crate::schema::build_schema;
use crate::schema::{
    CHANNEL_ID, CREATED_AT, FILE_ID, Fields, MESSAGE_ID, SENDER_ID, SORT_KEY, THREAD_ROOT_ID,
};

/// Operations handed to tantivy at a time. tantivy gives each `run` call to one indexing
/// thread, so a whole batch in one call would leave the other threads idle; much smaller calls
/// pay the channel hand-off per document. Order is kept either way: every operation carries an
/// opstamp and deletes apply only to documents added before them.
const OPERATIONS_PER_RUN: usize = 1_024;

/// Tantivy refuses less than this per indexing thread.
const MIN_HEAP_PER_THREAD: usize = 15_000_000;

/// How the writer works. The defaults suit a server indexing as messages arrive; a bulk load
/// wants a bigger heap (fewer, larger segments) and one thread per spare core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchIndexOptions {
    /// Memory the writer buffers documents in before it writes a segment, shared by its threads.
    pub writer_heap_bytes: usize,
    /// Threads that tokenise and build segments. Lowered so each gets at least 15 MB of heap.
    pub indexing_threads: usize,
    /// Segments of about this many documents or fewer are merged together in the background;
    /// bigger ones are left alone, which bounds the cost of merging during a bulk load.
    pub max_docs_before_merge: usize,
    /// Merge segments in the background as they accumulate. A bulk load (import, reindex) runs
    /// faster with this off and one [`SearchIndex::merge_segments`] at the end.
    pub background_merges: bool,
}

impl Default for SearchIndexOptions {
    fn default() -> Self {
        SearchIndexOptions {
            writer_heap_bytes: 128 * 1024 * 1024,
            indexing_threads: 1,
            max_docs_before_merge: 10_000_000,
            background_merges: true,
        }
    }
}

/// Where the matched text of a hit was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SnippetSource {
    /// The message text.
    Body,
    /// The names or extracted text of the attached files.
    Files,
    /// A file hit's name.
    FileName,
    /// A file hit's extracted text.
    FileText,
}

/// What a hit is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HitKind {
    Message,
    File,
}

/// A file as the index holds it: what a rename needs to re-index it without extracting its
/// text again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedFile {
    pub name: String,
    pub text: String,
    pub content_sha256: String,
    /// The text is still to be extracted.
    pub text_pending: bool,
}

/// One message or file found.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchHit {
    /// Message or file.
    pub kind: HitKind,
    /// The message's id; 0 for a file.
    pub message_id: i64,
    /// The file's id, for a file.
    pub file_id: Option<i64>,
    pub channel_id: i64,
    pub sender_id: i64,
    pub created_at_ms: i64,
    /// Set for thread replies.
    pub thread_root_id: Option<i64>,
    /// Relevance score when sorted by relevance (meaningful only within one result list);
    /// `None` when sorted by time, where no score is computed.
    pub score: Option<f32>,
    /// Text around the matches, matches marked.
    pub snippet: Vec<SnippetSegment>,
    /// What `snippet` was taken from.
    pub snippet_source: SnippetSource,
}

/// One page of results.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchResults {
    /// Messages and files matching the query and filters, over all pages.
    pub total: usize,
    /// The requested page.
    pub hits: Vec<SearchHit>,
}

/// The fast-field columns a hit reads, opened once per segment and search: opening a column
/// decodes its block index, which at 10M messages cost more than the whole query when done per
/// hit and field.
#[derive(Clone)]
struct HitColumns {
    message_id: Column<i64>,
    channel_id: Column<i64>,
    sender_id: Column<i64>,
    created_at: Column<i64>,
    thread_root_id: Column<i64>,
    file_id: Column<i64>,
}

impl HitColumns {
    fn open(segment: &SegmentReader) -> Result<Self> {
        let fast = segment.fast_fields();
        Ok(HitColumns {
            message_id: fast.i64(MESSAGE_ID)?,
            channel_id: fast.i64(CHANNEL_ID)?,
            sender_id: fast.i64(SENDER_ID)?,
            created_at: fast.i64(CREATED_AT)?,
            thread_root_id: fast.i64(THREAD_ROOT_ID)?,
            file_id: fast.i64(FILE_ID)?,
        })
    }
}

/// The message search index. `Send + Sync`: share it in an `Arc`; searches run concurrently
/// with each other and with `apply`.
pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    /// Last event-log position committed, mirrored from the commit payload.
    indexed_position: Mutex<Option<i64>>,
}

fn payload_position(payload: Option<&str>) -> Result<Option<i64>> {
    match payload {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| SearchError::CorruptPosition(text.to_string())),
    }
}

/// Locks a mutex even if a thread panicked while holding it: the writer and the position are
/// left consistent by every operation that can panic (tantivy returns errors, it does not
/// unwind through half-applied state), so refusing all further writes would only add an outage.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SearchIndex {
    /// Opens the index in `directory`, creating the directory and an empty index if needed.
    /// Fails with [`SearchError::IncompatibleIndex`] if the directory holds an index with another
    /// schema, and with a lock error if another writer has it open.
    pub fn open(directory: &Path, options: &SearchIndexOptions) -> Result<Self> {
        std::fs::create_dir_all(directory)?;
        let (schema, fields) = build_schema();
        let mmap = tantivy::directory::MmapDirectory::open(directory)
            .map_err(|error| SearchError::Index(error.into()))?;
        let index = if Index::exists(&mmap).map_err(|error| SearchError::Index(error.into()))? {
            let index = Index::open(mmap)?;
            if index.schema() != schema {
                return Err(SearchError::IncompatibleIndex {
                    path: directory.display().to_string(),
                });
            }
            index
        } else {
            Index::create(mmap, schema, tantivy::IndexSettings::default())?
        };
        Self::with_index(index, fields, options)
    }

    /// A fresh index held in memory: for tests and tools.
    pub fn create_in_ram(options: &SearchIndexOptions) -> Result<Self> {
        let (schema, fields) = build_schema();
        Self::with_index(Index::create_in_ram(schema), fields, options)
    }

    fn with_index(index: Index, fields: Fields, options: &SearchIndexOptions) -> Result<Self> {
        index
            .tokenizers()
            .register(CHARS_TOKENIZER, AnalysisTokenizer::chars());
        index
            .tokenizers()
            .register(WORDS_TOKENIZER, AnalysisTokenizer::words());
        let heap = options.writer_heap_bytes.max(MIN_HEAP_PER_THREAD);
        let threads = options
            .indexing_threads
            .clamp(1, (heap / MIN_HEAP_PER_THREAD).max(1));
        let writer: IndexWriter = index.writer_with_num_threads(threads, heap)?;
        if options.background_merges {
            let mut merge_policy = LogMergePolicy::default();
            merge_policy.set_max_docs_before_merge(options.max_docs_before_merge.max(1));
            writer.set_merge_policy(Box::new(merge_policy));
        } else {
            writer.set_merge_policy(Box::new(NoMergePolicy));
        }
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let position = payload_position(index.load_metas()?.payload.as_deref())?;
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            fields,
            indexed_position: Mutex::new(position),
        })
    }

    /// The event-log position of the last committed batch, `None` for a new or cleared index.
    /// After a restart the indexer resumes from the event after this one.
    pub fn indexed_position(&self) -> Option<i64> {
        *lock(&self.indexed_position)
    }

    /// Applies `ops` in order and commits them as one batch recorded as `up_to_position` of the
    /// event log. When it returns, searches see the batch. On error nothing of the batch is
    /// committed and the position is unchanged. Commits cost an fsync or so: batch generously.
    pub fn apply(&self, ops: &[IndexOp], up_to_position: i64) -> Result<()> {
        let mut writer = lock(&self.writer);
        let current = self.indexed_position();
        if let Some(indexed) = current {
            if up_to_position < indexed {
                return Err(SearchError::PositionWentBackwards {
                    indexed,
                    given: up_to_position,
                });
            }
            if ops.is_empty() && up_to_position == indexed {
                return Ok(());
            }
        }
        let outcome = self.write_and_commit(&mut writer, ops, Some(up_to_position));
        if outcome.is_err() {
            // Drop whatever of the batch was queued so a later commit cannot publish half of it.
            writer.rollback()?;
            return outcome;
        }
        *lock(&self.indexed_position) = Some(up_to_position);
        self.reader.reload()?;
        Ok(())
    }

    fn write_and_commit(
        &self,
        writer: &mut IndexWriter,
        ops: &[IndexOp],
        position: Option<i64>,
    ) -> Result<()> {
        let fields = &self.fields;
        let mut batch = Vec::with_capacity(OPERATIONS_PER_RUN);
        for op in ops {
            if batch.len() >= OPERATIONS_PER_RUN {
                writer.run(std::mem::take(&mut batch))?;
            }
            match op {
                IndexOp::Upsert(message) => {
                    batch.push(UserOperation::Delete(Term::from_field_i64(
                        fields.message_id,
                        message.message_id,
                    )));
                    batch.push(UserOperation::Add(fields.document(message)));
                }
                IndexOp::Delete { message_id } => batch.push(UserOperation::Delete(
                    Term::from_field_i64(fields.message_id, *message_id),
                )),
                IndexOp::UpsertFile(file) => {
                    batch.push(UserOperation::Delete(Term::from_field_i64(
                        fields.file_id,
                        file.file_id,
                    )));
                    batch.push(UserOperation::Add(fields.file_document(file)));
                }
                IndexOp::DeleteFile { file_id } => batch.push(UserOperation::Delete(
                    Term::from_field_i64(fields.file_id, *file_id),
                )),
                IndexOp::DeleteChannel { channel_id } => batch.push(UserOperation::Delete(
                    Term::from_field_i64(fields.channel_id, *channel_id),
                )),
                IndexOp::PruneChannelBefore {
                    channel_id,
                    before_ms,
                } => {
                    // `run` takes only term deletes, so flush what is queued (to keep the order
                    // of operations) and delete by query.
                    writer.run(std::mem::take(&mut batch))?;
                    writer.delete_query(self.prune_query(*channel_id, *before_ms))?;
                }
            }
        }
        writer.run(batch)?;
        let mut commit = writer.prepare_commit()?;
        if let Some(position) = position {
            commit.set_payload(&position.to_string());
        }
        commit.commit()?;
        Ok(())
    }

    fn prune_query(&self, channel_id: i64, before_ms: i64) -> Box<dyn Query> {
        let channel = TermQuery::new(
            Term::from_field_i64(self.fields.channel_id, channel_id),
            IndexRecordOption::Basic,
        );
        let older = RangeQuery::new(
            std::ops::Bound::Unbounded,
            std::ops::Bound::Excluded(Term::from_field_i64(self.fields.created_at, before_ms)),
        );
        Box::new(BooleanQuery::new(vec![
            (Occur::Must, Box::new(channel) as Box<dyn Query>),
            (Occur::Must, Box::new(older)),
            (Occur::Must, bool_term_query(self.fields.is_file, false)),
        ]))
    }

    /// Removes every message and forgets the indexed position, for a rebuild from the start of
    /// the log. Searches see an empty index from then on; for a rebuild without that gap, build a
    /// new index in another directory and swap the `Arc` when it has caught up.
    pub fn clear(&self) -> Result<()> {
        let mut writer = lock(&self.writer);
        writer.delete_all_documents()?;
        let outcome = self.write_and_commit(&mut writer, &[], None);
        if outcome.is_err() {
            writer.rollback()?;
            return outcome;
        }
        *lock(&self.indexed_position) = None;
        self.reader.reload()?;
        Ok(())
    }

    /// Merges every segment into one and deletes the files no longer needed: after a bulk load
    /// made with `background_merges` off, so searches visit one segment. Takes time in
    /// proportion to the index; fails if a background merge holds one of the segments.
    pub fn merge_segments(&self) -> Result<()> {
        let mut writer = lock(&self.writer);
        let segments = writer.index().searchable_segment_ids()?;
        if segments.len() > 1 {
            writer.merge(&segments).wait()?;
        }
        writer.garbage_collect_files().wait()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Number of segments searches visit (for benchmarks and maintenance).
    pub fn segment_count(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// Number of documents (messages and files) in the index.
    pub fn message_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The indexed name, text and content hash of a file, if the index holds it.
    pub fn indexed_file(&self, file_id: i64) -> Result<Option<IndexedFile>> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_i64(self.fields.file_id, file_id),
            IndexRecordOption::Basic,
        );
        let found = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        let Some((_, address)) = found.into_iter().next() else {
            return Ok(None);
        };
        let document: TantivyDocument = searcher.doc(address)?;
        let text = |field: Field| -> String {
            document
                .get_first(field)
                .and_then(|value| value.as_str())
                .unwrap_or_default()
                .to_string()
        };
        Ok(Some(IndexedFile {
            name: text(self.fields.file_names),
            text: text(self.fields.file_text),
            content_sha256: text(self.fields.content_sha256),
            text_pending: document
                .get_first(self.fields.text_pending)
                .and_then(|value| value.as_bool())
                .unwrap_or(false),
        }))
    }

    /// Up to `limit` files indexed with their text still to be extracted (see
    /// [`crate::FileDoc::text_pending`]).
    pub fn files_pending_text(&self, limit: usize) -> Result<Vec<i64>> {
        let searcher = self.reader.searcher();
        let query = bool_term_query(self.fields.text_pending, true);
        let found = searcher.search(
            query.as_ref(),
            &TopDocs::with_limit(limit.max(1)).order_by_score(),
        )?;
        let mut ids = Vec::with_capacity(found.len());
        for (_, address) in found {
            let column = searcher
                .segment_reader(address.segment_ord)
                .fast_fields()
                .i64(FILE_ID)?;
            ids.extend(column.first(address.doc_id));
        }
        Ok(ids)
    }

    /// Bytes the committed index takes in its directory (0 in RAM), for sizing and benchmarks.
    pub fn size_bytes(&self) -> Result<u64> {
        let searcher = self.reader.searcher();
        let mut total = 0;
        for segment in searcher.segment_readers() {
            total += segment.space_usage()?.total().get_bytes();
        }
        Ok(total)
    }

    /// Runs `request`. Bad query text never panics: it is read as literal words, or answered
    /// with [`SearchError::EmptyQuery`], [`SearchError::QueryTooLong`] or
    /// [`SearchError::TooManyTerms`].
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults> {
        if request.offset > MAX_OFFSET {
            return Err(SearchError::InvalidRequest(format!(
                "offset {} is past the deepest page allowed ({MAX_OFFSET})",
                request.offset
            )));
        }
        let parsed = parse_query_text(&request.text)?;
        let query = build_query(&self.fields, request, &parsed)?;
        if request.matches_nothing() {
            return Ok(SearchResults {
                total: 0,
                hits: Vec::new(),
            });
        }
        let searcher = self.reader.searcher();
        let limit = request.limit.min(MAX_LIMIT);
        if limit == 0 {
            let total = searcher.search(query.as_ref(), &Count)?;
            return Ok(SearchResults {
                total,
                hits: Vec::new(),
            });
        }
        let page = TopDocs::with_limit(limit).and_offset(request.offset);
        let sort_key = || SortByStaticFastValue::<i64>::for_field(SORT_KEY);
        let created_at = || SortByStaticFastValue::<i64>::for_field(CREATED_AT);
        let (total, found): (usize, Vec<(Option<f32>, DocAddress)>) = match request.sort {
            SortOrder::Relevance => {
                let collector = page.order_by((
                    (SortBySimilarityScore, Order::Desc),
                    (sort_key(), Order::Desc),
                ));
                let (total, docs) = searcher.search(query.as_ref(), &(Count, collector))?;
                let docs = docs.into_iter().map(|((score, _), doc)| (Some(score), doc));
                (total, docs.collect())
            }
            SortOrder::Newest | SortOrder::Oldest => {
                let order = if request.sort == SortOrder::Newest {
                    Order::Desc
                } else {
                    Order::Asc
                };
                let collector = page.order_by(((created_at(), order), (sort_key(), order)));
                let (total, docs) = searcher.search(query.as_ref(), &(Count, collector))?;
                (
                    total,
                    docs.into_iter().map(|(_, doc)| (None, doc)).collect(),
                )
            }
        };
        let phrases: Vec<&[String]> = parsed
            .required
            .iter()
            .map(|unit| unit.char_terms.as_slice())
            .collect();
        let mut columns: Vec<Option<HitColumns>> = vec![None; searcher.segment_readers().len()];
        let mut hits = Vec::with_capacity(found.len());
        for (score, address) in found {
            let segment = address.segment_ord as usize;
            let segment_columns = match &mut columns[segment] {
                Some(open) => open,
                empty => empty.insert(HitColumns::open(
                    searcher.segment_reader(address.segment_ord),
                )?),
            };
            let document: TantivyDocument = searcher.doc(address)?;
            let doc = address.doc_id;
            let value = |column: &Column<i64>| column.first(doc);
            let file_id = value(&segment_columns.file_id);
            let (snippet, snippet_source) = if file_id.is_some() {
                self.file_snippet_of(&document, &phrases)
            } else {
                self.snippet_of(&document, &phrases)
            };
            hits.push(SearchHit {
                kind: if file_id.is_some() {
                    HitKind::File
                } else {
                    HitKind::Message
                },
                message_id: value(&segment_columns.message_id).unwrap_or_default(),
                file_id,
                channel_id: value(&segment_columns.channel_id).unwrap_or_default(),
                sender_id: value(&segment_columns.sender_id).unwrap_or_default(),
                created_at_ms: value(&segment_columns.created_at).unwrap_or_default(),
                thread_root_id: value(&segment_columns.thread_root_id),
                score,
                snippet,
                snippet_source,
            });
        }
        Ok(SearchResults { total, hits })
    }

    /// A file hit's snippet: from its name if the query matched there (or has no words), else
    /// from its text.
    fn file_snippet_of(
        &self,
        document: &TantivyDocument,
        phrases: &[&[String]],
    ) -> (Vec<SnippetSegment>, SnippetSource) {
        let text = |field: Field| -> &str {
            document
                .get_first(field)
                .and_then(|value| value.as_str())
                .unwrap_or_default()
        };
        let name = text(self.fields.file_names);
        if phrases.is_empty() || has_match(name, phrases) {
            return (snippet(name, phrases), SnippetSource::FileName);
        }
        let content = text(self.fields.file_text);
        if has_match(content, phrases) {
            return (snippet(content, phrases), SnippetSource::FileText);
        }
        (snippet(name, phrases), SnippetSource::FileName)
    }

    /// The body's snippet, unless the query matched only the files, then theirs.
    fn snippet_of(
        &self,
        document: &TantivyDocument,
        phrases: &[&[String]],
    ) -> (Vec<SnippetSegment>, SnippetSource) {
        let texts = |field: Field| -> Vec<&str> {
            document
                .get_all(field)
                .filter_map(|value| value.as_str())
                .collect()
        };
        let body = texts(self.fields.body_chars).concat();
        if phrases.is_empty() || has_match(&body, phrases) {
            return (snippet(&body, phrases), SnippetSource::Body);
        }
        let mut files = texts(self.fields.file_names);
        files.extend(texts(self.fields.file_text));
        match files.into_iter().find(|text| has_match(text, phrases)) {
            Some(text) => (snippet(text, phrases), SnippetSource::Files),
            None => (snippet(&body, phrases), SnippetSource::Body),
        }
    }
}
