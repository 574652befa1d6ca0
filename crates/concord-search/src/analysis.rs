//! Text analysis shared by indexing, query parsing and highlighting, so the three always agree on
//! what a term is.
//!
//! Text is cut into *runs*: maximal stretches of CJK characters (Han, kana, Hangul) and maximal
//! stretches of other letters and digits ("word runs"); everything else (spaces, punctuation,
//! emoji) separates runs and produces no term. Two analyses are built on the runs:
//!
//! - **character terms** ([`char_terms`], tokenizer `concord_chars`): every CJK character is one
//!   term, every word run is one term (full-width forms folded to ASCII, lowercased, then the
//!   English Snowball stem). Positions are consecutive across runs, so a phrase query over
//!   character terms finds any substring of CJK text, mixed text such as `明天的meeting` included.
//! - **word terms** ([`word_terms`], tokenizer `concord_words`): each CJK run segmented into
//!   words by jieba (dictionary only, no HMM, so the same text always segments the same way and
//!   unknown stretches fall back to single characters). Word runs produce no term here but
//!   still take a position, so two CJK words on either side of an English word are not adjacent.

use std::sync::LazyLock;

use jieba_rs::Jieba;
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};

/// Name under which the character-term tokenizer is registered in the index.
pub(crate) const CHARS_TOKENIZER: &str = "concord_chars";
/// Name under which the word-term tokenizer is registered in the index.
pub(crate) const WORDS_TOKENIZER: &str = "concord_words";

/// Longer word runs (URLs, hashes, base64) are dropped rather than indexed: they bloat the term
/// dictionary, nobody types them into a search box, and tantivy refuses terms past 64 KiB.
const MAX_TERM_BYTES: usize = 100;

/// Loading jieba's dictionary takes a few hundred milliseconds and ~30 MB: do it once per process.
static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Forces jieba's dictionary to load now, so the first indexed message or query does not pay for
/// it (useful before timing anything).
pub fn warm_up() {
    LazyLock::force(&JIEBA);
}

/// What kind of text a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunKind {
    /// Han characters, kana, Hangul: indexed character by character.
    Cjk,
    /// Letters and digits of other scripts: indexed as whole (stemmed) words.
    Word,
}

/// A maximal stretch of one kind of text, with its byte offset in the analysed string.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Run<'a> {
    pub kind: RunKind,
    pub text: &'a str,
    pub start: usize,
}

/// Whether `c` is written without spaces between words and so is indexed per character.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3007                  // 〇
        | 0x3040..=0x30FF       // Hiragana, Katakana
        | 0x3105..=0x312F       // Bopomofo
        | 0x3130..=0x318F       // Hangul compatibility jamo
        | 0x31A0..=0x31BF       // Bopomofo extended
        | 0x31F0..=0x31FF       // Katakana phonetic extensions
        | 0x3400..=0x4DBF       // CJK extension A
        | 0x4E00..=0x9FFF       // CJK unified ideographs
        | 0xAC00..=0xD7AF       // Hangul syllables
        | 0x1100..=0x11FF       // Hangul jamo
        | 0xF900..=0xFAFF       // CJK compatibility ideographs
        | 0xFF66..=0xFF9F       // half-width katakana
        | 0x20000..=0x2FA1F     // CJK extensions B-F, compatibility supplement
        | 0x30000..=0x3134F // CJK extension G
    )
}

fn kind_of(c: char) -> Option<RunKind> {
    if is_cjk(c) {
        Some(RunKind::Cjk)
    } else if c.is_alphanumeric() {
        Some(RunKind::Word)
    } else {
        None
    }
}

/// Cuts `text` into runs, in order; separators are skipped.
pub(crate) fn runs(text: &str) -> Vec<Run<'_>> {
    let mut out = Vec::new();
    let mut current: Option<(RunKind, usize)> = None;
    for (offset, c) in text.char_indices() {
        let kind = kind_of(c);
        match (current, kind) {
            (Some((open, _)), Some(kind)) if open == kind => {}
            (Some((open, start)), _) => {
                out.push(Run {
                    kind: open,
                    text: &text[start..offset],
                    start,
                });
                current = kind.map(|kind| (kind, offset));
            }
            (None, kind) => current = kind.map(|kind| (kind, offset)),
        }
    }
    if let Some((kind, start)) = current {
        out.push(Run {
            kind,
            text: &text[start..],
            start,
        });
    }
    out
}

