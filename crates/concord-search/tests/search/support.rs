//! Helpers shared by the search tests: building messages, an in-RAM index holding them, and
//! reading results back as message ids.

use concord_search::{
    ChannelScope, IndexOp, MessageDoc, SearchIndex, SearchIndexOptions, SearchRequest,
    SearchResults,
};

/// A plain message: no thread, no mentions, no files.
pub fn message(message_id: i64, channel_id: i64, created_at_ms: i64, body: &str) -> MessageDoc {
    MessageDoc {
        message_id,
        channel_id,
        sender_id: 100 + channel_id,
        created_at_ms,
        body: body.to_string(),
        ..MessageDoc::default()
    }
}

/// A fresh in-RAM index holding `messages`, committed at log position 1.
pub fn index_of(messages: Vec<MessageDoc>) -> SearchIndex {
    let index = SearchIndex::create_in_ram(&SearchIndexOptions::default()).unwrap();
    let ops: Vec<IndexOp> = messages.into_iter().map(IndexOp::Upsert).collect();
    index.apply(&ops, 1).unwrap();
    index
}

/// A compliance-wide request for `text` with the largest page.
pub fn request(text: &str) -> SearchRequest {
    SearchRequest {
        limit: 100,
        ..SearchRequest::new(text, ChannelScope::All)
    }
}

/// Message ids of the hits, in result order.
pub fn ids(results: &SearchResults) -> Vec<i64> {
    results.hits.iter().map(|hit| hit.message_id).collect()
}

/// Message ids of the hits, sorted, for set comparisons.
pub fn sorted_ids(results: &SearchResults) -> Vec<i64> {
    let mut ids = ids(results);
    ids.sort_unstable();
    ids
}

/// Ids of every hit for `text` across all channels, sorted.
pub fn found(index: &SearchIndex, text: &str) -> Vec<i64> {
    sorted_ids(&index.search(&request(text)).unwrap())
}
