//! Text for the search index: the text of plain-text files (UTF-8, UTF-16, GB18030/GBK) and of
//! PDFs, bounded in length and in the work done to get it.
//!
//! ```
//! use concord_media::{extract_text, FileKind, MediaLimits};
//!
//! let (gbk, _, _) = encoding_rs::GBK.encode("季度预算 Q3 budget");
//! let text = extract_text(&gbk, FileKind::Text, 1_000, &MediaLimits::default());
//! assert_eq!(text.as_deref(), Some("季度预算 Q3 budget"));
//! ```

use std::panic::{AssertUnwindSafe, catch_unwind};

use lopdf::{Document, LoadOptions};

use crate::{FileKind, MediaLimits, sniff::valid_utf8_prefix};

/// Returns at most `max_chars` characters of the file's text (for HTML, SVG and XML, the text
/// between the tags), or `None` when the kind has no text we extract (images, archives, other
/// binaries), the file is damaged, encrypted or over the limits, or no text is found.
///
/// For text only the first `max_chars × 4` bytes are read (`× 16` for markup), so a caller
/// streaming from disk need pass no more than that; a PDF must be passed whole. Never panics: the
/// PDF parser runs under `catch_unwind`, and a PDF's pages are read one at a time, each stream
/// inflated to at most [`MediaLimits::max_pdf_stream_bytes`], within
/// [`MediaLimits::max_pdf_text_time`].
pub fn extract_text(
    bytes: &[u8],
    kind: FileKind,
    max_chars: usize,
    limits: &MediaLimits,
) -> Option<String> {
    if max_chars == 0 {
        return None;
    }
    let text = match kind {
        FileKind::Text => decode_text(bytes, max_chars),
        // Markup is decoded like text (a longer prefix: tags take room) and its tags dropped.
        FileKind::Markup => strip_tags(&decode_text(bytes, max_chars.saturating_mul(4))),
        FileKind::Pdf => {
            limits.check_input(bytes).ok()?;
            catch_unwind(AssertUnwindSafe(|| pdf_text(bytes, max_chars, limits))).ok()??
        }
        _ => return None,
    };
    let text = truncate_chars(text.trim(), max_chars);
    (!text.is_empty()).then(|| text.to_string())
}

/// Decodes only the prefix that can hold `max_chars` characters (4 bytes each at most).
fn decode_text(bytes: &[u8], max_chars: usize) -> String {
    let prefix = &bytes[..bytes
        .len()
        .min(max_chars.saturating_mul(4).saturating_add(4))];
    if let Some(rest) = prefix.strip_prefix(b"\xFF\xFE") {
        return encoding_rs::UTF_16LE
            .decode_without_bom_handling(rest)
            .0
            .into_owned();
    }
    if let Some(rest) = prefix.strip_prefix(b"\xFE\xFF") {
        return encoding_rs::UTF_16BE
            .decode_without_bom_handling(rest)
            .0
            .into_owned();
    }
    let prefix = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    match std::str::from_utf8(prefix) {
        Ok(text) => return text.to_string(),
        // Cut inside the last character (the caller passed a prefix of a longer file).
        Err(err) if valid_utf8_prefix(prefix) => {
            return String::from_utf8_lossy(&prefix[..err.valid_up_to()]).into_owned();
        }
        Err(_) => {}
    }
    decode_gb18030_prefix(prefix).unwrap_or_else(|| String::from_utf8_lossy(prefix).into_owned())
}

/// Decodes GB18030 (which covers GBK and GB2312) strictly, allowing the sample to end inside a
/// character (up to three trailing bytes are dropped); `None` when it is not GB18030.
pub(crate) fn decode_gb18030_prefix(bytes: &[u8]) -> Option<String> {
    (0..=3.min(bytes.len())).find_map(|cut| {
        encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(&bytes[..bytes.len() - cut])
            .map(|text| text.into_owned())
    })
}

fn pdf_text(bytes: &[u8], max_chars: usize, limits: &MediaLimits) -> Option<String> {
    let document = load_pdf(bytes, limits).ok()?;
    let started = std::time::Instant::now();
    let mut text = String::new();
    let mut chars = 0;
    let mut seen_contents = std::collections::HashSet::new();
    // Page by page, so a long document stops being read once enough text is found or the time
    // is up; a page whose content is over the limits is skipped, not fatal.
    for (page_number, page_id) in document.get_pages() {
        // Pages that only repeat content streams already read (one bomb shared by every page)
        // are not inflated again.
        let contents = document.get_page_contents(page_id);
        let repeated = !contents.is_empty() && contents.iter().all(|id| seen_contents.contains(id));
        seen_contents.extend(contents);
        if !repeated
            && let Ok(page_text) =
                document.extract_text_with_limit(&[page_number], limits.max_pdf_stream_bytes)
        {
            chars += page_text.chars().count() + 1;
            text.push_str(&page_text);
            text.push('\n');
        }
        if chars >= max_chars || started.elapsed() >= limits.max_pdf_text_time {
            break;
        }
    }
    Some(text)
}

