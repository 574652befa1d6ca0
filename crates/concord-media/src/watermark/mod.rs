//! Dynamic watermarks: the viewer's name, id and the time, drawn at request time as visible,
//! semi-transparent text repeated diagonally across the whole image or every PDF page. The
//! original file is never changed; each call returns a new copy.
//!
//! ```no_run
//! use concord_media::{MediaLimits, WatermarkFont, WatermarkText, Watermarker};
//!
//! let font = WatermarkFont::discover(None)?; // e.g. WenQuanYi Micro Hei from fonts-wqy-microhei
//! let watermarker = Watermarker::new(font);
//! let text = WatermarkText::new(["张三 (zhangsan) · u_123", "2026-11-25 10:03 +08:00"]);
//! # let (jpeg, pdf) = (Vec::<u8>::new(), Vec::<u8>::new());
//! let marked = watermarker.watermark_image(&jpeg, &text, &MediaLimits::default())?;
//! let marked_pdf = watermarker.watermark_pdf(&pdf, &text, &MediaLimits::default())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod font;
mod pdf;
mod raster;

use ab_glyph::{Font, PxScale, ScaleFont, point};

pub use font::{FONT_CANDIDATES, WatermarkFont};

use crate::MediaError;

/// At most this many lines of watermark text.
pub const MAX_WATERMARK_LINES: usize = 4;
/// At most this many characters per line.
pub const MAX_WATERMARK_LINE_CHARS: usize = 120;

/// The text of a watermark, one entry per line (typically the viewer's name with id, and the
/// time with its offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatermarkText {
    pub lines: Vec<String>,
}

impl WatermarkText {
    pub fn new<I, S>(lines: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            lines: lines.into_iter().map(Into::into).collect(),
        }
    }

    /// The usual two lines: `张三 (zhangsan) · u_123` and the time as given (format it in the
    /// viewer's time zone with its offset, e.g. `2026-11-25 10:03 +08:00`).
    pub fn for_viewer(display_name: &str, username: &str, user_id: &str, time: &str) -> Self {
        Self::new([
            format!("{display_name} ({username}) · {user_id}"),
            time.to_string(),
        ])
    }

    /// The lines to draw: control characters removed, blank lines dropped, within the limits.
    fn checked_lines(&self) -> Result<Vec<String>, MediaError> {
        let lines: Vec<String> = self
            .lines
            .iter()
            .map(|line| {
                line.chars()
                    .filter(|c| !c.is_control())
                    .collect::<String>()
                    .trim()
                    .to_string()
            })
            .filter(|line| !line.is_empty())
            .collect();
        if lines.is_empty() {
            return Err(MediaError::InvalidWatermark("no text"));
        }
        if lines.len() > MAX_WATERMARK_LINES {
            return Err(MediaError::InvalidWatermark("too many lines"));
        }
        if lines
            .iter()
            .any(|line| line.chars().count() > MAX_WATERMARK_LINE_CHARS)
        {
            return Err(MediaError::InvalidWatermark("line too long"));
        }
        Ok(lines)
    }
}

/// How the watermark looks.
#[derive(Debug, Clone, PartialEq)]
pub struct WatermarkStyle {
    /// Text colour.
    pub rgb: [u8; 3],
    /// 0.0 (invisible) to 1.0 (opaque).
    pub opacity: f32,
    /// Angle of the text, counter-clockwise from horizontal.
    pub angle_degrees: f32,
    /// Text height as a fraction of the shorter side of the image or page.
    pub text_height_ratio: f32,
}

impl Default for WatermarkStyle {
    fn default() -> Self {
        Self {
            rgb: [128, 128, 128],
            opacity: 0.35,
            angle_degrees: 30.0,
            text_height_ratio: 0.035,
        }
    }
}

/// Draws watermarks with one font and style; cheap to clone and share between requests.
#[derive(Debug, Clone)]
pub struct Watermarker {
    font: WatermarkFont,
    style: WatermarkStyle,
}

impl Watermarker {
    pub fn new(font: WatermarkFont) -> Self {
        Self {
            font,
            style: WatermarkStyle::default(),
        }
    }

    pub fn with_style(mut self, style: WatermarkStyle) -> Self {
        self.style = style;
        self
    }

    pub fn font(&self) -> &WatermarkFont {
        &self.font
    }

