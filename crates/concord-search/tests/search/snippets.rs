//! Snippets: matched text marked in plain-text segments, for CJK characters, substrings,
//! stemmed English and file matches, with markup in messages left as text.

use concord_search::{MessageDoc, SNIPPET_MAX_CHARS, SearchHit, SnippetSource};

use crate::support::{index_of, message, request};

fn marked(hit: &SearchHit) -> String {
    hit.snippet
        .iter()
        .map(|segment| {
            if segment.highlighted {
                format!("[{}]", segment.text)
            } else {
                segment.text.clone()
            }
        })
        .collect()
}

fn only_hit(messages: Vec<MessageDoc>, query: &str) -> SearchHit {
    let index = index_of(messages);
    let mut results = index.search(&request(query)).unwrap();
    assert_eq!(results.hits.len(), 1, "{query}");
    results.hits.remove(0)
}

#[test]
fn single_cjk_characters_are_marked_everywhere_they_occur() {
    let hit = only_hit(vec![message(1, 1, 1, "我去药店买药了")], "药");
    assert_eq!(marked(&hit), "我去[药]店买[药]了");
    assert_eq!(hit.snippet_source, SnippetSource::Body);
}

#[test]
fn cjk_substrings_and_phrases_are_marked_as_one_span() {
    let hit = only_hit(vec![message(1, 1, 1, "企业级即时通讯工具")], "即时通讯");
    assert_eq!(marked(&hit), "企业级[即时通讯]工具");
}

#[test]
fn english_is_marked_by_stem_keeping_the_original_case() {
    let hit = only_hit(
        vec![message(1, 1, 1, "Meetings moved: the meeting is at 3")],
        "meeting",
    );
    assert_eq!(marked(&hit), "[Meetings] moved: the [meeting] is at 3");
}

#[test]
fn mixed_text_marks_each_query_word() {
    let hit = only_hit(
        vec![message(1, 1, 1, "明天的meeting改到3点")],
        "明天 meeting",
    );
    assert_eq!(marked(&hit), "[明天]的[meeting]改到3点");
}

#[test]
fn markup_in_messages_stays_plain_text() {
    let hit = only_hit(vec![message(1, 1, 1, "<script>alert('药')</script>")], "药");
    assert_eq!(marked(&hit), "<script>alert('[药]')</script>");
}

#[test]
fn long_messages_are_cut_around_the_match() {
    let body = format!(
        "{}关键的一句话{}",
        "很长的前文。".repeat(60),
        "很长的后文。".repeat(60)
    );
    let hit = only_hit(vec![message(1, 1, 1, &body)], "关键");
    let shown = marked(&hit);
    assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
    assert!(shown.contains("[关键]"), "{shown}");
    assert!(shown.chars().count() <= SNIPPET_MAX_CHARS + 4, "{shown}");
}

#[test]
fn a_match_only_in_the_files_shows_the_file() {
    let hit = only_hit(
        vec![MessageDoc {
            file_names: vec!["会议纪要.pdf".to_string()],
            ..message(1, 1, 1, "see attachment")
        }],
        "纪要",
    );
    assert_eq!(hit.snippet_source, SnippetSource::Files);
    assert_eq!(marked(&hit), "会议[纪要].pdf");
}
