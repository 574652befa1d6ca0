//! Writes and recovery: edits replace, deletes and retention remove, the event-log position
//! survives a reopen, the index can be cleared, and searches run while batches are applied.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use concord_search::{IndexOp, SearchError, SearchIndex, SearchIndexOptions};

use crate::support::{found, index_of, message};

#[test]
fn an_edit_replaces_the_old_text() {
    let index = index_of(vec![message(1, 1, 1, "原来的文字 original")]);
    index
        .apply(&[IndexOp::Upsert(message(1, 1, 1, "修改后 edited"))], 2)
        .unwrap();
    assert!(found(&index, "原来").is_empty());
    assert!(found(&index, "original").is_empty());
    assert_eq!(found(&index, "修改"), [1]);
    assert_eq!(found(&index, "edited"), [1]);
    assert_eq!(index.message_count(), 1);
}

#[test]
fn deletes_remove_messages_channels_and_old_history() {
    let index = index_of(vec![
        message(1, 1, 1_000, "保留 keep"),
        message(2, 1, 2_000, "保留 keep"),
        message(3, 2, 1_000, "保留 keep"),
        message(4, 2, 2_000, "保留 keep"),
        message(5, 2, 3_000, "保留 keep"),
        message(6, 3, 1_000, "保留 keep"),
    ]);
    index
        .apply(&[IndexOp::Delete { message_id: 1 }], 2)
        .unwrap();
    assert_eq!(found(&index, "keep"), [2, 3, 4, 5, 6]);
    index
        .apply(&[IndexOp::DeleteChannel { channel_id: 3 }], 3)
        .unwrap();
    assert_eq!(found(&index, "keep"), [2, 3, 4, 5]);
    index
        .apply(
            &[IndexOp::PruneChannelBefore {
                channel_id: 2,
                before_ms: 2_000,
            }],
            4,
        )
        .unwrap();
    // 3 (at 1000) goes; 4 at exactly 2000 stays; channel 1's old message 2 is untouched.
    assert_eq!(found(&index, "保留"), [2, 4, 5]);
    assert_eq!(index.message_count(), 3);
}

#[test]
fn operations_in_one_batch_apply_in_order() {
    let index = index_of(Vec::new());
    index
        .apply(
            &[
                IndexOp::Upsert(message(1, 1, 1_000, "first")),
                IndexOp::Delete { message_id: 1 },
                IndexOp::Delete { message_id: 2 },
                IndexOp::Upsert(message(2, 1, 1_000, "second")),
                IndexOp::Upsert(message(3, 5, 1_000, "third")),
                IndexOp::PruneChannelBefore {
                    channel_id: 5,
                    before_ms: 2_000,
                },
                IndexOp::Upsert(message(4, 5, 1_500, "fourth")),
                IndexOp::Upsert(message(2, 1, 1_000, "second edited")),
            ],
            2,
        )
        .unwrap();
    assert!(found(&index, "first").is_empty());
    assert_eq!(found(&index, "second"), [2]);
    assert_eq!(found(&index, "edited"), [2]);
    assert!(found(&index, "third").is_empty());
    assert_eq!(found(&index, "fourth"), [4]);
    assert_eq!(index.message_count(), 2);
}

#[test]
fn indexed_position_survives_reopening_the_directory() {
    let directory = tempfile::tempdir().unwrap();
    let options = SearchIndexOptions::default();
    {
        let index = SearchIndex::open(directory.path(), &options).unwrap();
        assert_eq!(index.indexed_position(), None);
        index
            .apply(&[IndexOp::Upsert(message(1, 1, 1, "持久化 durable"))], 41)
            .unwrap();
        index.apply(&[], 42).unwrap();
        assert_eq!(index.indexed_position(), Some(42));
    }
    let index = SearchIndex::open(directory.path(), &options).unwrap();
    assert_eq!(index.indexed_position(), Some(42));
    assert_eq!(found(&index, "持久"), [1]);
    assert_eq!(found(&index, "durable"), [1]);
}

#[test]
fn a_failed_batch_leaves_the_position_unchanged() {
    let index = index_of(vec![message(1, 1, 1, "text")]);
    index.apply(&[], 10).unwrap();
    let outcome = index.apply(&[IndexOp::Upsert(message(2, 1, 1, "later"))], 9);
    assert!(matches!(
        outcome,
        Err(SearchError::PositionWentBackwards {
            indexed: 10,
            given: 9
        })
    ));
    assert_eq!(index.indexed_position(), Some(10));
    assert!(found(&index, "later").is_empty());
    // Re-applying at the same position is allowed: a replay after a crash does that.
    index
        .apply(&[IndexOp::Upsert(message(2, 1, 1, "later"))], 10)
        .unwrap();
    assert_eq!(found(&index, "later"), [2]);
}

