//! Snippets: a window of a hit's text with the matched parts marked, as plain-text segments so
//! that no markup from the message can reach a page unescaped.
//!
//! Matches are found by running the same character-term analysis as the index over the text and
//! looking for each query word or phrase as a sequence of terms, so what is marked is exactly
//! what matched: single CJK characters, CJK substrings, stemmed English words (`meetings` for
//! the query `meeting`) and mixed phrases.

use serde::{Deserialize, Serialize};

use crate::analysis::{TokenBuffer, char_terms};

/// Longest snippet, in characters (not counting the `…` marking a cut).
pub const SNIPPET_MAX_CHARS: usize = 160;
/// Characters of context kept before the first match when the text has to be cut.
const CONTEXT_BEFORE_CHARS: usize = 30;
/// Texts longer than this are only scanned this far for matches: messages are short, and a huge
/// extracted file text must not make one hit slow.
const MAX_SCANNED_BYTES: usize = 64 * 1024;

/// A piece of snippet text, marked when it matched the query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetSegment {
    pub text: String,
    pub highlighted: bool,
}

/// Byte ranges of `text` where one of `phrases` (each a sequence of character terms) occurs,
/// sorted and merged.
fn match_ranges(text: &str, phrases: &[&[String]]) -> Vec<(usize, usize)> {
    let mut buffer = TokenBuffer::default();
    char_terms(text, &mut buffer);
    let tokens = buffer.tokens();
    let mut ranges = Vec::new();
    for phrase in phrases.iter().filter(|phrase| !phrase.is_empty()) {
        if phrase.len() > tokens.len() {
            continue;
        }
        for start in 0..=tokens.len() - phrase.len() {
            let window = &tokens[start..start + phrase.len()];
            if window
                .iter()
                .zip(phrase.iter())
                .all(|(token, term)| token.text == *term)
            {
                ranges.push((window[0].offset_from, window[phrase.len() - 1].offset_to));
            }
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (from, to) in ranges {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    merged
}

/// The largest char boundary of `text` at or below `index`.
fn floor_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Byte offset reached by moving `chars` characters forward from `from` (or the end).
fn advance_chars(text: &str, from: usize, chars: usize) -> usize {
    text[from..]
        .char_indices()
        .nth(chars)
        .map_or(text.len(), |(offset, _)| from + offset)
}

/// Byte offset reached by moving `chars` characters back from `to` (or the start).
fn retreat_chars(text: &str, to: usize, chars: usize) -> usize {
    text[..to]
        .char_indices()
        .rev()
        .nth(chars.saturating_sub(1))
        .map_or(0, |(offset, _)| offset)
}

/// The window start that shows the most matches: a little context before some match, keeping
/// as many of the following matches as fit.
fn best_window_start(text: &str, ranges: &[(usize, usize)]) -> usize {
    let mut best = (0, 0);
    for (index, &(from, _)) in ranges.iter().enumerate() {
        let start = retreat_chars(text, from, CONTEXT_BEFORE_CHARS);
        let end = advance_chars(text, start, SNIPPET_MAX_CHARS);
        let shown = ranges[index..]
            .iter()
            .take_while(|range| range.1 <= end)
            .count();
        if shown > best.1 {
            best = (start, shown);
        }
    }
    best.0
}

/// The snippet of `text` for a query whose positive words and phrases are `phrases`: the whole
/// text when short, otherwise the window showing the most matches, with `…` where it was cut.
pub(crate) fn snippet(text: &str, phrases: &[&[String]]) -> Vec<SnippetSegment> {
    let scanned = &text[..floor_boundary(text, MAX_SCANNED_BYTES)];
    let ranges = match_ranges(scanned, phrases);
    let fits = text.chars().nth(SNIPPET_MAX_CHARS).is_none();
    let start = if fits || ranges.is_empty() {
        0
    } else {
        best_window_start(text, &ranges)
    };
    let end = if fits {
        text.len()
    } else {
        advance_chars(text, start, SNIPPET_MAX_CHARS)
    };

    let mut segments = Vec::new();
    let mut push = |piece: &str, highlighted: bool| {
        if !piece.is_empty() {
            segments.push(SnippetSegment {
                text: piece.to_string(),
                highlighted,
            });
        }
    };
    if start > 0 {
        push("…", false);
    }
    let mut cursor = start;
    for &(from, to) in &ranges {
        if to <= start || from >= end {
            continue;
        }
        let (from, to) = (from.max(start), to.min(end));
        push(&text[cursor..from], false);
        push(&text[from..to], true);
        cursor = to;
    }
    push(&text[cursor..end], false);
    if end < text.len() {
        push("…", false);
    }
    segments
}

/// Whether any of `phrases` occurs in `text`.
pub(crate) fn has_match(text: &str, phrases: &[&[String]]) -> bool {
    let scanned = &text[..floor_boundary(text, MAX_SCANNED_BYTES)];
    !match_ranges(scanned, phrases).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrase(terms: &[&str]) -> Vec<String> {
        terms.iter().map(|term| term.to_string()).collect()
    }

    fn marked(segments: &[SnippetSegment]) -> String {
        segments
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

    #[test]
    fn marks_cjk_characters_and_stemmed_english() {
        let drug = phrase(&["药"]);
        let meet = phrase(&["meet"]);
        let segments = snippet("买药, then Meetings <b>药</b>", &[&drug, &meet]);
        assert_eq!(marked(&segments), "买[药], then [Meetings] <b>[药]</b>");
    }

    #[test]
    fn marks_a_phrase_as_one_span() {
        let im = phrase(&["即", "时", "通", "讯"]);
        let segments = snippet("企业级即时通讯工具", &[&im]);
        assert_eq!(marked(&segments), "企业级[即时通讯]工具");
    }

    #[test]
    fn long_text_is_cut_around_the_matches() {
        let text = format!("{}关键{}", "前".repeat(500), "后".repeat(500));
        let key = phrase(&["关", "键"]);
        let segments = snippet(&text, &[&key]);
        let shown = marked(&segments);
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert!(shown.contains("[关键]"), "{shown}");
        let visible: usize = segments
            .iter()
            .filter(|segment| segment.text != "…")
            .map(|segment| segment.text.chars().count())
            .sum();
        assert_eq!(visible, SNIPPET_MAX_CHARS);
    }

    #[test]
    fn no_query_terms_shows_the_start_unmarked() {
        let segments = snippet("hello world", &[]);
        assert_eq!(marked(&segments), "hello world");
        assert!(snippet("", &[]).is_empty());
    }
}
