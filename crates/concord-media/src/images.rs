//! Images: header probes, bounded decoding, thumbnails and phone renditions.
//!
//! Every decode first reads the header and refuses dimensions over [`MediaLimits`] before a
//! pixel is decoded (a pixel flood: a tiny PNG declaring 100,000 × 100,000 pixels); the `image`
//! crate's own limits stand behind that as a second guard. EXIF orientation is applied, so a
//! portrait phone photo comes out upright, and the outputs carry no metadata at all.
//!
//! ```
//! use concord_media::{probe, thumbnail, MediaLimits, ImageFormat};
//! # let mut png = Vec::new();
//! # image::RgbImage::new(640, 480).write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
//! let limits = MediaLimits::default();
//! let info = probe(&png, &limits)?;
//! assert_eq!((info.format, info.width, info.height), (ImageFormat::Png, 640, 480));
//! let thumb = thumbnail(&png, 128, &limits)?;
//! assert_eq!((thumb.width, thumb.height), (128, 96));
//! # Ok::<(), concord_media::MediaError>(())
//! ```

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, imageops::FilterType};

use crate::{MediaError, MediaLimits};

/// The image formats this crate decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl ImageFormat {
    fn from_image(format: image::ImageFormat) -> Option<Self> {
        match format {
            image::ImageFormat::Png => Some(Self::Png),
            image::ImageFormat::Jpeg => Some(Self::Jpeg),
            image::ImageFormat::Gif => Some(Self::Gif),
            image::ImageFormat::WebP => Some(Self::Webp),
            _ => None,
        }
    }

    fn to_image(self) -> image::ImageFormat {
        match self {
            Self::Png => image::ImageFormat::Png,
            Self::Jpeg => image::ImageFormat::Jpeg,
            Self::Gif => image::ImageFormat::Gif,
            Self::Webp => image::ImageFormat::WebP,
        }
    }

    /// The format of these bytes, from their signature.
    pub fn detect(bytes: &[u8]) -> Option<Self> {
        image::guess_format(bytes).ok().and_then(Self::from_image)
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }
}

/// What [`probe`] read from an image header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: ImageFormat,
    /// Width and height as stored (before any EXIF rotation).
    pub width: u32,
    pub height: u32,
}

/// An encoded output image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Reads the format and dimensions from the header only, and refuses dimensions over the limits.
pub fn probe(bytes: &[u8], limits: &MediaLimits) -> Result<ImageInfo, MediaError> {
    crate::guarded(|| probe_header(bytes, limits))
}

fn probe_header(bytes: &[u8], limits: &MediaLimits) -> Result<ImageInfo, MediaError> {
    limits.check_input(bytes)?;
    let format = ImageFormat::detect(bytes).ok_or(MediaError::UnsupportedFormat)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.to_image());
    // Reading a header allocates next to nothing; dimensions are judged below, by us, so the
    // caller learns what they were.
    reader.limits(decoder_limits(limits, false));
    let decoder = reader.into_decoder().map_err(map_image_error)?;
    let (width, height) = decoder.dimensions();
    let info = ImageInfo {
        format,
        width,
        height,
    };
    check_dimensions(&info, limits)?;
    Ok(info)
}

fn check_dimensions(info: &ImageInfo, limits: &MediaLimits) -> Result<(), MediaError> {
    if info.width == 0 || info.height == 0 {
        return Err(MediaError::Malformed("the image has no pixels".into()));
    }
    let pixels = u64::from(info.width) * u64::from(info.height);
    if info.width > limits.max_image_side
        || info.height > limits.max_image_side
        || pixels > limits.max_image_pixels
    {
        return Err(MediaError::DimensionsTooLarge {
            width: info.width,
            height: info.height,
        });
    }
    Ok(())
}

fn decoder_limits(limits: &MediaLimits, with_dimensions: bool) -> Limits {
    let mut decoder_limits = Limits::default();
    decoder_limits.max_alloc = Some(limits.max_decode_bytes);
    if with_dimensions {
        decoder_limits.max_image_width = Some(limits.max_image_side);
        decoder_limits.max_image_height = Some(limits.max_image_side);
    }
    decoder_limits
}

