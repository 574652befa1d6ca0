//! The crate's error types: `MediaError` for processing a file, `FontError` for loading the
//! watermark font at start-up. Each case is named so the caller can map it to a status (a
//! hostile or unsupported upload is the uploader's 4xx, not a 500).

use std::path::PathBuf;

/// Why a file could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The input is larger than [`MediaLimits::max_input_bytes`](crate::MediaLimits).
    #[error("the file is {actual} bytes; at most {limit} can be processed")]
    InputTooLarge { actual: usize, limit: usize },
    /// The content is not a format this operation handles.
    #[error("unsupported format for this operation")]
    UnsupportedFormat,
    /// The image header declares dimensions over the limits (a pixel flood or
    /// decompression bomb); refused before any pixel was decoded.
    #[error("image of {width}x{height} pixels is over the limits")]
    DimensionsTooLarge { width: u32, height: u32 },
    /// Decoding would allocate more than [`MediaLimits::max_decode_bytes`](crate::MediaLimits)
    /// (the `image` crate's own guard tripped).
    #[error("decoding the image would need more memory than allowed")]
    OverDecodeLimit,
    /// The content claims a format but does not parse as it.
    #[error("the file is damaged or malformed: {0}")]
    Malformed(String),
    /// A PDF over a structural limit (pages, objects, decompressed stream size).
    #[error("the PDF has too many {what} (limit {limit})")]
    PdfTooComplex { what: &'static str, limit: usize },
    /// An encrypted PDF: it cannot be watermarked without its password.
    #[error("the PDF is encrypted")]
    PdfEncrypted,
    /// The watermark text is empty or over its limits.
    #[error("invalid watermark text: {0}")]
    InvalidWatermark(&'static str),
    /// Encoding the result failed (should not happen for images that decoded).
    #[error("could not encode the result: {0}")]
    Encode(String),
}

/// Why no usable watermark font was loaded. Meant to become a start-up warning: without a font
/// the server cannot watermark, so it must refuse to serve sensitive files rather than serve
/// them unmarked.
#[derive(Debug, thiserror::Error)]
pub enum FontError {
    /// None of the searched paths holds a font file.
    #[error(
        "no CJK font found (searched {searched:?}); install fonts-wqy-microhei or fonts-noto-cjk, or configure a font path"
    )]
    NotFound { searched: Vec<PathBuf> },
    /// The file could not be read.
    #[error("cannot read font {path:?}: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than a font should be.
    #[error("font file {path:?} is larger than {limit} bytes")]
    TooLarge { path: PathBuf, limit: u64 },
    /// The file is not a font (or the collection has no face at that index).
    #[error("{path:?} is not a usable font (face index {index})")]
    Invalid { path: PathBuf, index: u32 },
    /// The font has no Chinese glyphs, so names such as 张三 would render as boxes.
    #[error("font {path:?} has no CJK glyphs; Chinese names would not render")]
    NoCjkGlyphs { path: PathBuf },
}