/// Tokens of one analysis. Indexing runs an analysis per message and field, millions of times:
/// the buffer keeps its `Token`s (and their strings' capacity) from one text to the next, so
/// analysing a message allocates next to nothing.
#[derive(Clone, Debug, Default)]
pub(crate) struct TokenBuffer {
    tokens: Vec<Token>,
    len: usize,
    /// Scratch for lowercasing a word run before stemming it.
    lowered: String,
}

impl TokenBuffer {
    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// The tokens of the last analysis.
    pub(crate) fn tokens(&self) -> &[Token] {
        &self.tokens[..self.len]
    }

    fn tokens_mut(&mut self) -> &mut [Token] {
        &mut self.tokens[..self.len]
    }

    /// Appends a token whose text `fill` writes into an empty string.
    fn push(&mut self, from: usize, to: usize, position: usize, fill: impl FnOnce(&mut String)) {
        if self.len == self.tokens.len() {
            self.tokens.push(Token::default());
        }
        let token = &mut self.tokens[self.len];
        token.text.clear();
        fill(&mut token.text);
        token.offset_from = from;
        token.offset_to = to;
        token.position = position;
        token.position_length = 1;
        self.len += 1;
    }

    /// Appends the term of a word run: full-width letters and digits folded to ASCII (so `ＯＫ`
    /// finds `ok`), lowercased, then reduced to its English stem (so `meetings` finds
    /// `meeting`). Returns false, adding nothing, for runs too long to be worth indexing.
    fn push_word_run(&mut self, raw: &str, from: usize, position: usize) -> bool {
        if raw.len() > MAX_TERM_BYTES * 4 {
            return false;
        }
        let mut lowered = std::mem::take(&mut self.lowered);
        lowered.clear();
        for c in raw.chars() {
            let folded = match c as u32 {
                0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                _ => c,
            };
            lowered.extend(folded.to_lowercase());
        }
        let stem = frostem::Stemmer::new(frostem::Algorithm::English).stem(&lowered);
        let kept = !stem.is_empty() && stem.len() <= MAX_TERM_BYTES;
        if kept {
            self.push(from, from + raw.len(), position, |text| {
                text.push_str(&stem)
            });
        }
        drop(stem);
        self.lowered = lowered;
        kept
    }
}

/// Character terms of `text` (see the module docs), appended to `out` with byte offsets and
/// consecutive positions starting at 0.
pub(crate) fn char_terms(text: &str, out: &mut TokenBuffer) {
    let mut position = 0;
    for run in runs(text) {
        match run.kind {
            RunKind::Cjk => {
                for (offset, c) in run.text.char_indices() {
                    let from = run.start + offset;
                    out.push(from, from + c.len_utf8(), position, |text| text.push(c));
                    position += 1;
                }
            }
            RunKind::Word => {
                if out.push_word_run(run.text, run.start, position) {
                    position += 1;
                }
            }
        }
    }
}

/// Jieba's segmentation of one CJK run, as words.
pub(crate) fn segment_cjk_run(run: &str) -> Vec<&str> {
    JIEBA
        .cut(run, false)
        .into_iter()
        .map(|token| token.word)
        .filter(|word| !word.trim().is_empty())
        .collect()
}

/// Word terms of `text` (see the module docs), appended to `out`.
pub(crate) fn word_terms(text: &str, out: &mut TokenBuffer) {
    let mut position = 0;
    for run in runs(text) {
        match run.kind {
            RunKind::Cjk => {
                for token in JIEBA.cut(run.text, false) {
                    if token.word.trim().is_empty() {
                        continue;
                    }
                    let from = run.start + token.byte_start;
                    let to = run.start + token.byte_end;
                    out.push(from, to, position, |text| text.push_str(token.word));
                    position += 1;
                }
            }
            // Takes a position without a term: see the module docs.
            RunKind::Word => position += 1,
        }
    }
}

