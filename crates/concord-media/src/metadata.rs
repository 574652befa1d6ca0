//! Location stripping without re-encoding: what other users download carries no GPS position.
//!
//! The whole EXIF block goes (GPS, but also camera serial numbers and the embedded preview, which
//! keeps its own copy of the scene), and so do XMP packets (which can repeat the GPS position),
//! IPTC records (city, sublocation) and PNG text chunks. Only the orientation survives, rewritten
//! as a minimal EXIF block, so portrait photos still display upright. The pixels are the
//! original bytes: no quality is lost.
//!
//! ```
//! use concord_media::strip_location;
//! # let mut jpeg = Vec::new();
//! # image::RgbImage::new(8, 8).write_to(&mut std::io::Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).unwrap();
//! let cleaned = strip_location(&jpeg, &concord_media::MediaLimits::default())?;
//! assert!(image::load_from_memory(&cleaned).is_ok());
//! # Ok::<(), concord_media::MediaError>(())
//! ```

use img_parts::{Bytes, ImageEXIF, jpeg::Jpeg, jpeg::markers, png::Png, webp::WebP};

use crate::{ImageFormat, MediaError, MediaLimits};

const XMP_PREFIX: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXTENSION_PREFIX: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";

/// Returns the image without location metadata (see the module docs). GIF carries no EXIF and is
/// returned unchanged; other formats are refused.
pub fn strip_location(bytes: &[u8], limits: &MediaLimits) -> Result<Vec<u8>, MediaError> {
    limits.check_input(bytes)?;
    let format = ImageFormat::detect(bytes).ok_or(MediaError::UnsupportedFormat)?;
    let data = Bytes::copy_from_slice(bytes);
    let malformed = |err: img_parts::Error| MediaError::Malformed(err.to_string());
    let cleaned = match format {
        ImageFormat::Jpeg => {
            let mut jpeg = Jpeg::from_bytes(data).map_err(malformed)?;
            let orientation = kept_orientation(jpeg.exif());
            jpeg.segments_mut().retain(|segment| {
                let contents = segment.contents();
                let xmp = segment.marker() == markers::APP1
                    && (contents.starts_with(XMP_PREFIX)
                        || contents.starts_with(XMP_EXTENSION_PREFIX));
                // APP13 holds Photoshop's IPTC records (city, location names).
                !xmp && segment.marker() != markers::APP13
            });
            jpeg.set_exif(orientation);
            jpeg.encoder().bytes()
        }
        ImageFormat::Png => {
            let mut png = Png::from_bytes(data).map_err(malformed)?;
            let orientation = kept_orientation(png.exif());
            // Text chunks carry XMP ("XML:com.adobe.xmp") and raw EXIF profiles among comments.
            png.chunks_mut()
                .retain(|chunk| !matches!(&chunk.kind(), b"tEXt" | b"zTXt" | b"iTXt"));
            png.set_exif(orientation);
            png.encoder().bytes()
        }
        ImageFormat::Webp => {
            let mut webp = WebP::from_bytes(data).map_err(malformed)?;
            let orientation = kept_orientation(webp.exif());
            webp.remove_chunks_by_id(*b"XMP ");
            // Setting EXIF also rewrites the VP8X flags to match the chunks left.
            webp.set_exif(orientation);
            webp.encoder().bytes()
        }
        ImageFormat::Gif => data,
    };
    Ok(cleaned.to_vec())
}

/// A minimal EXIF block holding only the orientation, when the original had one that is not
/// the identity.
fn kept_orientation(exif: Option<Bytes>) -> Option<Bytes> {
    let orientation = image::metadata::Orientation::from_exif_chunk(&exif?)?;
    let value = orientation.to_exif();
    if value == 1 {
        return None;
    }
    Some(Bytes::from(minimal_exif(u16::from(value))))
}

/// A big-endian TIFF header with one IFD holding one entry: Orientation (0x0112), SHORT.
fn minimal_exif(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0\x2A");
    tiff.extend_from_slice(&8u32.to_be_bytes()); // offset of IFD0
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    tiff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_exif_reads_back_as_the_same_orientation() {
        for value in 2..=8u8 {
            let exif = minimal_exif(u16::from(value));
            let read = image::metadata::Orientation::from_exif_chunk(&exif).unwrap();
            assert_eq!(read.to_exif(), value);
        }
    }
}
