//! Watermarking PDFs: the tiled text is rendered once per page size as an image with a soft mask
//! (its transparency) and drawn over each page's content. Embedding a CJK font in the PDF is not
//! needed that way, and the page's own content stays as it was.

use std::io::Write;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, dictionary};

use super::{WatermarkText, Watermarker};
use crate::text::load_pdf;
use crate::{MediaError, MediaLimits};

/// Watermark images rendered per document at most; pages of further sizes reuse the first one,
/// stretched (it still covers the whole page).
const MAX_DISTINCT_PAGE_SIZES: usize = 8;
/// Pixels per PDF point in the watermark image, and the cap on its longer side.
const PIXELS_PER_POINT: f32 = 2.0;
const MAX_WATERMARK_SIDE: f32 = 2400.0;
/// How far up the page tree inherited attributes are looked for.
const MAX_TREE_DEPTH: usize = 64;
/// The page size assumed when a page has no usable box (US Letter).
const DEFAULT_BOX: [f32; 4] = [0.0, 0.0, 612.0, 792.0];

impl Watermarker {
    /// Returns a copy of the PDF with the watermark drawn over every page. Encrypted PDFs and
    /// PDFs over the limits are refused; a malformed one is [`MediaError::Malformed`] (the parser
    /// runs under `catch_unwind`).
    pub fn watermark_pdf(
        &self,
        bytes: &[u8],
        text: &WatermarkText,
        limits: &MediaLimits,
    ) -> Result<Vec<u8>, MediaError> {
        limits.check_input(bytes)?;
        let lines = text.checked_lines()?;
        crate::guarded(|| self.mark_pdf(bytes, &lines, limits))
    }

    fn mark_pdf(
        &self,
        bytes: &[u8],
        lines: &[String],
        limits: &MediaLimits,
    ) -> Result<Vec<u8>, MediaError> {
        let mut document = load_pdf(bytes, limits)?;
        let pages: Vec<ObjectId> = document.page_iter().collect();
        if pages.is_empty() {
            return Err(MediaError::Malformed("the PDF has no pages".into()));
        }
        // Page content is wrapped in q ... Q so whatever state it leaves cannot move the mark.
        let save_state = add(
            &mut document,
            Stream::new(Dictionary::new(), b"q\n".to_vec()),
        )?;
        let mut images: Vec<((i64, i64), ObjectId)> = Vec::new();
        for page_id in pages {
            let [llx, lly, urx, ury] = page_box(&document, page_id);
            let (width, height) = (urx - llx, ury - lly);
            let size_key = (width.round() as i64, height.round() as i64);
            let index = match images.iter().position(|(key, _)| *key == size_key) {
                Some(index) => index,
                None if images.len() < MAX_DISTINCT_PAGE_SIZES => {
                    let image_id = self.add_watermark_image(&mut document, lines, width, height)?;
                    images.push((size_key, image_id));
                    images.len() - 1
                }
                None => 0,
            };
            let name = format!("ConcordWatermark{index}");
            let draw = format!("Q q {width} 0 0 {height} {llx} {lly} cm /{name} Do Q\n");
            let draw_id = add(
                &mut document,
                Stream::new(Dictionary::new(), draw.into_bytes()),
            )?;
            let resources = resources_with_xobject(&document, page_id, &name, images[index].1);
            let contents = wrapped_contents(&document, page_id, save_state, draw_id);
            let page = document
                .get_dictionary_mut(page_id)
                .map_err(|err| MediaError::Malformed(err.to_string()))?;
            page.set("Resources", Object::Dictionary(resources));
            page.set("Contents", Object::Array(contents));
        }
        let mut out = Vec::with_capacity(bytes.len() + 64 * 1024);
        document
            .save_to(&mut out)
            .map_err(|err| MediaError::Encode(err.to_string()))?;
        Ok(out)
    }

    /// Adds the watermark for a page of `width` × `height` points: a DeviceRGB image of the
    /// ink colour whose soft mask is the tiled text's coverage.
    fn add_watermark_image(
        &self,
        document: &mut Document,
        lines: &[String],
        width: f32,
        height: f32,
    ) -> Result<ObjectId, MediaError> {
        let scale = PIXELS_PER_POINT.min(MAX_WATERMARK_SIDE / width.max(height));
        let pixels_wide = ((width * scale).round() as u32).max(1);
        let pixels_high = ((height * scale).round() as u32).max(1);
        let coverage = self.coverage(lines, pixels_wide, pixels_high);
        let colour: Vec<u8> = std::iter::repeat_n(self.style.rgb, coverage.len())
            .flatten()
            .collect();
        let image_dict = |colour_space: &str| {
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => i64::from(pixels_wide),
                "Height" => i64::from(pixels_high),
                "ColorSpace" => colour_space,
                "BitsPerComponent" => 8,
                "Filter" => "FlateDecode",
            }
        };
        let mask =
            Stream::new(image_dict("DeviceGray"), deflate(&coverage)?).with_compression(false);
        let mask_id = add(document, mask)?;
        let mut ink = image_dict("DeviceRGB");
        ink.set("SMask", Object::Reference(mask_id));
        add(
            document,
            Stream::new(ink, deflate(&colour)?).with_compression(false),
        )
    }
}

