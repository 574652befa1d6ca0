//! Full-text search over Concord messages: Chinese and English, permission-scoped, with
//! highlighted snippets, on an embedded tantivy index.
//!
//! # Use
//! [`SearchIndex::open`] a directory (or [`SearchIndex::create_in_ram`] in tests), feed it the
//! event log as [`IndexOp`] batches with [`SearchIndex::apply`], each batch tagged with the log
//! position it reaches, and resume after a restart from [`SearchIndex::indexed_position`].
//! [`SearchIndex::search`] takes a [`SearchRequest`]: the user's text plus filters as fields,
//! above all the [`ChannelScope`] the searcher may read, outside which nothing is returned.
//!
//! `apply`, `search` and `merge_segments` block while they work (a search is milliseconds of
//! CPU, a commit an fsync): call them from a blocking thread (`spawn_blocking`, or the
//! indexer's own thread), not on an async executor.
//!
//! An online rebuild (`concord search reindex`) is best done into a fresh directory with
//! `background_merges` off, then [`SearchIndex::merge_segments`], then swapping the shared
//! `Arc<SearchIndex>` once it has caught up with the log; [`SearchIndex::clear`] rebuilds in
//! place but searches see an emptied index meanwhile.
//!
//! # Tokenisation
//! A jieba-only index misses most single-character and partial-word queries: 药 inside 药店 or
//! 中药 is not a word of its own. So every text is indexed twice (see the `analysis` module for the
//! details):
//! - `body_chars`, the field that decides **whether** a message matches: one term per CJK
//!   character and one per English word (lowercased, Snowball-stemmed, full-width folded), with
//!   consecutive positions. A query word is a phrase query over its character terms, which finds
//!   it anywhere, inside other words too, and across scripts (`明天的meeting`). English words
//!   match through their stem (`meeting` finds `meetings` and `Meeting`).
//! - `body_words`, the field that decides **rank**: jieba's segmentation of the CJK runs, used
//!   only to give messages where a CJK query stretch occurs as whole words a fixed bonus larger
//!   than any BM25 score, so they rank above messages where it only occurs inside other words.
//!   English is not repeated there: the stemmed words in `body_chars` already are words.
//!
//! File names and extracted file text are one more character-term field; a query word matches
//! when it is in the text or in the files. Files uploaded into channels are also documents of
//! their own ([`FileDoc`]: name and extracted text, channel, uploader, time), ranked with the
//! messages; [`KindFilter`] picks messages, files or both, and each hit says which it is.
//!
//! # Ranking
//! BM25 over `body_chars` (and the files), plus [`WHOLE_WORD_BONUS`] per CJK stretch of the
//! query found as whole words; ties are broken by message id, newest first, so pages are stable.
//! Filters add nothing to the score. Sorting by time skips scoring.

mod analysis;
mod document;
mod error;
mod exclusion;
mod highlight;
mod index;
mod query;
mod schema;

pub use analysis::warm_up;
pub use document::{FileDoc, IndexOp, MessageDoc};
pub use error::{Result, SearchError};
pub use highlight::{SNIPPET_MAX_CHARS, SnippetSegment};
pub use index::{
    HitKind, IndexedFile, SearchHit, SearchIndex, SearchIndexOptions, SearchResults, SnippetSource,
};
pub use query::{
    ChannelScope, KindFilter, MAX_LIMIT, MAX_OFFSET, MAX_QUERY_CHARS, MAX_QUERY_TERMS,
    SearchRequest, SortOrder, WHOLE_WORD_BONUS,
};
