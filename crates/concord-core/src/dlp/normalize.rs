//! The normalised view of a text that the detectors scan: invisible format characters
//! removed, full-width digits and the look-alike punctuation the DLP set describes folded to
//! ASCII, and every kind of space or dash used as a digit separator folded to `' '` or `'-'`.
//! Each normalised character remembers the original code-point index it came from, so a match
//! found here maps back to a span of the original text (covering any invisible characters
//! inside it).

/// Zero-width and soft-hyphen characters a user may paste inside a value.
pub const INVISIBLE: [char; 6] = [
    '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}',
];

/// Whether `c` is one of the invisible format characters ignored inside values.
pub fn is_invisible(c: char) -> bool {
    INVISIBLE.contains(&c)
}

/// `c` folded to what the detectors compare, or `None` when it is dropped.
pub fn fold(c: char) -> Option<char> {
    if is_invisible(c) {
        return None;
    }
    Some(match c {
        '\u{FF10}'..='\u{FF19}' => char::from(b'0' + (c as u32 - 0xFF10) as u8),
        '\u{FF38}' => 'X',
        '\u{FF58}' => 'x',
        '\u{FF20}' => '@',
        '\u{FF0E}' => '.',
        '\u{FF0B}' => '+',
        '\u{FF0D}' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2212}' => '-',
        '\u{00A0}' | '\u{202F}' | '\u{3000}' | '\u{2007}' | '\u{2009}' => ' ',
        other => other,
    })
}

/// Whether `c` (original or folded) is a digit of either width.
pub fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('\u{FF10}'..='\u{FF19}').contains(&c)
}

/// A text as the detectors see it.
#[derive(Debug)]
pub struct Normalized {
    /// The folded characters.
    pub chars: Vec<char>,
    /// The same, as a string (for regular expressions).
    pub text: String,
    /// For each folded character, the index of the original code point it came from.
    orig: Vec<usize>,
    /// For each folded character, its byte offset in `text`.
    byte_at: Vec<usize>,
    /// The original text's length in code points.
    orig_len: usize,
}

impl Normalized {
    pub fn new(original: &str) -> Self {
        let mut chars = Vec::with_capacity(original.len());
        let mut text = String::with_capacity(original.len());
        let mut orig = Vec::with_capacity(original.len());
        let mut byte_at = Vec::with_capacity(original.len());
        let mut orig_len = 0;
        for (i, c) in original.chars().enumerate() {
            orig_len = i + 1;
            if let Some(f) = fold(c) {
                byte_at.push(text.len());
                text.push(f);
                chars.push(f);
                orig.push(i);
            }
        }
        Self {
            chars,
            text,
            orig,
            byte_at,
            orig_len,
        }
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The folded character at `i`, or `None` outside the text.
    pub fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    /// The folded character just before `i`.
    pub fn before(&self, i: usize) -> Option<char> {
        i.checked_sub(1).and_then(|j| self.at(j))
    }

    /// The original span `[start, end)` (code points) of the folded span `[start, end)`.
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        if start >= end || start >= self.orig.len() {
            let at = self.orig.get(start).copied().unwrap_or(self.orig_len);
            return (at, at);
        }
        let last = end.min(self.orig.len()) - 1;
        (self.orig[start], self.orig[last] + 1)
    }

    /// The folded character index of byte offset `byte` in `text` (the next character when
    /// `byte` is not on a boundary; `len()` at the end).
    pub fn char_index(&self, byte: usize) -> usize {
        self.byte_at.partition_point(|&b| b < byte)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_and_maps_back() {
        let n = Normalized::new("a\u{200B}１２\u{3000}３＠x");
        assert_eq!(n.text, "a12 3@x");
        assert_eq!(n.original_span(1, 5), (2, 6));
        assert_eq!(n.char_index(0), 0);
        assert_eq!(n.char_index(n.text.len()), n.len());
        assert_eq!(n.original_span(7, 7), (8, 8));
    }
}
