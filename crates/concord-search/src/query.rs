//! Search requests: the query language users type, the filters that come as fields, and their
//! translation into one tantivy query.
//!
//! The language is deliberately small and never fails on syntax:
//! - words separated by spaces (ASCII or ideographic) must all match;
//! - `"quoted phrases"` (also `“…”`, `「…」`, `『…』`) must match as written; an unclosed
//!   quote runs to the end of the text;
//! - a leading `-` excludes a word or a phrase (`-draft`, `-"on hold"`);
//! - everything else is literal text: punctuation only separates terms, so `e-mail` is the
//!   phrase `e mail` and `C++` is the word `c`.
//!
//! A word that mixes scripts (`明天meeting`) is matched as a phrase of its terms, as typed.

use std::collections::BTreeSet;
use std::ops::Bound;

use serde::{Deserialize, Serialize};
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use crate::analysis::{RunKind, TokenBuffer, char_terms, runs, segment_cjk_run};
use crate::error::{Result, SearchError};
use crate::exclusion::ExclusionQuery;
use crate::schema::Fields;

/// Most hits one page may return; larger limits are lowered to this.
pub const MAX_LIMIT: usize = 100;
/// Deepest page start accepted: collecting `offset + limit` top documents costs memory and time
/// in proportion, so deep paging is refused rather than allowed to hog the searcher.
pub const MAX_OFFSET: usize = 10_000;
/// Longest query text accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Most words, phrases and exclusions one query may combine.
pub const MAX_QUERY_TERMS: usize = 32;

/// Added once per CJK stretch of the query that matches as whole jieba words. It is larger than
/// any BM25 score a message can reach, so messages where the query is a word rank above those
/// where it only appears inside other words, and BM25 orders messages within each tier.
pub const WHOLE_WORD_BONUS: f32 = 1_000.0;

/// Which channels a search may see. There is no default: every caller decides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChannelScope {
    /// Only these channels (the ones the searcher may read). An empty list finds nothing.
    Only(Vec<i64>),
    /// Every channel: compliance search. The caller checks the permission and audits it.
    All,
}

/// Order of hits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortOrder {
    /// Best match first (ties: newest message id first).
    #[default]
    Relevance,
    /// Latest `created_at` first (ties: higher message id first).
    Newest,
    /// Earliest `created_at` first (ties: lower message id first).
    Oldest,
}

/// Which kinds of documents a search returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KindFilter {
    /// Messages and files, ranked together.
    #[default]
    All,
    /// Messages only.
    Messages,
    /// Files only.
    Files,
}

/// One search: the user's text, the filters and the page wanted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// What the user typed, in the language described in the module docs.
    pub text: String,
    /// Channels the searcher may read; nothing outside them is ever returned.
    pub scope: ChannelScope,
    /// Only messages from this user.
    pub sender_id: Option<i64>,
    /// Only messages created at or after this time (ms since the epoch, inclusive).
    pub from_ms: Option<i64>,
    /// Only messages created before this time (ms since the epoch, exclusive).
    pub to_ms: Option<i64>,
    /// Only messages with at least one file (and files themselves).
    pub has_file: bool,
    /// Messages, files or both.
    pub kind: KindFilter,
    /// Only thread replies and thread roots that have replies.
    pub in_thread: bool,
    /// Only messages mentioning this user, by name or by `@channel`/`@all`/`@here`. Those
    /// channel-wide mentions reach members only: for "mentions me", scope the search to the
    /// user's member channels rather than every public channel.
    pub mentions: Option<i64>,
    /// Order of hits.
    pub sort: SortOrder,
    /// Hits to skip (at most [`MAX_OFFSET`]).
    pub offset: usize,
    /// Hits to return, lowered to [`MAX_LIMIT`]; 0 returns only the total.
    pub limit: usize,
}

impl SearchRequest {
    /// A request for `text` within `scope`, with no other filter, by relevance, first 20 hits.
    pub fn new(text: impl Into<String>, scope: ChannelScope) -> Self {
        SearchRequest {
            text: text.into(),
            scope,
            sender_id: None,
            from_ms: None,
            to_ms: None,
            has_file: false,
            kind: KindFilter::All,
            in_thread: false,
            mentions: None,
            sort: SortOrder::Relevance,
            offset: 0,
            limit: 20,
        }
    }

    /// Whether any filter other than the channel scope (and the kind: "every file" is no
    /// search) narrows the search.
    fn has_narrowing_filter(&self) -> bool {
        self.sender_id.is_some()
            || self.from_ms.is_some()
            || self.to_ms.is_some()
            || self.has_file
            || self.in_thread
            || self.mentions.is_some()
    }

