//! Filters and paging: channel scope as a hard boundary, sender, time range boundaries, files,
//! threads, mentions, time sorts and stable pages with totals.

use concord_search::{ChannelScope, MAX_OFFSET, MessageDoc, SearchError, SortOrder};

use crate::support::{ids, index_of, message, request, sorted_ids};

/// Every message says 项目 and "project" so one query finds them all; the fields differ.
fn corpus() -> Vec<MessageDoc> {
    let mut messages = vec![
        MessageDoc {
            sender_id: 7,
            ..message(1, 1, 1_000, "项目 project kickoff")
        },
        MessageDoc {
            sender_id: 8,
            ..message(2, 2, 2_000, "项目 project budget")
        },
        MessageDoc {
            sender_id: 7,
            file_names: vec!["季度报告_v2.pdf".to_string()],
            file_text: "第三季度收入增长".to_string(),
            ..message(3, 1, 3_000, "项目 project report attached")
        },
        MessageDoc {
            has_replies: true,
            ..message(4, 3, 4_000, "项目 project thread root")
        },
        MessageDoc {
            thread_root_id: Some(4),
            ..message(5, 3, 5_000, "项目 project thread reply")
        },
        MessageDoc {
            mentions: vec![42],
            ..message(6, 2, 6_000, "项目 project @someone")
        },
        MessageDoc {
            mentions_channel: true,
            ..message(7, 2, 7_000, "项目 project @channel")
        },
    ];
    messages.push(message(8, 3, 8_000, "项目 project no replies"));
    messages
}

#[test]
fn channel_scope_excludes_other_channels_even_when_they_match() {
    let index = index_of(corpus());
    let scoped = |channels: Vec<i64>| {
        let mut req = request("项目");
        req.scope = ChannelScope::Only(channels);
        sorted_ids(&index.search(&req).unwrap())
    };
    assert_eq!(scoped(vec![1]), [1, 3]);
    assert_eq!(scoped(vec![2, 3, 2]), [2, 4, 5, 6, 7, 8]);
    assert!(scoped(vec![]).is_empty());
    assert!(scoped(vec![99]).is_empty());
    // Also when the query has no words and matches through a filter or an exclusion.
    let mut by_sender = request("");
    by_sender.scope = ChannelScope::Only(vec![2]);
    by_sender.sender_id = Some(7);
    assert!(index.search(&by_sender).unwrap().hits.is_empty());
    let mut excluding = request("-budget");
    excluding.scope = ChannelScope::Only(vec![2]);
    assert_eq!(sorted_ids(&index.search(&excluding).unwrap()), [6, 7]);
}

#[test]
fn sender_filter() {
    let index = index_of(corpus());
    let mut req = request("project");
    req.sender_id = Some(7);
    assert_eq!(sorted_ids(&index.search(&req).unwrap()), [1, 3]);
}

#[test]
fn time_range_includes_from_and_excludes_to_exactly() {
    let index = index_of(corpus());
    let range = |from: Option<i64>, to: Option<i64>| {
        let mut req = request("项目");
        req.from_ms = from;
        req.to_ms = to;
        sorted_ids(&index.search(&req).unwrap())
    };
    assert_eq!(range(Some(2_000), Some(4_000)), [2, 3]);
    assert_eq!(range(Some(1_999), Some(4_001)), [2, 3, 4]);
    assert_eq!(range(Some(2_001), Some(3_999)), [3]);
    assert_eq!(range(Some(7_000), None), [7, 8]);
    assert_eq!(range(None, Some(2_000)), [1]);
    assert!(range(Some(3_000), Some(3_000)).is_empty());
    assert!(range(Some(5_000), Some(1_000)).is_empty());
    assert_eq!(range(Some(i64::MIN), Some(i64::MAX)).len(), 8);
}

