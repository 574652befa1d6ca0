//! Matching and ranking: Chinese substrings and single characters, whole words first, English
//! stems, mixed text, phrases, exclusions, and queries that make no sense.

use concord_search::{MAX_LIMIT, MAX_QUERY_CHARS, MessageDoc, SearchError, SearchIndex};

use crate::support::{found, ids, index_of, message, request};

/// Bodies chosen so that 药 is a jieba word in some (这个药, 三种药, 药) and only part of a word
/// in others (药店, 买药, 吃药, 中药, 山药), and so that other messages share neighbouring
/// characters without containing 药.
fn corpus() -> Vec<MessageDoc> {
    let bodies = [
        (1, 1, "企业级即时通讯工具的核心价值"),
        (2, 1, "我去药店买药了"),
        (3, 1, "记得吃药"),
        (4, 2, "中药和西药都有副作用"),
        (5, 2, "这个药很苦"),
        (6, 1, "山药炖排骨很好吃"),
        (7, 3, "医生开了三种药"),
        (8, 3, "药"),
        (9, 1, "明天的meeting改到3点"),
        (10, 2, "The meetings are moved to Friday"),
        (11, 1, "Meeting notes attached"),
        (12, 2, "会议纪要已经发出"),
        (13, 1, "今天的会议取消了"),
        (14, 3, "Please review the draft proposal"),
        (15, 3, "The final proposal is approved"),
        (16, 2, "约好了周五见面"),
        (17, 2, "通讯录更新了"),
        (18, 1, "山药"),
        (
            19,
            3,
            "我们今天讨论了很多事情，最后大家决定这个药还是先不吃，等下周再问问医生的意见，\
             然后再一起商量接下来怎么安排比较好",
        ),
        (20, 1, "ＯＫ，收到"),
    ];
    bodies
        .into_iter()
        .map(|(id, channel, body)| message(id, channel, 1_000 * id, body))
        .collect()
}

