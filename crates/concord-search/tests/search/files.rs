//! Files as documents of their own: found by name (single characters too) and by extracted
//! text, told apart from messages, filtered by kind, replaced on rename, removed on deletion and
//! spared by a channel's message pruning.

use crate::support::*;
use concord_search::{FileDoc, HitKind, IndexOp, KindFilter, SnippetSource};

fn file(file_id: i64, channel_id: i64, name: &str, text: &str) -> FileDoc {
    FileDoc {
        file_id,
        channel_id,
        uploader_id: 7,
        created_at_ms: 1_000,
        name: name.to_string(),
        text: text.to_string(),
        content_sha256: format!("sha-{file_id}"),
        text_pending: false,
    }
}

fn file_ids(index: &concord_search::SearchIndex, text: &str, kind: KindFilter) -> Vec<i64> {
    let mut request = request(text);
    request.kind = kind;
    let mut ids: Vec<i64> = index
        .search(&request)
        .unwrap()
        .hits
        .iter()
        .filter_map(|hit| hit.file_id)
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn files_are_found_by_name_and_text_and_told_apart_from_messages() {
    let index = index_of(vec![message(1, 10, 1_000, "季度报告在这里")]);
    let ops = vec![
        IndexOp::UpsertFile(file(5, 10, "季度报告.pdf", "Quarterly revenue grew")),
        IndexOp::UpsertFile(file(6, 10, "photo.png", "")),
    ];
    index.apply(&ops, 2).unwrap();

    assert_eq!(file_ids(&index, "报", KindFilter::All), vec![5]);
    assert_eq!(file_ids(&index, "revenues", KindFilter::All), vec![5]);
    assert_eq!(file_ids(&index, "photo", KindFilter::Files), vec![6]);
    assert!(file_ids(&index, "报", KindFilter::Messages).is_empty());

    let mut both = request("季度");
    both.kind = KindFilter::All;
    let hits = index.search(&both).unwrap().hits;
    let kinds: Vec<HitKind> = hits.iter().map(|hit| hit.kind).collect();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(kinds.contains(&HitKind::Message) && kinds.contains(&HitKind::File));
    let file_hit = hits.iter().find(|hit| hit.kind == HitKind::File).unwrap();
    assert_eq!(file_hit.snippet_source, SnippetSource::FileName);
    assert_eq!(file_hit.message_id, 0);

    let mut text = request("revenue");
    text.kind = KindFilter::Files;
    let hit = &index.search(&text).unwrap().hits[0];
    assert_eq!(hit.snippet_source, SnippetSource::FileText);
    assert!(
        hit.snippet
            .iter()
            .any(|s| s.highlighted && s.text == "revenue")
    );
}

#[test]
fn rename_replaces_delete_removes_and_pruning_spares_files() {
    let index = index_of(vec![message(1, 10, 500, "old news")]);
    index
        .apply(
            &[IndexOp::UpsertFile(file(5, 10, "draft.txt", "body text"))],
            2,
        )
        .unwrap();
    let stored = index.indexed_file(5).unwrap().unwrap();
    assert_eq!(stored.text, "body text");
    assert_eq!(stored.content_sha256, "sha-5");

    index
        .apply(
            &[IndexOp::UpsertFile(file(5, 10, "final.txt", "body text"))],
            3,
        )
        .unwrap();
    assert!(file_ids(&index, "draft", KindFilter::All).is_empty());
    assert_eq!(file_ids(&index, "final", KindFilter::All), vec![5]);

    let prune = IndexOp::PruneChannelBefore {
        channel_id: 10,
        before_ms: 5_000,
    };
    index.apply(&[prune], 4).unwrap();
    assert!(found(&index, "news").is_empty());
    assert_eq!(file_ids(&index, "final", KindFilter::All), vec![5]);

    assert!(index.files_pending_text(10).unwrap().is_empty());
    let pending = FileDoc {
        text_pending: true,
        ..file(5, 10, "final.txt", "")
    };
    index.apply(&[IndexOp::UpsertFile(pending)], 5).unwrap();
    assert_eq!(index.files_pending_text(10).unwrap(), vec![5]);
    assert!(index.indexed_file(5).unwrap().unwrap().text_pending);

    index
        .apply(&[IndexOp::DeleteFile { file_id: 5 }], 6)
        .unwrap();
    assert!(index.files_pending_text(10).unwrap().is_empty());
    assert!(file_ids(&index, "final", KindFilter::All).is_empty());
    assert!(index.indexed_file(5).unwrap().is_none());
}