/// A tantivy tokenizer running one of the analyses above. The token buffer is reused between
/// calls: tantivy keeps one tokenizer per indexing thread and field.
#[derive(Clone)]
pub(crate) struct AnalysisTokenizer {
    analyse: fn(&str, &mut TokenBuffer),
    tokens: TokenBuffer,
}

impl AnalysisTokenizer {
    pub(crate) fn chars() -> TextAnalyzer {
        TextAnalyzer::from(AnalysisTokenizer {
            analyse: char_terms,
            tokens: TokenBuffer::default(),
        })
    }

    pub(crate) fn words() -> TextAnalyzer {
        TextAnalyzer::from(AnalysisTokenizer {
            analyse: word_terms,
            tokens: TokenBuffer::default(),
        })
    }
}

impl Tokenizer for AnalysisTokenizer {
    type TokenStream<'a> = BufferedTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> BufferedTokenStream<'a> {
        self.tokens.clear();
        (self.analyse)(text, &mut self.tokens);
        BufferedTokenStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

/// Hands out tokens computed up front.
pub(crate) struct BufferedTokenStream<'a> {
    tokens: &'a mut TokenBuffer,
    /// Index of the token `advance` moves to; the current token is the one before it.
    next: usize,
}

impl TokenStream for BufferedTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens.tokens()[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens.tokens_mut()[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(analyse: fn(&str, &mut TokenBuffer), text: &str) -> Vec<String> {
        let mut tokens = TokenBuffer::default();
        analyse(text, &mut tokens);
        tokens
            .tokens()
            .iter()
            .map(|token| token.text.clone())
            .collect()
    }

    #[test]
    fn char_terms_split_cjk_per_character_and_stem_english() {
        assert_eq!(
            texts(char_terms, "明天的Meetings改到3点!"),
            ["明", "天", "的", "meet", "改", "到", "3", "点"]
        );
    }

    #[test]
    fn full_width_latin_folds_to_ascii() {
        assert_eq!(texts(char_terms, "ＯＫ"), ["ok"]);
    }

    #[test]
    fn char_term_offsets_point_at_the_source_text() {
        let text = "买药 drugs";
        let mut buffer = TokenBuffer::default();
        char_terms(text, &mut buffer);
        let tokens = buffer.tokens();
        let spans: Vec<&str> = tokens
            .iter()
            .map(|token| &text[token.offset_from..token.offset_to])
            .collect();
        assert_eq!(spans, ["买", "药", "drugs"]);
        let positions: Vec<usize> = tokens.iter().map(|token| token.position).collect();
        assert_eq!(positions, [0, 1, 2]);
    }

    #[test]
    fn word_terms_segment_with_jieba_and_leave_a_gap_for_english() {
        let mut buffer = TokenBuffer::default();
        word_terms("企业级即时通讯工具 and 会议", &mut buffer);
        let tokens = buffer.tokens();
        let words: Vec<&str> = tokens.iter().map(|token| token.text.as_str()).collect();
        assert!(words.contains(&"会议"), "{words:?}");
        assert!(!words.iter().any(|word| word.contains("and")), "{words:?}");
        let last = tokens.last().unwrap();
        let before = &tokens[tokens.len() - 2];
        assert_eq!(last.position, before.position + 2);
    }

    #[test]
    fn a_reused_buffer_holds_only_the_last_analysis() {
        let mut buffer = TokenBuffer::default();
        char_terms("很长的一段中文 with English words", &mut buffer);
        buffer.clear();
        char_terms("短 Short", &mut buffer);
        let texts: Vec<&str> = buffer
            .tokens()
            .iter()
            .map(|token| token.text.as_str())
            .collect();
        assert_eq!(texts, ["短", "short"]);
        assert_eq!(buffer.tokens()[1].offset_from, 4);
    }

    #[test]
    fn overlong_word_runs_are_not_terms() {
        let long = "a".repeat(500);
        assert!(texts(char_terms, &long).is_empty());
    }

    #[test]
    fn separators_only_give_no_terms() {
        assert!(texts(char_terms, " ,.!?—…「」🙂 ").is_empty());
        assert!(texts(word_terms, " ,.!?—…「」🙂 ").is_empty());
    }
}