fn containing(corpus: &[MessageDoc], needle: &str) -> Vec<i64> {
    let mut ids: Vec<i64> = corpus
        .iter()
        .filter(|message| message.body.contains(needle))
        .map(|message| message.message_id)
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn a_chinese_word_is_found_inside_a_longer_compound() {
    let index = index_of(corpus());
    assert_eq!(found(&index, "即时通讯"), [1]);
    assert_eq!(found(&index, "通讯"), [1, 17]);
    // Crosses jieba's word boundary (企业级 | 即时通讯): character indexing still finds it.
    assert_eq!(found(&index, "级即"), [1]);
}

#[test]
fn a_single_character_finds_every_message_containing_it_and_no_other() {
    let corpus = corpus();
    let index = index_of(corpus.clone());
    for needle in ["药", "会", "约", "的"] {
        assert_eq!(
            found(&index, needle),
            containing(&corpus, needle),
            "query {needle}"
        );
    }
}

#[test]
fn whole_word_matches_rank_above_matches_inside_other_words() {
    let index = index_of(corpus());
    let results = index.search(&request("药")).unwrap();
    let order = ids(&results);
    assert_eq!(order.len(), 9, "{order:?}");
    // 8 (药), 5 (这个药), 7 (三种药) and the long 19 (这个药) have 药 as a word; the short
    // 18 (山药) would win on BM25 alone, but must come after all of them.
    let mut whole_words = order[..4].to_vec();
    whole_words.sort_unstable();
    assert_eq!(whole_words, [5, 7, 8, 19], "{order:?}");
    let scores: Vec<f32> = results.hits.iter().map(|hit| hit.score.unwrap()).collect();
    assert!(
        scores.windows(2).all(|pair| pair[0] >= pair[1]),
        "{scores:?}"
    );
}

#[test]
fn english_words_match_through_their_stem_and_any_case() {
    let index = index_of(corpus());
    for query in ["meeting", "Meetings", "MEETING"] {
        let hits = found(&index, query);
        for expected in [9, 10, 11] {
            assert!(hits.contains(&expected), "{query} -> {hits:?}");
        }
        assert!(!hits.contains(&12), "{query} -> {hits:?}");
    }
    assert_eq!(found(&index, "approve"), [15]);
}

#[test]
fn mixed_chinese_english_messages_match_either_part_and_both_together() {
    let index = index_of(corpus());
    assert_eq!(found(&index, "明天 meeting"), [9]);
    assert_eq!(found(&index, "meeting改到"), [9]);
    assert_eq!(found(&index, "3点"), [9]);
    assert_eq!(found(&index, "的meeting"), [9]);
}

#[test]
fn full_width_latin_letters_match_ascii() {
    let index = index_of(corpus());
    assert_eq!(found(&index, "ok"), [20]);
    assert_eq!(found(&index, "ＯＫ"), [20]);
}

#[test]
fn words_must_all_match_and_phrases_must_match_in_order() {
    let index = index_of(corpus());
    assert_eq!(found(&index, "proposal final"), [15]);
    assert_eq!(found(&index, "\"final proposal\""), [15]);
    assert!(found(&index, "\"proposal final\"").is_empty());
    assert_eq!(found(&index, "「的核心」"), [1]);
    assert!(found(&index, "\"核心的\"").is_empty());
}

#[test]
fn exclusions_remove_words_and_phrases() {
    let index = index_of(corpus());
    assert_eq!(found(&index, "proposal -draft"), [15]);
    assert_eq!(found(&index, "药 -山药 -\"药店\""), [3, 4, 5, 7, 8, 19]);
    // Only an exclusion: everything else.
    let everything_but = found(&index, "-药");
    assert_eq!(everything_but.len(), 20 - 9);
    assert!(!everything_but.contains(&2));
}

#[test]
fn queries_without_searchable_words_are_a_clear_error() {
    let index = index_of(corpus());
    for text in [
        "",
        "   ",
        "\"\"",
        "-",
        " - -- ",
        "!!!",
        "「」",
        "🙂🙂",
        "\u{0}\u{202e}",
        "\\\" \\ \" -\"",
    ] {
        let outcome = index.search(&request(text));
        assert!(
            matches!(outcome, Err(SearchError::EmptyQuery)),
            "{text:?} -> {outcome:?}"
        );
    }
}

#[test]
fn odd_syntax_is_read_as_literal_text() {
    let index = index_of(corpus());
    assert_eq!(found(&index, "\"final proposal"), [15]);
    assert_eq!(found(&index, "proposal\"final"), [15]);
    for text in [
        "((( ))) AND OR NOT",
        "*:* field:value ~2 ^3",
        "body_chars:药",
        "--药",
        "\u{3000}药\u{3000}",
    ] {
        index
            .search(&request(text))
            .unwrap_or_else(|error| panic!("{text:?}: {error}"));
    }
    assert_eq!(found(&index, "--山药"), found(&index, "-山药"));
}

#[test]
fn oversized_queries_are_refused_with_the_limit() {
    let index = index_of(corpus());
    let huge = "药".repeat(100_000);
    assert!(matches!(
        index.search(&request(&huge)),
        Err(SearchError::QueryTooLong { max, .. }) if max == MAX_QUERY_CHARS
    ));
    let many_words = "a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc dd ee ff gg hh";
    assert!(matches!(
        index.search(&request(many_words)),
        Err(SearchError::TooManyTerms { .. })
    ));
    // A long but legal phrase runs.
    let long_phrase = format!("\"{}\"", "药".repeat(MAX_QUERY_CHARS - 2));
    assert!(
        index
            .search(&request(&long_phrase))
            .unwrap()
            .hits
            .is_empty()
    );
}

#[test]
fn results_are_capped_and_limit_zero_counts_only() {
    let corpus: Vec<MessageDoc> = (1..=150)
        .map(|id| message(id, 1, id, "同样的内容"))
        .collect();
    let index = index_of(corpus);
    let mut wide = request("内容");
    wide.limit = 1_000;
    let results = index.search(&wide).unwrap();
    assert_eq!(results.total, 150);
    assert_eq!(results.hits.len(), MAX_LIMIT);
    wide.limit = 0;
    let counted = index.search(&wide).unwrap();
    assert_eq!((counted.total, counted.hits.len()), (150, 0));
}

#[test]
fn an_empty_index_answers_with_no_hits() {
    let index = SearchIndex::create_in_ram(&Default::default()).unwrap();
    let results = index.search(&request("药")).unwrap();
    assert_eq!((results.total, results.hits.len()), (0, 0));
}