    /// The watermark's opacity at each pixel of a `width` × `height` area (row-major, 0-255),
    /// text repeated diagonally over the whole area.
    fn coverage(&self, lines: &[String], width: u32, height: u32) -> Vec<u8> {
        let shorter = width.min(height) as f32;
        let text_px = (shorter * self.style.text_height_ratio).clamp(12.0, 320.0);
        let tile = TextTile::render(self.font.face(), lines, text_px);
        let opacity = self.style.opacity.clamp(0.0, 1.0);
        let (sin, cos) = self.style.angle_degrees.to_radians().sin_cos();
        // Gaps between repeats, so the image stays readable under the text.
        let period_u = tile.width as f32 + text_px * 3.0;
        let period_v = tile.height as f32 + text_px * 2.5;
        let mut out = vec![0u8; width as usize * height as usize];
        for y in 0..height {
            let py = y as f32 + 0.5;
            for x in 0..width {
                let px = x as f32 + 0.5;
                // Coordinates along the text direction (rising to the right) and across it.
                let u = px * cos - py * sin;
                let v = px * sin + py * cos;
                let row = (v / period_v).floor();
                // Every other row shifted by half a period: a brick pattern, no empty columns.
                let shift = if (row as i64).rem_euclid(2) == 1 {
                    period_u / 2.0
                } else {
                    0.0
                };
                let tu = (u + shift).rem_euclid(period_u);
                let tv = v.rem_euclid(period_v);
                let c = tile.sample(tu, tv);
                if c > 0.0 {
                    out[y as usize * width as usize + x as usize] =
                        (c * opacity * 255.0).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        out
    }
}

/// The text block rendered once, upright, as coverage values in 0.0-1.0.
struct TextTile {
    width: usize,
    height: usize,
    coverage: Vec<f32>,
}

impl TextTile {
    fn render(font: &ab_glyph::FontVec, lines: &[String], text_px: f32) -> Self {
        let scaled = font.as_scaled(PxScale::from(text_px));
        let line_height = scaled.height() + scaled.line_gap();
        let line_widths: Vec<f32> = lines
            .iter()
            .map(|line| {
                let mut previous = None;
                line.chars()
                    .map(|c| {
                        let id = scaled.glyph_id(c);
                        let kern = previous.map_or(0.0, |p| scaled.kern(p, id));
                        previous = Some(id);
                        kern + scaled.h_advance(id)
                    })
                    .sum()
            })
            .collect();
        let width = line_widths.iter().copied().fold(1.0f32, f32::max).ceil() as usize + 2;
        let height = (line_height * lines.len() as f32).ceil() as usize + 2;
        let mut coverage = vec![0.0f32; width * height];
        for (index, line) in lines.iter().enumerate() {
            let baseline = 1.0 + scaled.ascent() + line_height * index as f32;
            let mut caret = 1.0f32;
            let mut previous = None;
            for c in line.chars() {
                let id = scaled.glyph_id(c);
                if let Some(p) = previous {
                    caret += scaled.kern(p, id);
                }
                previous = Some(id);
                let glyph = id.with_scale_and_position(text_px, point(caret, baseline));
                caret += scaled.h_advance(id);
                let Some(outlined) = font.outline_glyph(glyph) else {
                    continue; // a space
                };
                let bounds = outlined.px_bounds();
                outlined.draw(|gx, gy, c| {
                    let x = bounds.min.x as i64 + i64::from(gx);
                    let y = bounds.min.y as i64 + i64::from(gy);
                    if (0..width as i64).contains(&x) && (0..height as i64).contains(&y) {
                        let cell = &mut coverage[y as usize * width + x as usize];
                        *cell = (*cell + c).min(1.0);
                    }
                });
            }
        }
        Self {
            width,
            height,
            coverage,
        }
    }

    /// Bilinear sample at a point of the tile; 0 outside it.
    fn sample(&self, u: f32, v: f32) -> f32 {
        let (x, y) = (u - 0.5, v - 0.5);
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let at = |xi: f32, yi: f32| -> f32 {
            if xi < 0.0 || yi < 0.0 || xi >= self.width as f32 || yi >= self.height as f32 {
                0.0
            } else {
                self.coverage[yi as usize * self.width + xi as usize]
            }
        };
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
        let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
        top * (1.0 - fy) + bottom * fy
    }
}
