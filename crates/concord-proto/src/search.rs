//! Message and file search and bulk import: the query parameters, the hits (messages or files)
//! with their highlighted snippets, the online reindex's status, and the import summary.

use crate::files::FileInfo;
use crate::ids::{ChannelId, FileId, MessageId, UserId};
use crate::model::Message;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Order of search results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchSort {
    /// Best match first (whole-word matches above partial ones).
    #[default]
    Relevance,
    /// Latest first.
    Newest,
    /// Earliest first.
    Oldest,
}

/// What a search returns. `message` is the default, so clients that predate file search get
/// only message hits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// Messages only.
    #[default]
    Message,
    /// Files only (found by name or by the text of text files and PDFs).
    File,
    /// Messages and files, ranked together.
    All,
}

/// Whether a hit is a message or a file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchHitKind {
    #[default]
    Message,
    File,
}

/// A search. `q` is words (all must match), `"quoted phrases"` and `-exclusions`; Chinese
/// matches anywhere inside words, English by stem (`meeting` finds `meetings`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What to look for; may be empty when a filter narrows the search.
    pub q: Option<String>,
    /// Only this channel (404 if the caller cannot read it).
    pub channel_id: Option<i64>,
    /// Only messages from this user.
    pub sender_id: Option<i64>,
    /// Only messages sent at or after this time (ISO 8601 with an offset, inclusive).
    pub from: Option<String>,
    /// Only messages sent before this time (ISO 8601 with an offset, exclusive).
    pub to: Option<String>,
    /// Only messages with a file (and files).
    pub has_file: Option<bool>,
    /// `message` (default), `file` or `all`.
    pub kind: Option<SearchKind>,
    /// Only thread replies and thread roots with replies.
    pub in_thread: Option<bool>,
    /// Only messages mentioning the caller (by name or `@channel`).
    pub mentions_me: Option<bool>,
    /// `relevance` (default), `newest` or `oldest`.
    pub sort: Option<SearchSort>,
    /// Hits to skip (at most 10,000).
    pub offset: Option<usize>,
    /// Hits to return, 1 to 100 (default 20).
    pub limit: Option<usize>,
}

/// A piece of a snippet; `highlighted` pieces matched the query. Plain text: render it as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SnippetPart {
    pub text: String,
    pub highlighted: bool,
}

/// One message or file found. Message hits carry `message_id` and `message`, file hits
/// `file_id` and `file`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    /// `message` or `file`.
    #[serde(default)]
    pub kind: SearchHitKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<FileId>,
    pub channel_id: ChannelId,
    /// The sender, or the file's uploader.
    pub sender_id: UserId,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub thread_root_id: Option<MessageId>,
    /// Relevance score (only when sorted by relevance; comparable within one result list).
    pub score: Option<f32>,
    /// Text around the matches.
    pub snippet: Vec<SnippetPart>,
    /// Where the snippet comes from: `body` or `files` (the message's attachments) for
    /// messages, `file_name` or `file_text` for files.
    pub snippet_source: String,
    /// The message as it is now (message hits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// The file as it is now (file hits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileInfo>,
}

/// One page of results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchPage {
    /// Matches over all pages.
    pub total: usize,
    pub hits: Vec<SearchHit>,
    /// Offset of the next page, if there is one.
    pub next_offset: Option<usize>,
}

/// Where an online rebuild of the search index is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReindexState {
    /// None has run since the server started.
    #[default]
    Idle,
    Running,
    Done,
    Failed,
}

/// The online rebuild of the search index: the old index keeps answering until the new one has
/// caught up with the event log, then the new one takes its place.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReindexStatus {
    pub state: ReindexState,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
    /// Messages and files in the new index (when done).
    pub documents: Option<u64>,
    /// Event-log position the new index had reached when it took over (when done).
    pub position: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
}

/// A line of an import file that was not imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportProblem {
    /// 1-based line number.
    pub line: u64,
    pub message: String,
}

/// What a bulk import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportSummary {
    pub imported: u64,
    pub skipped: u64,
    pub channels_created: u64,
    pub users_created: u64,
    /// The first problems (at most 100).
    pub problems: Vec<ImportProblem>,
}
