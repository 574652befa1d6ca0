//! PDF watermarks and PDF text extraction.

use concord_media::{FileKind, MediaLimits, WatermarkText, Watermarker, extract_text};
use lopdf::{Document, Object};

use crate::fixtures::{cjk_font, two_page_pdf};

#[test]
fn text_is_extracted_from_english_and_chinese_pages() {
    let text = extract_text(
        &two_page_pdf(),
        FileKind::Pdf,
        10_000,
        &MediaLimits::default(),
    )
    .expect("the PDF has text");
    assert!(text.contains("Quarterly report"), "{text:?}");
    assert!(text.contains("季度报告"), "{text:?}");
    assert!(text.contains("张三"), "{text:?}");
    assert!(text.contains("Second page"), "{text:?}");
    let short = extract_text(&two_page_pdf(), FileKind::Pdf, 5, &MediaLimits::default()).unwrap();
    assert_eq!(short.chars().count(), 5);
}

#[test]
fn text_extraction_stops_after_the_page_that_used_up_the_time() {
    let limits = MediaLimits {
        max_pdf_text_time: std::time::Duration::ZERO,
        ..MediaLimits::default()
    };
    let text = extract_text(&two_page_pdf(), FileKind::Pdf, 10_000, &limits).unwrap();
    assert!(text.contains("Quarterly report"), "{text:?}");
    assert!(!text.contains("Second page"), "{text:?}");
}

#[test]
fn every_page_draws_the_watermark_and_the_output_parses() {
    let original = two_page_pdf();
    let untouched = original.clone();
    let text = WatermarkText::new(["张三 (zhangsan) · u_123", "2026-11-25 10:03 +08:00"]);
    let marked = Watermarker::new(cjk_font())
        .watermark_pdf(&original, &text, &MediaLimits::default())
        .unwrap();
    let document = Document::load_mem(&marked).expect("the output is a valid PDF");
    let pages: Vec<_> = document.page_iter().collect();
    assert_eq!(pages.len(), 2);
    let mut images = Vec::new();
    for page_id in pages {
        let page = document.get_dictionary(page_id).unwrap();
        let resources = page.get(b"Resources").unwrap().as_dict().unwrap();
        let xobjects = resources.get(b"XObject").unwrap().as_dict().unwrap();
        let (name, image_ref) = xobjects
            .iter()
            .find(|(name, _)| name.starts_with(b"ConcordWatermark"))
            .expect("the page names the watermark");
        let image_id = image_ref.as_reference().unwrap();
        let image = document.get_object(image_id).unwrap().as_stream().unwrap();
        assert_eq!(
            image.dict.get(b"Subtype").unwrap().as_name().unwrap(),
            b"Image"
        );
        let mask_id = image.dict.get(b"SMask").unwrap().as_reference().unwrap();
        let mask = document.get_object(mask_id).unwrap().as_stream().unwrap();
        let coverage = mask.decompressed_content().unwrap();
        let inked = coverage.iter().filter(|&&alpha| alpha > 0).count();
        assert!(
            inked > coverage.len() / 50,
            "the mask carries text: {inked}"
        );
        assert!(inked < coverage.len() / 2, "and is mostly clear: {inked}");
        images.push(image_id);

        // The last content stream restores the page's state and draws the watermark over it.
        let contents = page.get(b"Contents").unwrap().as_array().unwrap();
        let first = document
            .get_object(contents[0].as_reference().unwrap())
            .unwrap()
            .as_stream()
            .unwrap();
        assert_eq!(first.content, b"q\n");
        let last = document
            .get_object(contents.last().unwrap().as_reference().unwrap())
            .unwrap()
            .as_stream()
            .unwrap();
        let draw = String::from_utf8(last.content.clone()).unwrap();
        assert!(draw.starts_with("Q q "), "{draw}");
        assert!(
            draw.contains(&format!("/{} Do", String::from_utf8_lossy(name))),
            "{draw}"
        );
        assert!(contents.len() >= 3, "the page's own content is kept");
    }
    // A4 portrait and Letter landscape: one watermark image each.
    assert_ne!(images[0], images[1]);
    let (first_w, second_w) = (
        image_width(&document, images[0]),
        image_width(&document, images[1]),
    );
    assert_eq!((first_w, second_w), (1190, 1584));

    // The original text is still there, and the original bytes were not touched.
    let text = extract_text(&marked, FileKind::Pdf, 10_000, &MediaLimits::default()).unwrap();
    assert!(
        text.contains("Quarterly report") && text.contains("季度报告"),
        "{text:?}"
    );
    assert_eq!(original, untouched);
}

fn image_width(document: &Document, id: lopdf::ObjectId) -> i64 {
    match document
        .get_object(id)
        .unwrap()
        .as_stream()
        .unwrap()
        .dict
        .get(b"Width")
    {
        Ok(Object::Integer(width)) => *width,
        other => panic!("no width: {other:?}"),
    }
}
