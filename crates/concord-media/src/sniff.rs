//! What a file is, judged by its content rather than its name, and whether a browser may show it
//! inline.
//!
//! ```
//! use concord_media::{sniff, FileKind, Disposition};
//!
//! let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
//! let sniffed = sniff(png, "report.pdf");
//! assert_eq!(sniffed.mime, "image/png");
//! assert_eq!(sniffed.kind, FileKind::Image);
//! assert!(sniffed.extension_mismatch);
//!
//! let page = sniff(b"<!DOCTYPE html><script>alert(1)</script>", "notes.txt");
//! assert_eq!(page.kind, FileKind::Markup);
//! assert_eq!(page.disposition(), Disposition::Attachment);
//! ```

/// How many leading bytes [`sniff`] looks at; pass at least this many when the file is longer.
pub const SNIFF_LEN: usize = 8 * 1024;

/// The broad class of a file, which decides what the server may do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A raster image format (PNG, JPEG, GIF, WebP, BMP, TIFF, HEIF, AVIF, ICO).
    Image,
    /// A PDF document.
    Pdf,
    /// Plain text (UTF-8, UTF-16 with a BOM, or GB18030/GBK).
    Text,
    /// HTML, SVG or XML: markup a browser may run script from.
    Markup,
    /// A compressed archive (zip, gzip, 7z, rar, tar, ...); never unpacked here.
    Archive,
    /// Anything else (office documents, executables, media, unknown binary).
    Other,
}

/// How the caller should serve a file: only content that cannot run script is shown inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Inline,
    Attachment,
}

/// The result of [`sniff`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    /// The content type to serve, from the content (never from the name).
    pub mime: &'static str,
    pub kind: FileKind,
    /// The declared name's extension names a different type than the content has (a PNG named
    /// `.pdf`, an executable named `.jpg`). Unknown extensions never count as a mismatch.
    pub extension_mismatch: bool,
    /// HTML or SVG markup appears in the sniffed bytes, whatever the type: a polyglot (an image
    /// that is also a web page) is recognised by this.
    pub contains_markup: bool,
}

impl Sniffed {
    /// Inline only for raster images free of markup; everything else downloads as an
    /// attachment (with `X-Content-Type-Options: nosniff`), so no upload can become a page.
    pub fn disposition(&self) -> Disposition {
        if self.kind == FileKind::Image && !self.contains_markup {
            Disposition::Inline
        } else {
            Disposition::Attachment
        }
    }
}

/// Classifies a file from its first bytes (up to [`SNIFF_LEN`] are read) and checks the declared
/// name's extension against the content.
pub fn sniff(first_bytes: &[u8], declared_name: &str) -> Sniffed {
    let head = &first_bytes[..first_bytes.len().min(SNIFF_LEN)];
    let contains_markup = contains_markup(head);
    let (mime, kind) = classify(head);
    let extension_mismatch = extension_of(declared_name)
        .and_then(|ext| expected_for_extension(&ext))
        .is_some_and(|expected| !expected.accepts(mime, kind));
    Sniffed {
        mime,
        kind,
        extension_mismatch,
        contains_markup,
    }
}

fn classify(head: &[u8]) -> (&'static str, FileKind) {
    if let Some(found) = infer::get(head)
        && found.matcher_type() != infer::MatcherType::Text
    {
        let mime = found.mime_type();
        let kind = match found.matcher_type() {
            infer::MatcherType::Image => FileKind::Image,
            infer::MatcherType::Archive if mime == "application/pdf" => FileKind::Pdf,
            // An OLE compound file is an old Office document or an installer, not an archive.
            infer::MatcherType::Archive if mime == OLE => FileKind::Other,
            infer::MatcherType::Archive => FileKind::Archive,
            _ => FileKind::Other,
        };
        return (mime, kind);
    }
    if let Some(mime) = markup_type(head) {
        return (mime, FileKind::Markup);
    }
    if let Some(mime) = text_type(head) {
        return (mime, FileKind::Text);
    }
    ("application/octet-stream", FileKind::Other)
}

/// Tags that make a browser treat bytes as a page or run script, looked for anywhere in the head
/// (ASCII case-insensitive).
const MARKUP_NEEDLES: &[&[u8]] = &[
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<body",
    b"<script",
    b"<svg",
    b"<iframe",
    b"<object",
    b"<embed",
    b"<img",
    b"<a href",
    b"<meta",
    b"<style",
    b"<?xml",
    b"javascript:",
];

fn contains_markup(head: &[u8]) -> bool {
    let lower = head.to_ascii_lowercase();
    MARKUP_NEEDLES
        .iter()
        .any(|needle| lower.windows(needle.len()).any(|window| window == *needle))
}

/// A document that starts (after a BOM and whitespace) as markup.
fn markup_type(head: &[u8]) -> Option<&'static str> {
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    let body = body[start..].to_ascii_lowercase();
    if !body.starts_with(b"<") {
        return None;
    }
    let has = |needle: &[u8]| body.windows(needle.len()).any(|window| window == needle);
    if has(b"<svg") {
        Some("image/svg+xml")
    } else if has(b"<html") || has(b"<!doctype html") || has(b"<script") || has(b"<body") {
        Some("text/html")
    } else if body.starts_with(b"<?xml") {
        Some("application/xml")
    } else {
        None
    }
}

