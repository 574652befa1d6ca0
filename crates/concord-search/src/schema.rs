//! The index schema: one tantivy document per message and one per file, and how a
//! [`MessageDoc`] or a [`FileDoc`] becomes one.
//!
//! Files share the message fields where the meaning carries over (channel, `sender_id` for the
//! uploader, `created_at`, the character terms of `file_terms`), so one query ranks both
//! together; `is_file` tells them apart and `sort_key` (the message or file id) breaks ties.
//!
//! Numeric fields that filter are indexed (a term lookup gives their posting list); the ones hits
//! return or that sort are also fast fields (columnar, read per document without touching the
//! document store). Only the text needed for snippets is stored.

use tantivy::TantivyDocument;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions,
};

use crate::analysis::{CHARS_TOKENIZER, WORDS_TOKENIZER};
use crate::document::{FileDoc, MessageDoc};

pub(crate) const MESSAGE_ID: &str = "message_id";
pub(crate) const CHANNEL_ID: &str = "channel_id";
pub(crate) const SENDER_ID: &str = "sender_id";
pub(crate) const CREATED_AT: &str = "created_at";
pub(crate) const THREAD_ROOT_ID: &str = "thread_root_id";
pub(crate) const FILE_ID: &str = "file_id";
pub(crate) const SORT_KEY: &str = "sort_key";

/// Handles of every field, resolved once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fields {
    pub message_id: Field,
    pub channel_id: Field,
    pub sender_id: Field,
    pub created_at: Field,
    pub thread_root_id: Field,
    pub in_thread: Field,
    pub has_file: Field,
    pub mentions: Field,
    pub mentions_channel: Field,
    /// Message text under character terms; also where the text is stored for snippets.
    pub body_chars: Field,
    /// Message text under jieba word terms; only used to rank whole-word matches first.
    pub body_words: Field,
    /// File names and extracted file text under character terms.
    pub file_terms: Field,
    /// File names, stored for snippets.
    pub file_names: Field,
    /// Extracted file text, stored for snippets.
    pub file_text: Field,
    /// True for file documents, false for messages.
    pub is_file: Field,
    /// Set on file documents only: their unique key.
    pub file_id: Field,
    /// The message id or the file id: the tie-break of every sort.
    pub sort_key: Field,
    /// File documents: the SHA-256 of the content their text came from.
    pub content_sha256: Field,
    /// File documents whose text is still to be extracted.
    pub text_pending: Field,
}

fn text_field(tokenizer: &str, with_fieldnorms: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(tokenizer)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions)
        .set_fieldnorms(with_fieldnorms);
    TextOptions::default().set_indexing_options(indexing)
}

/// The schema and its field handles.
pub(crate) fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let fields = Fields {
        message_id: builder.add_i64_field(MESSAGE_ID, INDEXED | FAST),
        channel_id: builder.add_i64_field(CHANNEL_ID, INDEXED | FAST),
        sender_id: builder.add_i64_field(SENDER_ID, INDEXED | FAST),
        // Fast only: range filters and time sorts run on the column.
        created_at: builder.add_i64_field(CREATED_AT, FAST),
        thread_root_id: builder.add_i64_field(THREAD_ROOT_ID, FAST),
        in_thread: builder.add_bool_field("in_thread", INDEXED),
        has_file: builder.add_bool_field("has_file", INDEXED),
        mentions: builder.add_i64_field("mentions", INDEXED),
        mentions_channel: builder.add_bool_field("mentions_channel", INDEXED),
        body_chars: builder
            .add_text_field("body_chars", text_field(CHARS_TOKENIZER, true) | STORED),
        // No field norms: this field only ever adds a constant bonus, never a BM25 score.
        body_words: builder.add_text_field("body_words", text_field(WORDS_TOKENIZER, false)),
        file_terms: builder.add_text_field("file_terms", text_field(CHARS_TOKENIZER, true)),
        file_names: builder.add_text_field("file_names", STORED),
        file_text: builder.add_text_field("file_text", STORED),
        is_file: builder.add_bool_field("is_file", INDEXED),
        file_id: builder.add_i64_field(FILE_ID, INDEXED | FAST),
        sort_key: builder.add_i64_field(SORT_KEY, FAST),
        content_sha256: builder.add_text_field("content_sha256", STORED),
        text_pending: builder.add_bool_field("text_pending", INDEXED | STORED),
    };
    (builder.build(), fields)
}

impl Fields {
    /// The tantivy document for `message`.
    pub(crate) fn document(&self, message: &MessageDoc) -> TantivyDocument {
        let mut document = TantivyDocument::default();
        document.add_i64(self.message_id, message.message_id);
        document.add_i64(self.channel_id, message.channel_id);
        document.add_i64(self.sender_id, message.sender_id);
        document.add_i64(self.created_at, message.created_at_ms);
        document.add_bool(self.is_file, false);
        document.add_i64(self.sort_key, message.message_id);
        if let Some(root) = message.thread_root_id {
            document.add_i64(self.thread_root_id, root);
        }
        document.add_bool(
            self.in_thread,
            message.thread_root_id.is_some() || message.has_replies,
        );
        document.add_bool(self.has_file, !message.file_names.is_empty());
        for user in &message.mentions {
            document.add_i64(self.mentions, *user);
        }
        document.add_bool(self.mentions_channel, message.mentions_channel);
        document.add_text(self.body_chars, &message.body);
        document.add_text(self.body_words, &message.body);
        for name in &message.file_names {
            document.add_text(self.file_terms, name);
            document.add_text(self.file_names, name);
        }
        if !message.file_text.is_empty() {
            document.add_text(self.file_terms, &message.file_text);
            document.add_text(self.file_text, &message.file_text);
        }
        document
    }

    /// The tantivy document for `file`. Its name and text go where attached files' go (so the
    /// same query matches them) and into `body_words`, so whole-word matches rank first as for
    /// messages.
    pub(crate) fn file_document(&self, file: &FileDoc) -> TantivyDocument {
        let mut document = TantivyDocument::default();
        document.add_i64(self.file_id, file.file_id);
        document.add_i64(self.sort_key, file.file_id);
        document.add_bool(self.is_file, true);
        document.add_i64(self.channel_id, file.channel_id);
        document.add_i64(self.sender_id, file.uploader_id);
        document.add_i64(self.created_at, file.created_at_ms);
        document.add_bool(self.in_thread, false);
        document.add_bool(self.has_file, true);
        document.add_bool(self.mentions_channel, false);
        document.add_text(self.file_terms, &file.name);
        document.add_text(self.file_names, &file.name);
        document.add_text(self.body_words, &file.name);
        if !file.text.is_empty() {
            document.add_text(self.file_terms, &file.text);
            document.add_text(self.file_text, &file.text);
            document.add_text(self.body_words, &file.text);
        }
        document.add_text(self.content_sha256, &file.content_sha256);
        document.add_bool(self.text_pending, file.text_pending);
        document
    }
}