fn map_image_error(err: image::ImageError) -> MediaError {
    match err {
        image::ImageError::Limits(_) => MediaError::OverDecodeLimit,
        image::ImageError::Unsupported(_) => MediaError::UnsupportedFormat,
        other => MediaError::Malformed(other.to_string()),
    }
}

/// Decodes an image within the limits and turns it upright (EXIF orientation applied). For an
/// animated GIF or WebP, the first frame.
pub fn decode_upright(bytes: &[u8], limits: &MediaLimits) -> Result<DynamicImage, MediaError> {
    crate::guarded(|| decode_within_limits(bytes, limits))
}

fn decode_within_limits(bytes: &[u8], limits: &MediaLimits) -> Result<DynamicImage, MediaError> {
    let info = probe_header(bytes, limits)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), info.format.to_image());
    reader.limits(decoder_limits(limits, true));
    let mut decoder = reader.into_decoder().map_err(map_image_error)?;
    if decoder.total_bytes() > limits.max_decode_bytes {
        return Err(MediaError::OverDecodeLimit);
    }
    // A damaged orientation tag is no reason to refuse the picture.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut decoded = DynamicImage::from_decoder(decoder).map_err(map_image_error)?;
    decoded.apply_orientation(orientation);
    Ok(decoded)
}

/// A small preview that fits in `max_side` × `max_side` (never enlarged): PNG when the image has
/// transparency, JPEG otherwise.
pub fn thumbnail(bytes: &[u8], max_side: u32, limits: &MediaLimits) -> Result<Encoded, MediaError> {
    let max_side = max_side.clamp(1, 4096);
    let decoded = decode_upright(bytes, limits)?;
    let small = if decoded.width() > max_side || decoded.height() > max_side {
        decoded.thumbnail(max_side, max_side)
    } else {
        decoded
    };
    if small.color().has_alpha() {
        encode_png(&small)
    } else {
        encode_jpeg(&small, 80)
    }
}

/// A compressed copy for phones: at most `target_width` wide (never enlarged), JPEG at
/// `quality` (1-100; transparency is flattened onto white). `image` encodes only lossless WebP,
/// which is larger than a JPEG for photos, so renditions are JPEG.
pub fn rendition(
    bytes: &[u8],
    target_width: u32,
    quality: u8,
    limits: &MediaLimits,
) -> Result<Encoded, MediaError> {
    let target_width = target_width.clamp(16, 8192);
    let decoded = decode_upright(bytes, limits)?;
    let resized = if decoded.width() > target_width {
        let height = (u64::from(decoded.height()) * u64::from(target_width))
            .div_ceil(u64::from(decoded.width()))
            .max(1);
        decoded.resize_exact(
            target_width,
            u32::try_from(height).unwrap_or(u32::MAX),
            FilterType::Triangle,
        )
    } else {
        decoded
    };
    encode_jpeg(&resized, quality.clamp(1, 100))
}

pub(crate) fn encode_png(img: &DynamicImage) -> Result<Encoded, MediaError> {
    let mut bytes = Vec::new();
    let rgba = img.to_rgba8();
    rgba.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|err| MediaError::Encode(err.to_string()))?;
    Ok(Encoded {
        bytes,
        mime: "image/png",
        width: img.width(),
        height: img.height(),
    })
}

pub(crate) fn encode_jpeg(img: &DynamicImage, quality: u8) -> Result<Encoded, MediaError> {
    let rgb = flatten_on_white(img);
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality);
    rgb.write_with_encoder(encoder)
        .map_err(|err| MediaError::Encode(err.to_string()))?;
    Ok(Encoded {
        bytes,
        mime: "image/jpeg",
        width: img.width(),
        height: img.height(),
    })
}

/// JPEG has no alpha: transparent pixels become white rather than black.
fn flatten_on_white(img: &DynamicImage) -> image::RgbImage {
    if !img.color().has_alpha() {
        return img.to_rgb8();
    }
    let rgba = img.to_rgba8();
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let alpha = u32::from(a);
        let over_white = |c: u8| ((u32::from(c) * alpha + 255 * (255 - alpha)) / 255) as u8;
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}
