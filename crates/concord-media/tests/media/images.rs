//! Probes, thumbnails and renditions.

use concord_media::{ImageFormat, MediaLimits, probe, rendition, thumbnail};
use image::{DynamicImage, GenericImageView};

use crate::fixtures::{BLUE, RED, encode, jpeg_with_gps, red_left_blue_right};

fn close_to(pixel: [u8; 3], expected: [u8; 3]) -> bool {
    pixel.iter().zip(expected).all(|(a, b)| a.abs_diff(b) < 40)
}

#[test]
fn probe_reads_format_and_dimensions() {
    let limits = MediaLimits::default();
    let img = DynamicImage::ImageRgb8(red_left_blue_right(300, 200));
    for (format, expected) in [
        (image::ImageFormat::Png, ImageFormat::Png),
        (image::ImageFormat::Jpeg, ImageFormat::Jpeg),
        (image::ImageFormat::Gif, ImageFormat::Gif),
        (image::ImageFormat::WebP, ImageFormat::Webp),
    ] {
        let info = probe(&encode(&img, format), &limits).unwrap();
        assert_eq!((info.format, info.width, info.height), (expected, 300, 200));
    }
}

#[test]
fn thumbnail_fits_the_box_keeps_aspect_and_never_enlarges() {
    let limits = MediaLimits::default();
    let big = encode(
        &DynamicImage::ImageRgb8(red_left_blue_right(1200, 800)),
        image::ImageFormat::Png,
    );
    let thumb = thumbnail(&big, 256, &limits).unwrap();
    assert_eq!(thumb.width, 256);
    assert!((170..=171).contains(&thumb.height), "{}", thumb.height);
    assert_eq!(thumb.mime, "image/jpeg");
    let decoded = image::load_from_memory(&thumb.bytes).unwrap();
    assert_eq!(decoded.dimensions(), (thumb.width, thumb.height));

    let small = encode(
        &DynamicImage::ImageRgb8(red_left_blue_right(100, 50)),
        image::ImageFormat::Png,
    );
    let same = thumbnail(&small, 256, &limits).unwrap();
    assert_eq!((same.width, same.height), (100, 50));
}

#[test]
fn thumbnail_keeps_transparency_as_png() {
    let transparent = image::RgbaImage::from_pixel(400, 400, image::Rgba([0, 0, 0, 0]));
    let png = encode(
        &DynamicImage::ImageRgba8(transparent),
        image::ImageFormat::Png,
    );
    let thumb = thumbnail(&png, 64, &MediaLimits::default()).unwrap();
    assert_eq!(thumb.mime, "image/png");
    let decoded = image::load_from_memory(&thumb.bytes).unwrap().to_rgba8();
    assert_eq!(decoded.get_pixel(10, 10).0[3], 0);
}

#[test]
fn exif_orientation_is_applied_to_thumbnails_and_renditions() {
    // Stored wide (red left, blue right) with orientation 6 ("rotate 90° clockwise to view"):
    // seen upright it is tall, red on top.
    let jpeg = jpeg_with_gps(400, 200, 6);
    let limits = MediaLimits::default();
    let info = probe(&jpeg, &limits).unwrap();
    assert_eq!(
        (info.width, info.height),
        (400, 200),
        "probe reports stored size"
    );

    let thumb = thumbnail(&jpeg, 100, &limits).unwrap();
    assert_eq!((thumb.width, thumb.height), (50, 100));
    let upright = image::load_from_memory(&thumb.bytes).unwrap().to_rgb8();
    assert!(
        close_to(upright.get_pixel(25, 10).0, RED),
        "top should be red"
    );
    assert!(
        close_to(upright.get_pixel(25, 90).0, BLUE),
        "bottom should be blue"
    );

    let phone = rendition(&jpeg, 100, 80, &limits).unwrap();
    assert_eq!((phone.width, phone.height), (100, 200));
    let upright = image::load_from_memory(&phone.bytes).unwrap().to_rgb8();
    assert!(close_to(upright.get_pixel(50, 20).0, RED));
    assert!(close_to(upright.get_pixel(50, 180).0, BLUE));
}

#[test]
fn rendition_is_a_jpeg_at_the_target_width_and_quality_changes_size() {
    let limits = MediaLimits::default();
    // Noise compresses badly, so quality shows in the size.
    let noisy = image::RgbImage::from_fn(1600, 900, |x, y| {
        let v = (x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)) as u8;
        image::Rgb([v, v.wrapping_mul(3), v.wrapping_add(77)])
    });
    let png = encode(&DynamicImage::ImageRgb8(noisy), image::ImageFormat::Png);
    let low = rendition(&png, 800, 30, &limits).unwrap();
    let high = rendition(&png, 800, 90, &limits).unwrap();
    assert_eq!((low.width, low.height), (800, 450));
    assert_eq!(low.mime, "image/jpeg");
    assert_eq!(
        image::guess_format(&low.bytes).unwrap(),
        image::ImageFormat::Jpeg
    );
    assert!(low.bytes.len() < high.bytes.len());
    // Not enlarged.
    let narrow = rendition(&png, 4000, 80, &limits).unwrap();
    assert_eq!((narrow.width, narrow.height), (1600, 900));
}

#[test]
fn transparent_pixels_become_white_in_renditions() {
    let transparent = image::RgbaImage::from_pixel(64, 64, image::Rgba([0, 0, 0, 0]));
    let png = encode(
        &DynamicImage::ImageRgba8(transparent),
        image::ImageFormat::Png,
    );
    let phone = rendition(&png, 64, 90, &MediaLimits::default()).unwrap();
    let decoded = image::load_from_memory(&phone.bytes).unwrap().to_rgb8();
    assert!(close_to(decoded.get_pixel(32, 32).0, [255, 255, 255]));
}