#[test]
fn has_file_filter_and_file_contents_are_searchable() {
    let index = index_of(corpus());
    let mut req = request("project");
    req.has_file = true;
    assert_eq!(sorted_ids(&index.search(&req).unwrap()), [3]);
    // File names and extracted text match like the body does.
    for query in ["季度报告", "报告", "v2", "pdf", "收入增长"] {
        assert_eq!(
            sorted_ids(&index.search(&request(query)).unwrap()),
            [3],
            "{query}"
        );
    }
}

#[test]
fn in_thread_filter_takes_replies_and_roots_with_replies() {
    let index = index_of(corpus());
    let mut req = request("project");
    req.in_thread = true;
    let results = index.search(&req).unwrap();
    assert_eq!(sorted_ids(&results), [4, 5]);
    let reply = results.hits.iter().find(|hit| hit.message_id == 5).unwrap();
    assert_eq!(reply.thread_root_id, Some(4));
}

#[test]
fn mentions_filter_takes_named_and_channel_wide_mentions() {
    let index = index_of(corpus());
    let mut req = request("project");
    req.mentions = Some(42);
    assert_eq!(sorted_ids(&index.search(&req).unwrap()), [6, 7]);
    req.mentions = Some(43);
    assert_eq!(sorted_ids(&index.search(&req).unwrap()), [7]);
}

#[test]
fn filters_alone_are_a_search_and_combine() {
    let index = index_of(corpus());
    let mut req = request("");
    req.sender_id = Some(7);
    req.has_file = true;
    assert_eq!(sorted_ids(&index.search(&req).unwrap()), [3]);
}

#[test]
fn sort_by_time_both_ways_with_ties_broken_by_id() {
    let mut corpus = corpus();
    corpus.push(message(9, 1, 8_000, "项目 same time as 8"));
    let index = index_of(corpus);
    let mut req = request("项目");
    req.sort = SortOrder::Newest;
    let newest = index.search(&req).unwrap();
    assert_eq!(ids(&newest), [9, 8, 7, 6, 5, 4, 3, 2, 1]);
    assert!(newest.hits.iter().all(|hit| hit.score.is_none()));
    let times: Vec<i64> = newest.hits.iter().map(|hit| hit.created_at_ms).collect();
    assert_eq!(times[..3], [8_000, 8_000, 7_000]);
    req.sort = SortOrder::Oldest;
    assert_eq!(
        ids(&index.search(&req).unwrap()),
        [1, 2, 3, 4, 5, 6, 7, 8, 9]
    );
}

#[test]
fn pages_are_stable_cover_everything_once_and_carry_the_total() {
    // Same text everywhere gives equal scores: order must still be total and repeatable.
    let mut corpus: Vec<MessageDoc> = (1..=23)
        .map(|id| message(id, id % 3, id * 10, "分页 paging test"))
        .collect();
    corpus.push(message(
        24,
        1,
        5,
        "分页 paging test with a longer body than the others",
    ));
    let index = index_of(corpus);
    for sort in [SortOrder::Relevance, SortOrder::Newest, SortOrder::Oldest] {
        let mut all = request("paging");
        all.sort = sort;
        let everything = ids(&index.search(&all).unwrap());
        assert_eq!(everything.len(), 24);
        let mut paged = Vec::new();
        for offset in [0, 10, 20] {
            let mut page = all.clone();
            page.offset = offset;
            page.limit = 10;
            let results = index.search(&page).unwrap();
            assert_eq!(results.total, 24);
            paged.extend(ids(&results));
        }
        assert_eq!(paged, everything, "{sort:?}");
        assert_eq!(
            ids(&index.search(&all).unwrap()),
            everything,
            "{sort:?} repeat"
        );
    }
    let mut past_end = request("paging");
    past_end.offset = 30;
    let results = index.search(&past_end).unwrap();
    assert_eq!((results.total, results.hits.len()), (24, 0));
}

#[test]
fn paging_too_deep_is_refused() {
    let index = index_of(corpus());
    let mut req = request("项目");
    req.offset = MAX_OFFSET + 1;
    assert!(matches!(
        index.search(&req),
        Err(SearchError::InvalidRequest(_))
    ));
    req.offset = usize::MAX;
    assert!(index.search(&req).is_err());
}
