//! Content sniffing, extension mismatches, polyglots and text detection.

use concord_media::{Disposition, FileKind, MediaLimits, extract_text, sniff};
use image::DynamicImage;

use crate::fixtures::{encode, red_left_blue_right, two_page_pdf, white_jpeg};

#[test]
fn png_named_pdf_is_a_mismatch_and_the_type_comes_from_content() {
    let png = encode(
        &DynamicImage::ImageRgb8(red_left_blue_right(8, 8)),
        image::ImageFormat::Png,
    );
    let sniffed = sniff(&png, "invoice.pdf");
    assert_eq!(sniffed.mime, "image/png");
    assert_eq!(sniffed.kind, FileKind::Image);
    assert!(sniffed.extension_mismatch);
    assert_eq!(sniffed.disposition(), Disposition::Inline);
    assert!(!sniff(&png, "invoice.png").extension_mismatch);
}

#[test]
fn common_types_are_recognised() {
    let jpeg = sniff(&white_jpeg(8, 8), "photo.JPG");
    assert_eq!(
        (jpeg.kind, jpeg.mime, jpeg.extension_mismatch),
        (FileKind::Image, "image/jpeg", false)
    );
    let pdf = sniff(&two_page_pdf(), "report.pdf");
    assert_eq!(
        (pdf.kind, pdf.mime, pdf.extension_mismatch),
        (FileKind::Pdf, "application/pdf", false)
    );
    assert_eq!(pdf.disposition(), Disposition::Attachment);
    let exe = sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0", "cute-cat.jpg");
    assert_eq!(exe.kind, FileKind::Other);
    assert!(exe.extension_mismatch);
}

#[test]
fn html_and_svg_are_markup_served_as_attachments() {
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>"#;
    let sniffed = sniff(svg, "logo.svg");
    assert_eq!(
        (sniffed.kind, sniffed.mime),
        (FileKind::Markup, "image/svg+xml")
    );
    assert!(!sniffed.extension_mismatch);
    assert_eq!(sniffed.disposition(), Disposition::Attachment);

    let html = sniff(
        b"\n  <!DOCTYPE html><html><body>hi</body></html>",
        "photo.png",
    );
    assert_eq!((html.kind, html.mime), (FileKind::Markup, "text/html"));
    assert!(html.extension_mismatch);
    assert_eq!(html.disposition(), Disposition::Attachment);
}

#[test]
fn image_html_polyglot_is_not_served_inline() {
    // A valid GIF header whose bytes also read as a page with script (GIFAR-style polyglot).
    let mut polyglot = b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec();
    polyglot.extend_from_slice(b"<html><script>fetch('/api/v1/me')</script></html>");
    let sniffed = sniff(&polyglot, "avatar.gif");
    assert_eq!((sniffed.kind, sniffed.mime), (FileKind::Image, "image/gif"));
    assert!(sniffed.contains_markup);
    assert_eq!(sniffed.disposition(), Disposition::Attachment);

    // A real PNG with markup hidden in a text chunk is caught the same way.
    let png = encode(
        &DynamicImage::ImageRgb8(red_left_blue_right(8, 8)),
        image::ImageFormat::Png,
    );
    let mut parsed = img_parts::png::Png::from_bytes(png.into()).unwrap();
    parsed.chunks_mut().insert(
        1,
        img_parts::png::PngChunk::new(
            *b"tEXt",
            img_parts::Bytes::from_static(b"Comment\0<svg onload=alert(1)>"),
        ),
    );
    let png = parsed.encoder().bytes().to_vec();
    let sniffed = sniff(&png, "chart.png");
    assert_eq!(sniffed.kind, FileKind::Image);
    assert_eq!(sniffed.disposition(), Disposition::Attachment);
}

#[test]
fn utf8_and_gbk_text_are_text_and_extractable() {
    let limits = MediaLimits::default();
    let utf8 = "会议纪要：决定下周发布 v2.0\nAction: 张三 to update the docs".as_bytes();
    let sniffed = sniff(utf8, "minutes.txt");
    assert_eq!(
        (sniffed.kind, sniffed.mime),
        (FileKind::Text, "text/plain; charset=utf-8")
    );
    assert_eq!(
        extract_text(utf8, sniffed.kind, 1000, &limits).as_deref(),
        Some("会议纪要：决定下周发布 v2.0\nAction: 张三 to update the docs")
    );

    let (gbk, _, unmappable) =
        encoding_rs::GBK.encode("企业级即时通讯工具的核心价值；报销单 2026 年");
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "GBK bytes are not UTF-8"
    );
    let sniffed = sniff(&gbk, "旧系统导出.csv");
    assert_eq!(
        (sniffed.kind, sniffed.mime),
        (FileKind::Text, "text/plain; charset=gb18030")
    );
    assert!(!sniffed.extension_mismatch);
    assert_eq!(
        extract_text(&gbk, sniffed.kind, 1000, &limits).as_deref(),
        Some("企业级即时通讯工具的核心价值；报销单 2026 年")
    );
    // Bounded: only max_chars characters come back.
    assert_eq!(
        extract_text(&gbk, FileKind::Text, 6, &limits).as_deref(),
        Some("企业级即时通")
    );
}