#[test]
fn clear_empties_the_index_and_forgets_the_position() {
    let directory = tempfile::tempdir().unwrap();
    let options = SearchIndexOptions::default();
    {
        let index = SearchIndex::open(directory.path(), &options).unwrap();
        index
            .apply(&[IndexOp::Upsert(message(1, 1, 1, "gone soon"))], 5)
            .unwrap();
        index.clear().unwrap();
        assert_eq!(index.indexed_position(), None);
        assert_eq!(index.message_count(), 0);
        assert!(found(&index, "gone").is_empty());
        // Rebuilding starts over from any position.
        index
            .apply(&[IndexOp::Upsert(message(2, 1, 1, "rebuilt"))], 1)
            .unwrap();
    }
    let index = SearchIndex::open(directory.path(), &options).unwrap();
    assert_eq!(index.indexed_position(), Some(1));
    assert_eq!(found(&index, "rebuilt"), [2]);
}

#[test]
fn a_second_writer_on_the_same_directory_is_an_error() {
    let directory = tempfile::tempdir().unwrap();
    let options = SearchIndexOptions::default();
    let _first = SearchIndex::open(directory.path(), &options).unwrap();
    assert!(matches!(
        SearchIndex::open(directory.path(), &options),
        Err(SearchError::Index(_))
    ));
}

#[test]
fn an_index_with_another_schema_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    let mut builder = tantivy::schema::Schema::builder();
    builder.add_text_field("title", tantivy::schema::TEXT);
    tantivy::Index::create_in_dir(directory.path(), builder.build()).unwrap();
    assert!(matches!(
        SearchIndex::open(directory.path(), &SearchIndexOptions::default()),
        Err(SearchError::IncompatibleIndex { .. })
    ));
}

#[test]
fn searches_run_while_batches_are_applied() {
    fn assert_shareable<T: Send + Sync>() {}
    assert_shareable::<SearchIndex>();

    let index = Arc::new(index_of(Vec::new()));
    let writing = Arc::new(AtomicBool::new(true));
    let searchers: Vec<_> = (0..2)
        .map(|_| {
            let index = Arc::clone(&index);
            let writing = Arc::clone(&writing);
            std::thread::spawn(move || {
                let mut last_total = 0;
                while writing.load(Ordering::Relaxed) {
                    let total = index
                        .search(&crate::support::request("并发"))
                        .unwrap()
                        .total;
                    // Batches only add: what one search saw, the next sees too.
                    assert!(total >= last_total);
                    last_total = total;
                }
            })
        })
        .collect();
    for batch in 0..20i64 {
        let ops: Vec<IndexOp> = (0..10)
            .map(|n| {
                let id = batch * 10 + n;
                IndexOp::Upsert(message(id, id % 4, id, "并发写入 concurrent"))
            })
            .collect();
        index.apply(&ops, batch + 2).unwrap();
        // Visible as soon as apply returns.
        let total = index
            .search(&crate::support::request("写入"))
            .unwrap()
            .total;
        assert_eq!(total as i64, (batch + 1) * 10);
    }
    writing.store(false, Ordering::Relaxed);
    for searcher in searchers {
        searcher.join().unwrap();
    }
}

#[test]
fn a_bulk_load_without_background_merges_ends_in_one_segment() {
    let directory = tempfile::tempdir().unwrap();
    let options = SearchIndexOptions {
        background_merges: false,
        ..SearchIndexOptions::default()
    };
    let index = SearchIndex::open(directory.path(), &options).unwrap();
    for batch in 0..4i64 {
        let ops: Vec<IndexOp> = (0..25)
            .map(|n| IndexOp::Upsert(message(batch * 25 + n, 1, n, "批量 bulk")))
            .collect();
        index.apply(&ops, batch).unwrap();
    }
    index
        .apply(&[IndexOp::Delete { message_id: 0 }], 4)
        .unwrap();
    assert_eq!(index.segment_count(), 4);
    index.merge_segments().unwrap();
    assert_eq!(index.segment_count(), 1);
    assert_eq!(index.message_count(), 99);
    assert_eq!(
        index
            .search(&crate::support::request("批量"))
            .unwrap()
            .total,
        99
    );
    assert_eq!(index.indexed_position(), Some(4));
}
