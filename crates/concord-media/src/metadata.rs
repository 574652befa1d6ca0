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
    crate::guarded(|| strip(bytes, limits))
}

fn strip(bytes: &[u8], limits: &MediaLimits) -> Result<Vec<u8>, MediaError> {
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
                // APP13 holds Photoshop's IPTC records (city, location names); an MPF index
                // points at the secondary images cut off below.
                let mpf = segment.marker() == markers::APP2 && contents.starts_with(b"MPF\0");
                !xmp && !mpf && segment.marker() != markers::APP13
            });
            jpeg.set_exif(orientation);
            let mut encoded = jpeg.encoder().bytes().to_vec();
            // Whatever follows the first image's end marker goes: MPF secondary images (depth
            // maps, previews) carry their own EXIF with the position, and appended data can
            // make the file a polyglot.
            if let Some(end) = primary_jpeg_end(&encoded) {
                encoded.truncate(end);
            }
            Bytes::from(encoded)
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

/// Where the first image of a JPEG file ends (just past its EOI marker): the marker segments
/// are walked by their lengths and entropy-coded data is scanned for the next marker, so bytes
/// inside segments or scans are never mistaken for the end.
fn primary_jpeg_end(jpeg: &[u8]) -> Option<usize> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    let mut in_scan = false;
    while at + 1 < jpeg.len() {
        if jpeg[at] != 0xFF {
            // Only entropy-coded data may hold bytes between markers.
            if !in_scan {
                return None;
            }
            at += 1;
            continue;
        }
        let marker = jpeg[at + 1];
        match marker {
            // Byte stuffing and restart markers belong to the scan; 0xFF fill bytes pad.
            0x00 | 0xD0..=0xD7 if in_scan => at += 2,
            0xFF => at += 1,
            0xD9 => return Some(at + 2),
            0x01 | 0xD0..=0xD7 => at += 2,
            _ => {
                let length =
                    usize::from(u16::from_be_bytes([*jpeg.get(at + 2)?, *jpeg.get(at + 3)?]));
                at = at.checked_add(2 + length)?;
                in_scan = marker == 0xDA;
            }
        }
    }
    None
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
    fn primary_end_skips_marker_like_bytes_inside_segments_and_scans() {
        let mut jpeg = vec![0xFF, 0xD8];
        // A comment whose payload holds FF D9.
        jpeg.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x06, b'a', 0xFF, 0xD9, b'b']);
        // A scan with stuffed bytes and a restart marker, then a second scan (progressive).
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x03, 0x00]);
        jpeg.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        jpeg.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x04, 0xFF, 0xD9]);
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x03, 0x00, 0x78]);
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        let end = jpeg.len();
        jpeg.extend_from_slice(b"\xFF\xD8 trailing image");
        assert_eq!(primary_jpeg_end(&jpeg), Some(end));
        assert_eq!(primary_jpeg_end(&jpeg[..end - 1]), None);
        assert_eq!(primary_jpeg_end(b"not a jpeg"), None);
    }

    #[test]
    fn minimal_exif_reads_back_as_the_same_orientation() {
        for value in 2..=8u8 {
            let exif = minimal_exif(u16::from(value));
            let read = image::metadata::Orientation::from_exif_chunk(&exif).unwrap();
            assert_eq!(read.to_exif(), value);
        }
    }
}
