//! Watermarking images: decode (bounded, upright), blend the tiled text, re-encode.

use image::DynamicImage;

use super::{WatermarkText, Watermarker};
use crate::images::{Encoded, decode_upright, encode_jpeg, encode_png};
use crate::{ImageFormat, MediaError, MediaLimits};

impl Watermarker {
    /// Returns a watermarked copy of the image: JPEG stays JPEG (quality 90), anything else
    /// becomes PNG (an animated GIF or WebP keeps its first frame). The copy carries no metadata,
    /// so no location either.
    pub fn watermark_image(
        &self,
        bytes: &[u8],
        text: &WatermarkText,
        limits: &MediaLimits,
    ) -> Result<Encoded, MediaError> {
        let lines = text.checked_lines()?;
        let format = ImageFormat::detect(bytes).ok_or(MediaError::UnsupportedFormat)?;
        let decoded = decode_upright(bytes, limits)?;
        let (width, height) = (decoded.width(), decoded.height());
        let coverage = self.coverage(&lines, width, height);
        let [r, g, b] = self.style.rgb.map(f32::from);
        let blend = |channel: u8, ink: f32, alpha: f32| -> u8 {
            (f32::from(channel) * (1.0 - alpha) + ink * alpha).round() as u8
        };
        if format == ImageFormat::Jpeg {
            let mut rgb = decoded.into_rgb8();
            for (pixel, &a) in rgb.pixels_mut().zip(&coverage) {
                if a > 0 {
                    let alpha = f32::from(a) / 255.0;
                    let [pr, pg, pb] = pixel.0;
                    pixel.0 = [
                        blend(pr, r, alpha),
                        blend(pg, g, alpha),
                        blend(pb, b, alpha),
                    ];
                }
            }
            encode_jpeg(&DynamicImage::ImageRgb8(rgb), 90)
        } else {
            let mut rgba = decoded.into_rgba8();
            for (pixel, &a) in rgba.pixels_mut().zip(&coverage) {
                if a > 0 {
                    let alpha = f32::from(a) / 255.0;
                    let [pr, pg, pb, pa] = pixel.0;
                    // Transparent areas get the text too: a cut-out must not hide the mark.
                    let out_alpha = f32::from(pa) / 255.0 + alpha * (1.0 - f32::from(pa) / 255.0);
                    pixel.0 = [
                        blend(pr, r, alpha),
                        blend(pg, g, alpha),
                        blend(pb, b, alpha),
                        (out_alpha * 255.0).round() as u8,
                    ];
                }
            }
            encode_png(&DynamicImage::ImageRgba8(rgba))
        }
    }
}