    /// Whether the filters alone already rule out every message.
    pub(crate) fn matches_nothing(&self) -> bool {
        let empty_scope = matches!(&self.scope, ChannelScope::Only(ids) if ids.is_empty());
        let empty_range =
            matches!((self.from_ms, self.to_ms), (Some(from), Some(to)) if from >= to);
        empty_scope || empty_range
    }
}

/// A word or phrase of the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueryUnit {
    /// Character terms, matched as a phrase (or as one term).
    pub char_terms: Vec<String>,
    /// For each CJK stretch of the unit, its jieba words: matched as a phrase in `body_words`
    /// for the whole-word bonus.
    pub cjk_words: Vec<Vec<String>>,
}

/// The user's text, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ParsedQuery {
    pub required: Vec<QueryUnit>,
    pub excluded: Vec<QueryUnit>,
}

fn analyse_unit(text: &str) -> Option<QueryUnit> {
    let mut tokens = TokenBuffer::default();
    char_terms(text, &mut tokens);
    if tokens.tokens().is_empty() {
        return None;
    }
    let cjk_words = runs(text)
        .into_iter()
        .filter(|run| run.kind == RunKind::Cjk)
        .map(|run| {
            segment_cjk_run(run.text)
                .into_iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    Some(QueryUnit {
        char_terms: tokens
            .tokens()
            .iter()
            .map(|token| token.text.clone())
            .collect(),
        cjk_words,
    })
}

/// The characters that may close a phrase opened by `open`, if `open` opens one.
fn phrase_closers(open: char) -> Option<&'static [char]> {
    match open {
        '"' | '“' | '”' => Some(&['"', '”', '“']),
        '＂' => Some(&['＂', '"']),
        '「' => Some(&['」']),
        '『' => Some(&['』']),
        _ => None,
    }
}

/// Parses the query language (see the module docs). Never fails on syntax; fails only on size.
pub(crate) fn parse_query_text(text: &str) -> Result<ParsedQuery> {
    let length = text.chars().count();
    if length > MAX_QUERY_CHARS {
        return Err(SearchError::QueryTooLong {
            chars: length,
            max: MAX_QUERY_CHARS,
        });
    }
    let chars: Vec<char> = text.chars().collect();
    let mut parsed = ParsedQuery::default();
    let mut units_seen = 0;
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let excluded = matches!(chars[i], '-' | '－')
            && chars.get(i + 1).is_some_and(|next| !next.is_whitespace());
        if excluded {
            i += 1;
        }
        let piece: String = if let Some(closers) = phrase_closers(chars[i]) {
            let start = i + 1;
            let end = (start..chars.len())
                .find(|&j| closers.contains(&chars[j]))
                .unwrap_or(chars.len());
            i = end + 1;
            chars[start..end].iter().collect()
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && phrase_closers(chars[i]).is_none()
            {
                i += 1;
            }
            chars[start..i].iter().collect()
        };
        if let Some(unit) = analyse_unit(&piece) {
            units_seen += 1;
            if excluded {
                parsed.excluded.push(unit);
            } else {
                parsed.required.push(unit);
            }
        }
    }
    if units_seen > MAX_QUERY_TERMS {
        return Err(SearchError::TooManyTerms {
            terms: units_seen,
            max: MAX_QUERY_TERMS,
        });
    }
    Ok(parsed)
}

/// A term query, or a phrase query when there are several terms.
fn terms_query(field: Field, terms: &[String]) -> Box<dyn Query> {
    let mut terms: Vec<Term> = terms
        .iter()
        .map(|text| Term::from_field_text(field, text))
        .collect();
    if terms.len() == 1 {
        let term = terms.remove(0);
        Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
    } else {
        Box::new(PhraseQuery::new(terms))
    }
}

/// Messages whose text or files contain the unit.
fn unit_match(fields: &Fields, unit: &QueryUnit) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (
            Occur::Should,
            terms_query(fields.body_chars, &unit.char_terms),
        ),
        (
            Occur::Should,
            terms_query(fields.file_terms, &unit.char_terms),
        ),
    ]))
}

fn unit_query(fields: &Fields, unit: &QueryUnit) -> Box<dyn Query> {
    let mut clauses = vec![(Occur::Must, unit_match(fields, unit))];
    for words in unit.cjk_words.iter().filter(|words| !words.is_empty()) {
        let bonus = ConstScoreQuery::new(terms_query(fields.body_words, words), WHOLE_WORD_BONUS);
        clauses.push((Occur::Should, Box::new(bonus)));
    }
    Box::new(BooleanQuery::new(clauses))
}

/// A filter: must match, adds nothing to the score.
fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

fn i64_term_query(field: Field, value: i64) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_i64(field, value),
        IndexRecordOption::Basic,
    ))
}

pub(crate) fn bool_term_query(field: Field, value: bool) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_bool(field, value),
        IndexRecordOption::Basic,
    ))
}

