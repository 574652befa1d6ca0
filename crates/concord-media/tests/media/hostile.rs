//! Hostile input: pixel floods, decompression bombs, oversized and damaged files.

use concord_media::{
    FileKind, MediaError, MediaLimits, extract_text, probe, rendition, sniff, strip_location,
    thumbnail,
};

use crate::fixtures::{cjk_font, pdf_with_content_bomb, png_declaring, white_png};

#[test]
fn pixel_flood_png_is_refused_from_its_header() {
    let flood = png_declaring(100_000, 100_000);
    assert!(flood.len() < 200, "the whole file is {} bytes", flood.len());
    let limits = MediaLimits::default();
    // Decoding would need 30 GB; each of these returns at once with the declared size.
    for result in [
        probe(&flood, &limits).map(|_| ()),
        thumbnail(&flood, 256, &limits).map(|_| ()),
        rendition(&flood, 800, 80, &limits).map(|_| ()),
    ] {
        assert!(
            matches!(
                result,
                Err(MediaError::DimensionsTooLarge {
                    width: 100_000,
                    height: 100_000
                })
            ),
            "{result:?}"
        );
    }
    let watermarker = concord_media::Watermarker::new(cjk_font());
    let text = concord_media::WatermarkText::new(["someone"]);
    assert!(matches!(
        watermarker.watermark_image(&flood, &text, &limits),
        Err(MediaError::DimensionsTooLarge { .. })
    ));
}

#[test]
fn pixel_count_and_side_limits_are_both_enforced() {
    let limits = MediaLimits {
        max_image_side: 1000,
        max_image_pixels: 200_000,
        ..MediaLimits::default()
    };
    // Within the side limit but 1,000,000 pixels.
    assert!(matches!(
        probe(&png_declaring(1000, 1000), &limits),
        Err(MediaError::DimensionsTooLarge { .. })
    ));
    // Few pixels but one side too long.
    assert!(matches!(
        probe(&png_declaring(1001, 10), &limits),
        Err(MediaError::DimensionsTooLarge { .. })
    ));
    assert!(probe(&png_declaring(400, 400), &limits).is_ok());
    assert!(matches!(
        probe(&png_declaring(0, 10), &limits),
        Err(MediaError::Malformed(_))
    ));
}

#[test]
fn decoding_is_bounded_by_the_allocation_limit() {
    let limits = MediaLimits {
        max_decode_bytes: 10_000,
        ..MediaLimits::default()
    };
    // 100 x 100 RGBA is 40,000 bytes decoded: within the dimension limits, over the allocation.
    let png = white_png(100, 100);
    assert!(probe(&png, &limits).is_ok());
    assert!(matches!(
        thumbnail(&png, 32, &limits),
        Err(MediaError::OverDecodeLimit)
    ));
}

#[test]
fn oversized_input_is_refused_before_any_work() {
    let limits = MediaLimits {
        max_input_bytes: 1024,
        ..MediaLimits::default()
    };
    let png = white_png(200, 200);
    assert!(png.len() > 1024);
    let too_large = |result: Result<(), MediaError>| {
        matches!(result, Err(MediaError::InputTooLarge { limit: 1024, .. }))
    };
    assert!(too_large(probe(&png, &limits).map(|_| ())));
    assert!(too_large(thumbnail(&png, 64, &limits).map(|_| ())));
    assert!(too_large(strip_location(&png, &limits).map(|_| ())));
    let watermarker = concord_media::Watermarker::new(cjk_font());
    let text = concord_media::WatermarkText::new(["someone"]);
    assert!(too_large(
        watermarker
            .watermark_image(&png, &text, &limits)
            .map(|_| ())
    ));
    let pdf = crate::fixtures::two_page_pdf();
    assert!(too_large(
        watermarker.watermark_pdf(&pdf, &text, &limits).map(|_| ())
    ));
    assert_eq!(extract_text(&pdf, FileKind::Pdf, 100, &limits), None);
}

#[test]
fn archives_are_classified_and_never_unpacked() {
    // The head of a zip (a bomb looks the same): served as an attachment, no text extracted.
    let mut zip = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
    zip.extend_from_slice(&[0u8; 64]);
    let sniffed = sniff(&zip, "bomb.zip");
    assert_eq!(
        (sniffed.kind, sniffed.mime),
        (FileKind::Archive, "application/zip")
    );
    assert!(!sniffed.extension_mismatch);
    assert_eq!(
        sniffed.disposition(),
        concord_media::Disposition::Attachment
    );
    assert_eq!(
        extract_text(&zip, sniffed.kind, 1000, &MediaLimits::default()),
        None
    );
    assert!(matches!(
        thumbnail(&zip, 64, &MediaLimits::default()),
        Err(MediaError::UnsupportedFormat)
    ));
}

#[test]
fn pdf_content_bomb_is_not_inflated_past_the_limit() {
    let bomb = pdf_with_content_bomb(32 * 1024 * 1024);
    assert!(bomb.len() < 200 * 1024, "{} bytes", bomb.len());
    let limits = MediaLimits {
        max_pdf_stream_bytes: 1024 * 1024,
        ..MediaLimits::default()
    };
    // The page's content cannot be read within the limit, so there is no text...
    assert_eq!(extract_text(&bomb, FileKind::Pdf, 1000, &limits), None);
    // ...but the watermark, which never inflates page content, still covers the page.
    let watermarker = concord_media::Watermarker::new(cjk_font());
    let text = concord_media::WatermarkText::new(["someone"]);
    let marked = watermarker.watermark_pdf(&bomb, &text, &limits).unwrap();
    assert!(lopdf::Document::load_mem(&marked).is_ok());
}

#[test]
fn pdf_over_the_page_or_object_limit_is_refused() {
    let limits = MediaLimits {
        max_pdf_pages: 1,
        ..MediaLimits::default()
    };
    let pdf = crate::fixtures::two_page_pdf();
    let watermarker = concord_media::Watermarker::new(cjk_font());
    let text = concord_media::WatermarkText::new(["someone"]);
    assert!(matches!(
        watermarker.watermark_pdf(&pdf, &text, &limits),
        Err(MediaError::PdfTooComplex {
            what: "pages",
            limit: 1
        })
    ));
    assert_eq!(extract_text(&pdf, FileKind::Pdf, 1000, &limits), None);

    let limits = MediaLimits {
        max_pdf_objects: 5,
        ..MediaLimits::default()
    };
    assert!(matches!(
        watermarker.watermark_pdf(&pdf, &text, &limits),
        Err(MediaError::PdfTooComplex {
            what: "objects",
            limit: 5
        })
    ));
}

#[test]
fn damaged_files_give_errors_not_panics() {
    let limits = MediaLimits::default();
    let mut png = white_png(50, 50);
    png.truncate(png.len() / 2);
    assert!(thumbnail(&png, 16, &limits).is_err());
    let mut garbage = b"\xFF\xD8\xFF\xE0".to_vec();
    garbage.extend(std::iter::repeat_n(0xAB, 500));
    assert!(thumbnail(&garbage, 16, &limits).is_err());
    let watermarker = concord_media::Watermarker::new(cjk_font());
    let text = concord_media::WatermarkText::new(["someone"]);
    for pdf in [
        &b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"[..],
        &b"%PDF-1.4\n[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["[..],
        &[0u8; 16][..],
    ] {
        assert!(watermarker.watermark_pdf(pdf, &text, &limits).is_err());
        assert_eq!(extract_text(pdf, FileKind::Pdf, 100, &limits), None);
    }
}