fn add(document: &mut Document, stream: Stream) -> Result<ObjectId, MediaError> {
    document
        .try_add_object(Object::Stream(stream))
        .map_err(|err| MediaError::Encode(err.to_string()))
}

fn deflate(data: &[u8]) -> Result<Vec<u8>, MediaError> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .map_err(|err| MediaError::Encode(err.to_string()))
}

/// The page and its ancestors in the page tree, nearest first (attributes such as the boxes and
/// resources are inherited).
fn page_chain(document: &Document, page_id: ObjectId) -> Vec<&Dictionary> {
    let mut chain = Vec::new();
    let mut next = Some(page_id);
    while let Some(id) = next {
        if chain.len() >= MAX_TREE_DEPTH {
            break;
        }
        let Ok(node) = document.get_dictionary(id) else {
            break;
        };
        chain.push(node);
        next = node.get(b"Parent").and_then(Object::as_reference).ok();
    }
    chain
}

fn resolve<'a>(document: &'a Document, object: &'a Object) -> Option<&'a Object> {
    match object {
        Object::Reference(id) => document.get_object(*id).ok(),
        other => Some(other),
    }
}

/// The visible area: the crop box if set, else the media box, else US Letter.
fn page_box(document: &Document, page_id: ObjectId) -> [f32; 4] {
    let chain = page_chain(document, page_id);
    let find = |key: &[u8]| {
        chain.iter().find_map(|node| {
            let array = resolve(document, node.get(key).ok()?)?.as_array().ok()?;
            let numbers: Vec<f32> = array
                .iter()
                .filter_map(|item| resolve(document, item)?.as_float().ok())
                .collect();
            let [a, b, c, d] = numbers.as_slice() else {
                return None;
            };
            let rect = [a.min(*c), b.min(*d), a.max(*c), b.max(*d)];
            let sane = rect.iter().all(|n| n.is_finite() && n.abs() < 1.0e6)
                && rect[2] - rect[0] >= 1.0
                && rect[3] - rect[1] >= 1.0;
            sane.then_some(rect)
        })
    };
    find(b"CropBox")
        .or_else(|| find(b"MediaBox"))
        .unwrap_or(DEFAULT_BOX)
}

/// The page's effective resources (its own or inherited) as a dictionary of its own, with the
/// watermark added to its XObjects. Shared dictionaries are copied, not changed.
fn resources_with_xobject(
    document: &Document,
    page_id: ObjectId,
    name: &str,
    image_id: ObjectId,
) -> Dictionary {
    let mut resources = page_chain(document, page_id)
        .iter()
        .find_map(|node| {
            resolve(document, node.get(b"Resources").ok()?)?
                .as_dict()
                .ok()
                .cloned()
        })
        .unwrap_or_default();
    let mut xobjects = resources
        .get(b"XObject")
        .ok()
        .and_then(|object| resolve(document, object)?.as_dict().ok().cloned())
        .unwrap_or_default();
    xobjects.set(name, Object::Reference(image_id));
    resources.set("XObject", Object::Dictionary(xobjects));
    resources
}

/// `[q, the page's own content streams..., Q + draw the watermark]`.
fn wrapped_contents(
    document: &Document,
    page_id: ObjectId,
    save_state: ObjectId,
    draw_id: ObjectId,
) -> Vec<Object> {
    let own = document
        .get_dictionary(page_id)
        .ok()
        .and_then(|page| page.get(b"Contents").ok());
    let mut contents = vec![Object::Reference(save_state)];
    match own {
        Some(Object::Reference(id)) => match document.get_object(*id) {
            Ok(Object::Array(items)) => contents.extend(items.iter().cloned()),
            Ok(_) => contents.push(Object::Reference(*id)),
            Err(_) => {}
        },
        Some(Object::Array(items)) => contents.extend(items.iter().cloned()),
        _ => {}
    }
    contents.push(Object::Reference(draw_id));
    contents
}