/// The whole tantivy query for `request`, whose text parsed as `parsed`.
pub(crate) fn build_query(
    fields: &Fields,
    request: &SearchRequest,
    parsed: &ParsedQuery,
) -> Result<Box<dyn Query>> {
    if parsed.required.is_empty() && parsed.excluded.is_empty() && !request.has_narrowing_filter() {
        return Err(SearchError::EmptyQuery);
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for unit in &parsed.required {
        clauses.push((Occur::Must, unit_query(fields, unit)));
    }
    if parsed.required.is_empty() {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    for unit in &parsed.excluded {
        let excluded = ExclusionQuery::new(unit_match(fields, unit));
        clauses.push((Occur::MustNot, Box::new(excluded)));
    }
    if let ChannelScope::Only(channel_ids) = &request.scope {
        let distinct: BTreeSet<i64> = channel_ids.iter().copied().collect();
        let terms = distinct
            .into_iter()
            .map(|id| Term::from_field_i64(fields.channel_id, id));
        clauses.push(filter(Box::new(TermSetQuery::new(terms))));
    }
    if let Some(sender) = request.sender_id {
        clauses.push(filter(i64_term_query(fields.sender_id, sender)));
    }
    if request.from_ms.is_some() || request.to_ms.is_some() {
        let lower = request.from_ms.map_or(Bound::Unbounded, |from| {
            Bound::Included(Term::from_field_i64(fields.created_at, from))
        });
        let upper = request.to_ms.map_or(Bound::Unbounded, |to| {
            Bound::Excluded(Term::from_field_i64(fields.created_at, to))
        });
        clauses.push(filter(Box::new(RangeQuery::new(lower, upper))));
    }
    if request.has_file {
        clauses.push(filter(bool_term_query(fields.has_file, true)));
    }
    match request.kind {
        KindFilter::All => {}
        KindFilter::Messages => clauses.push(filter(bool_term_query(fields.is_file, false))),
        KindFilter::Files => clauses.push(filter(bool_term_query(fields.is_file, true))),
    }
    if request.in_thread {
        clauses.push(filter(bool_term_query(fields.in_thread, true)));
    }
    if let Some(user) = request.mentions {
        let mentioned = BooleanQuery::new(vec![
            (Occur::Should, i64_term_query(fields.mentions, user)),
            (
                Occur::Should,
                bool_term_query(fields.mentions_channel, true),
            ),
        ]);
        clauses.push(filter(Box::new(mentioned)));
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(units: &[QueryUnit]) -> Vec<Vec<&str>> {
        units
            .iter()
            .map(|unit| unit.char_terms.iter().map(String::as_str).collect())
            .collect()
    }

    #[test]
    fn words_phrases_and_exclusions() {
        let parsed = parse_query_text(r#"Meetings "即时 通讯" -draft -"on hold""#).unwrap();
        assert_eq!(
            terms(&parsed.required),
            vec![vec!["meet"], vec!["即", "时", "通", "讯"]]
        );
        assert_eq!(
            terms(&parsed.excluded),
            vec![vec!["draft"], vec!["on", "hold"]]
        );
    }

    #[test]
    fn chinese_quotes_open_phrases_and_unclosed_quotes_run_to_the_end() {
        let parsed = parse_query_text("「项目 进度」 “明天 开会").unwrap();
        assert_eq!(
            terms(&parsed.required),
            vec![vec!["项", "目", "进", "度"], vec!["明", "天", "开", "会"]]
        );
    }

    #[test]
    fn mixed_script_word_is_one_phrase_with_its_cjk_words() {
        let parsed = parse_query_text("明天meeting").unwrap();
        assert_eq!(terms(&parsed.required), vec![vec!["明", "天", "meet"]]);
        assert_eq!(parsed.required[0].cjk_words, vec![vec!["明天".to_string()]]);
    }

    #[test]
    fn operators_and_punctuation_alone_give_no_units() {
        let parsed = parse_query_text(r#" - -- "" " !!! 「」 "#).unwrap();
        assert!(parsed.required.is_empty(), "{parsed:?}");
        assert!(parsed.excluded.is_empty(), "{parsed:?}");
    }

    #[test]
    fn hyphen_inside_a_word_is_not_an_exclusion() {
        let parsed = parse_query_text("e-mail").unwrap();
        assert_eq!(terms(&parsed.required), vec![vec!["e", "mail"]]);
        assert!(parsed.excluded.is_empty());
    }

    #[test]
    fn size_limits_are_errors() {
        let long = "字".repeat(MAX_QUERY_CHARS + 1);
        assert!(matches!(
            parse_query_text(&long),
            Err(SearchError::QueryTooLong { .. })
        ));
        let many = "a ".repeat(MAX_QUERY_TERMS + 1);
        assert!(matches!(
            parse_query_text(&many),
            Err(SearchError::TooManyTerms { .. })
        ));
    }
}