/// Loads a PDF within the limits: streams inflate to a bounded size while loading, and documents
/// with too many objects or pages, or encrypted ones, are refused.
pub(crate) fn load_pdf(bytes: &[u8], limits: &MediaLimits) -> Result<Document, crate::MediaError> {
    use crate::MediaError;
    let options = LoadOptions {
        max_decompressed_size: Some(limits.max_pdf_stream_bytes),
        ..LoadOptions::default()
    };
    let document = Document::load_mem_with_options(bytes, options).map_err(|err| match err {
        lopdf::Error::Decompress(_) => MediaError::PdfTooComplex {
            what: "decompressed bytes in one stream",
            limit: limits.max_pdf_stream_bytes,
        },
        other => MediaError::Malformed(other.to_string()),
    })?;
    if document.is_encrypted() || document.was_encrypted() {
        return Err(MediaError::PdfEncrypted);
    }
    if document.objects.len() > limits.max_pdf_objects {
        return Err(MediaError::PdfTooComplex {
            what: "objects",
            limit: limits.max_pdf_objects,
        });
    }
    let pages = document.page_iter().take(limits.max_pdf_pages + 1).count();
    if pages > limits.max_pdf_pages {
        return Err(MediaError::PdfTooComplex {
            what: "pages",
            limit: limits.max_pdf_pages,
        });
    }
    Ok(document)
}

/// The text between tags, with each tag (and the script or style inside one) turned into a
/// space. Not an HTML parser: good enough to index words, never used to render.
fn strip_tags(markup: &str) -> String {
    let mut text = String::with_capacity(markup.len());
    let mut rest = markup;
    let (mut script_unclosed, mut style_unclosed) = (false, false);
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        let tag = &rest[open..];
        let lower_start: String = tag.chars().take(8).collect::<String>().to_ascii_lowercase();
        // Each closing tag is searched for until once not found, so a flood of unclosed
        // <script> tags costs linear time, not quadratic.
        let skip_to = if lower_start.starts_with("<script") && !script_unclosed {
            let found = find_ascii_case_insensitive(tag, "</script>");
            script_unclosed = found.is_none();
            found
        } else if lower_start.starts_with("<style") && !style_unclosed {
            let found = find_ascii_case_insensitive(tag, "</style>");
            style_unclosed = found.is_none();
            found
        } else {
            None
        };
        let from = skip_to.unwrap_or(0);
        match tag[from..].find('>') {
            Some(close) => rest = &tag[from + close + 1..],
            None => return collapse_spaces(&text),
        }
    }
    text.push_str(rest);
    collapse_spaces(&text)
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn truncate_chars(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_cut_at_max_chars() {
        let limits = MediaLimits::default();
        let text = extract_text("即时通讯工具".as_bytes(), FileKind::Text, 4, &limits);
        assert_eq!(text.as_deref(), Some("即时通讯"));
    }

    #[test]
    fn a_prefix_cut_inside_a_character_loses_only_that_character() {
        let bytes = "报告".as_bytes();
        let text = extract_text(&bytes[..5], FileKind::Text, 100, &MediaLimits::default());
        assert_eq!(text.as_deref(), Some("报"));
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "会议纪要".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let text = extract_text(&bytes, FileKind::Text, 100, &MediaLimits::default());
        assert_eq!(text.as_deref(), Some("会议纪要"));
    }

    #[test]
    fn markup_gives_the_text_between_tags() {
        let html = "<html><head><style>p{color:red}</style><script>var x = '<b>';</script></head>\
                    <body><p>季度<b>报告</b></p>\n<p>Budget &amp; plan</p></body></html>";
        let text = extract_text(
            html.as_bytes(),
            FileKind::Markup,
            100,
            &MediaLimits::default(),
        );
        assert_eq!(text.as_deref(), Some("季度 报告 Budget &amp; plan"));
        let unclosed = extract_text(b"hello <b", FileKind::Markup, 100, &MediaLimits::default());
        assert_eq!(unclosed.as_deref(), Some("hello"));
    }

    #[test]
    fn kinds_without_text_give_none() {
        let limits = MediaLimits::default();
        assert_eq!(extract_text(b"abc", FileKind::Image, 10, &limits), None);
        assert_eq!(extract_text(b"abc", FileKind::Archive, 10, &limits), None);
        assert_eq!(extract_text(b"   ", FileKind::Text, 10, &limits), None);
        assert_eq!(extract_text(b"abc", FileKind::Text, 0, &limits), None);
    }

    #[test]
    fn garbage_pdf_gives_none_without_panicking() {
        let limits = MediaLimits::default();
        assert_eq!(
            extract_text(b"%PDF-1.7\n1 0 obj <<", FileKind::Pdf, 10, &limits),
            None
        );
        assert_eq!(extract_text(&[0xFF; 64], FileKind::Pdf, 10, &limits), None);
    }
}
