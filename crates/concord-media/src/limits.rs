//! Bounds on the work one file may cause. Every entry point takes these, so a hostile upload
//! costs at most this much memory and time; the server fills them from its config.

/// Limits for processing one file. `Default` suits a server that accepts phone photos and
/// office PDFs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaLimits {
    /// Largest input, in bytes, that any operation reads whole.
    pub max_input_bytes: usize,
    /// Largest width or height, in pixels, an image may declare.
    pub max_image_side: u32,
    /// Largest width × height an image may declare (a 100,000 × 100,000 PNG is a few KB on disk
    /// and 40 GB decoded).
    pub max_image_pixels: u64,
    /// Largest allocation the decoder may make (the `image` crate's own guard, behind ours).
    pub max_decode_bytes: u64,
    /// PDFs with more pages are refused.
    pub max_pdf_pages: usize,
    /// PDFs with more objects are refused.
    pub max_pdf_objects: usize,
    /// Largest size one PDF stream may decompress to (object streams, page contents, CMaps).
    pub max_pdf_stream_bytes: usize,
    /// Text extraction from a PDF stops after the page during which this much time has passed
    /// (what was read so far is kept): a file of many pages, each within the stream limit, may
    /// still take long to inflate in total.
    pub max_pdf_text_time: std::time::Duration,
}

impl Default for MediaLimits {
    fn default() -> Self {
        Self {
            max_input_bytes: 100 * 1024 * 1024,
            max_image_side: 20_000,
            max_image_pixels: 50_000_000,
            max_decode_bytes: 320 * 1024 * 1024,
            max_pdf_pages: 2_000,
            max_pdf_objects: 500_000,
            max_pdf_stream_bytes: 64 * 1024 * 1024,
            max_pdf_text_time: std::time::Duration::from_secs(10),
        }
    }
}

impl MediaLimits {
    pub(crate) fn check_input(&self, bytes: &[u8]) -> Result<(), crate::MediaError> {
        if bytes.len() > self.max_input_bytes {
            return Err(crate::MediaError::InputTooLarge {
                actual: bytes.len(),
                limit: self.max_input_bytes,
            });
        }
        Ok(())
    }
}
