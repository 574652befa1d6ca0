//! Location stripping without re-encoding.

use concord_media::{MediaError, MediaLimits, strip_location};
use image::DynamicImage;
use img_parts::{Bytes, ImageEXIF};

use crate::fixtures::{
    LATITUDE_RATIONALS, XMP_PACKET, contains, encode, exif_with_gps, jpeg_with_gps,
    red_left_blue_right,
};

#[test]
fn jpeg_loses_gps_and_xmp_but_keeps_orientation_and_pixels() {
    let original = jpeg_with_gps(64, 32, 6);
    assert!(contains(&original, &LATITUDE_RATIONALS));
    assert!(contains(&original, b"GPSLatitude"));

    let cleaned = strip_location(&original, &MediaLimits::default()).unwrap();
    assert!(!contains(&cleaned, &LATITUDE_RATIONALS));
    assert!(!contains(&cleaned, b"GPSLatitude"));

    let jpeg = img_parts::jpeg::Jpeg::from_bytes(Bytes::from(cleaned.clone())).unwrap();
    let exif = jpeg
        .exif()
        .expect("the orientation is kept in a minimal EXIF block");
    assert!(!contains(&exif, &[0x88, 0x25]), "no GPS IFD pointer");
    assert_eq!(
        image::metadata::Orientation::from_exif_chunk(&exif).map(|o| o.to_exif()),
        Some(6)
    );
    // Same entropy-coded data: identical pixels, no re-encoding loss.
    let before = image::load_from_memory(&original).unwrap().to_rgb8();
    let after = image::load_from_memory(&cleaned).unwrap().to_rgb8();
    assert_eq!(before.dimensions(), after.dimensions());
    assert_eq!(before.as_raw(), after.as_raw());
}

#[test]
fn jpeg_secondary_images_and_trailing_data_are_cut() {
    // A primary image followed by a second JPEG with its own GPS block, as multi-picture
    // (MPF) photos carry depth maps and previews.
    let primary = crate::fixtures::white_jpeg(32, 32);
    let mut file = primary.clone();
    file.extend_from_slice(&jpeg_with_gps(16, 16, 1));
    assert!(contains(&file, &LATITUDE_RATIONALS));

    let cleaned = strip_location(&file, &MediaLimits::default()).unwrap();
    assert!(!contains(&cleaned, &LATITUDE_RATIONALS));
    assert_eq!(cleaned, primary, "the primary image is kept byte for byte");
}

#[test]
fn jpeg_without_rotation_loses_exif_entirely() {
    let original = jpeg_with_gps(32, 32, 1);
    let cleaned = strip_location(&original, &MediaLimits::default()).unwrap();
    let jpeg = img_parts::jpeg::Jpeg::from_bytes(Bytes::from(cleaned)).unwrap();
    assert!(jpeg.exif().is_none());
}

#[test]
fn png_loses_exif_and_text_chunks_but_keeps_pixels() {
    let plain = encode(
        &DynamicImage::ImageRgb8(red_left_blue_right(40, 20)),
        image::ImageFormat::Png,
    );
    let mut png = img_parts::png::Png::from_bytes(Bytes::from(plain)).unwrap();
    png.set_exif(Some(Bytes::from(exif_with_gps(1))));
    let mut itxt = b"XML:com.adobe.xmp\0\0\0\0\0".to_vec();
    itxt.extend_from_slice(XMP_PACKET);
    png.chunks_mut().insert(
        1,
        img_parts::png::PngChunk::new(*b"iTXt", Bytes::from(itxt)),
    );
    let original = png.encoder().bytes().to_vec();
    assert!(contains(&original, &LATITUDE_RATIONALS));

    let cleaned = strip_location(&original, &MediaLimits::default()).unwrap();
    assert!(!contains(&cleaned, &LATITUDE_RATIONALS));
    assert!(!contains(&cleaned, b"GPSLatitude"));
    let before = image::load_from_memory(&original).unwrap().to_rgb8();
    let after = image::load_from_memory(&cleaned).unwrap().to_rgb8();
    assert_eq!(before.as_raw(), after.as_raw());
}

#[test]
fn webp_loses_exif_but_still_decodes() {
    let plain = encode(
        &DynamicImage::ImageRgb8(red_left_blue_right(40, 20)),
        image::ImageFormat::WebP,
    );
    let mut webp = img_parts::webp::WebP::from_bytes(Bytes::from(plain)).unwrap();
    webp.set_exif(Some(Bytes::from(exif_with_gps(1))));
    let original = webp.encoder().bytes().to_vec();
    assert!(contains(&original, &LATITUDE_RATIONALS));

    let cleaned = strip_location(&original, &MediaLimits::default()).unwrap();
    assert!(!contains(&cleaned, &LATITUDE_RATIONALS));
    let before = image::load_from_memory(&original).unwrap().to_rgb8();
    let after = image::load_from_memory(&cleaned).unwrap().to_rgb8();
    assert_eq!(before.as_raw(), after.as_raw());
}

#[test]
fn non_images_and_damaged_images_are_refused_not_panicked_on() {
    let limits = MediaLimits::default();
    assert!(matches!(
        strip_location(b"%PDF-1.7", &limits),
        Err(MediaError::UnsupportedFormat)
    ));
    let truncated = &jpeg_with_gps(32, 32, 1)[..40];
    assert!(strip_location(truncated, &limits).is_err());
}