/// Text in a charset we can index: UTF-8 (the head may end inside a character), UTF-16 with a
/// BOM, or GB18030 (a superset of GBK and GB2312).
fn text_type(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\xFF\xFE") {
        return Some("text/plain; charset=utf-16le");
    }
    if head.starts_with(b"\xFE\xFF") {
        return Some("text/plain; charset=utf-16be");
    }
    if head.iter().any(|&b| is_binary_control(b)) {
        return None;
    }
    if valid_utf8_prefix(head) {
        return Some("text/plain; charset=utf-8");
    }
    if crate::text::decode_gb18030_prefix(head).is_some() {
        return Some("text/plain; charset=gb18030");
    }
    None
}

/// Control bytes that plain text does not contain (tab, newlines, form feed and escape do occur).
fn is_binary_control(byte: u8) -> bool {
    matches!(byte, 0x00..=0x08 | 0x0E..=0x1A | 0x1C..=0x1F | 0x7F)
}

/// Valid UTF-8, allowing the sample to stop in the middle of a final character.
pub(crate) fn valid_utf8_prefix(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(err) => err.error_len().is_none() && bytes.len() - err.valid_up_to() < 4,
    }
}

fn extension_of(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = base.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() || ext.len() > 16 {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

/// What content an extension promises.
enum Expected {
    /// One of these content types.
    Mimes(&'static [&'static str]),
    /// Text or markup (source code, CSV, JSON, ...).
    TextLike,
}

impl Expected {
    fn accepts(&self, mime: &str, kind: FileKind) -> bool {
        match self {
            Expected::Mimes(mimes) => mimes.contains(&mime),
            Expected::TextLike => matches!(kind, FileKind::Text | FileKind::Markup),
        }
    }
}

const ZIP: &str = "application/zip";
const OLE: &str = "application/x-ole-storage";

fn expected_for_extension(ext: &str) -> Option<Expected> {
    use Expected::{Mimes, TextLike};
    Some(match ext {
        "png" => Mimes(&["image/png"]),
        "jpg" | "jpeg" | "jpe" | "jfif" => Mimes(&["image/jpeg"]),
        "gif" => Mimes(&["image/gif"]),
        "webp" => Mimes(&["image/webp"]),
        "bmp" => Mimes(&["image/bmp"]),
        "tif" | "tiff" => Mimes(&["image/tiff"]),
        "heic" | "heif" => Mimes(&["image/heif"]),
        "avif" => Mimes(&["image/avif"]),
        "ico" => Mimes(&["image/vnd.microsoft.icon"]),
        "svg" => Mimes(&["image/svg+xml"]),
        "htm" | "html" | "xhtml" => Mimes(&["text/html", "application/xml"]),
        "pdf" => Mimes(&["application/pdf"]),
        "zip" => Mimes(&[ZIP]),
        "gz" | "tgz" => Mimes(&["application/gzip"]),
        "7z" => Mimes(&["application/x-7z-compressed"]),
        "rar" => Mimes(&["application/vnd.rar"]),
        "tar" => Mimes(&["application/x-tar"]),
        "xz" => Mimes(&["application/x-xz"]),
        "bz2" => Mimes(&["application/x-bzip2"]),
        "zst" => Mimes(&["application/zstd"]),
        // Office Open XML is a zip; which of the three it is may need more than the head.
        "docx" | "xlsx" | "pptx" => Mimes(&[
            ZIP,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ]),
        "doc" | "xls" | "ppt" => Mimes(&[
            OLE,
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
        ]),
        "exe" | "dll" => Mimes(&["application/vnd.microsoft.portable-executable"]),
        "mp4" | "m4v" => Mimes(&["video/mp4"]),
        "mp3" => Mimes(&["audio/mpeg"]),
        "txt" | "md" | "markdown" | "csv" | "tsv" | "log" | "json" | "xml" | "yaml" | "yml"
        | "toml" | "ini" | "conf" | "rs" | "py" | "js" | "ts" | "go" | "java" | "c" | "h"
        | "cpp" | "sql" | "sh" => TextLike,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_cut_mid_character_is_still_text() {
        let text = "企业级即时通讯".as_bytes();
        assert!(valid_utf8_prefix(&text[..text.len() - 1]));
        assert_eq!(
            sniff(&text[..text.len() - 1], "a.txt").mime,
            "text/plain; charset=utf-8"
        );
    }

    #[test]
    fn binary_is_not_text() {
        let sniffed = sniff(&[0x00, 0x01, 0x02, 0xFF, 0x10], "blob");
        assert_eq!(sniffed.kind, FileKind::Other);
        assert_eq!(sniffed.mime, "application/octet-stream");
    }

    #[test]
    fn extensions_compare_case_insensitively_and_unknown_ones_never_mismatch() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert!(!sniff(png, "Photo.PNG").extension_mismatch);
        assert!(!sniff(png, "photo.unknownext").extension_mismatch);
        assert!(!sniff(png, "no_extension").extension_mismatch);
        assert!(sniff(png, "photo.jpg").extension_mismatch);
        assert!(sniff(b"plain words", "photo.jpg").extension_mismatch);
        assert!(!sniff(b"plain words", "notes.md").extension_mismatch);
    }
}
