//! Concord's file processing: the pure, bounded work behind uploads and downloads.
//!
//! - [`sniff`]: what a file is from its content, whether its name's extension contradicts that,
//!   and whether it may be shown inline ([`Disposition`]); [`sanitize_file_name`] for download
//!   names.
//! - Images: [`probe`] (header only; pixel floods refused before decoding), [`thumbnail`],
//!   [`rendition`] (JPEG at a target width for phones), [`strip_location`] (EXIF GPS, XMP and
//!   IPTC removed without re-encoding).
//! - [`Watermarker`]: the viewer's name, id and the time tiled over an image or every page of a
//!   PDF, drawn at request time with a CJK font ([`WatermarkFont::discover`]).
//! - [`extract_text`]: text of plain-text files (UTF-8, UTF-16, GB18030/GBK), markup and PDFs,
//!   for search.
//!
//! Nothing here does I/O except [`WatermarkFont`] reading a font file. Every entry point takes
//! [`MediaLimits`] and stays within them for hostile input: sizes are checked before work,
//! decoders are bounded, parsers and decoders run under `catch_unwind`. The work is CPU-bound and
//! synchronous; async callers run it on a blocking pool (`tokio::task::spawn_blocking`) with a
//! semaphore sized to the cores.
//!
//! Typical use by the files API:
//! - on upload: [`sniff`] the first [`SNIFF_LEN`] bytes (store and serve its `mime`, never the
//!   client's; warn or refuse on `extension_mismatch`), keep [`sanitize_file_name`] of the name;
//!   for images, [`probe`] then [`thumbnail`] and [`rendition`]; for search, [`extract_text`];
//! - on download by someone other than the uploader: [`strip_location`] unless the org allows
//!   location; serve with [`Sniffed::disposition`];
//! - for a sensitive file's preview or download: [`Watermarker::watermark_image`] or
//!   [`Watermarker::watermark_pdf`] with the viewer's [`WatermarkText::for_viewer`]; the stored
//!   original stays as it is.
//!
//! ```
//! use concord_media::{sniff, sanitize_file_name, Disposition, FileKind};
//!
//! let head = b"%PDF-1.7\n";
//! let sniffed = sniff(head, "../../季度报告.pdf");
//! assert_eq!((sniffed.kind, sniffed.mime), (FileKind::Pdf, "application/pdf"));
//! assert!(!sniffed.extension_mismatch);
//! assert_eq!(sniffed.disposition(), Disposition::Attachment);
//! assert_eq!(sanitize_file_name("../../季度报告.pdf"), "季度报告.pdf");
//! ```

mod error;
mod images;
mod limits;
mod metadata;
mod name;
mod sniff;
mod text;
mod watermark;

pub use error::{FontError, MediaError};

/// Runs a parser or decoder so that a panic inside a dependency on hostile input becomes
/// [`MediaError::Malformed`] instead of unwinding into the caller.
pub(crate) fn guarded<T>(work: impl FnOnce() -> Result<T, MediaError>) -> Result<T, MediaError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or_else(|_| Err(MediaError::Malformed("the file could not be parsed".into())))
}
pub use images::{Encoded, ImageFormat, ImageInfo, decode_upright, probe, rendition, thumbnail};
pub use limits::MediaLimits;
pub use metadata::strip_location;
pub use name::{MAX_FILE_NAME_BYTES, sanitize_file_name};
pub use sniff::{Disposition, FileKind, SNIFF_LEN, Sniffed, sniff};
pub use text::extract_text;
pub use watermark::{
    FONT_CANDIDATES, MAX_WATERMARK_LINE_CHARS, MAX_WATERMARK_LINES, WatermarkFont, WatermarkStyle,
    WatermarkText, Watermarker,
};
