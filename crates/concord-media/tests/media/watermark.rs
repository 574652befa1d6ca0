//! Image watermarks: tiled over the whole picture, Chinese rendered, the original untouched.

use concord_media::{
    FontError, MediaError, MediaLimits, WatermarkFont, WatermarkText, Watermarker,
};
use image::{GenericImageView, RgbaImage};

use crate::fixtures::{cjk_font, white_jpeg, white_png};

fn viewer_text() -> WatermarkText {
    let text = WatermarkText::for_viewer("张三", "zhangsan", "u_123", "2026-11-25 10:03 +08:00");
    assert_eq!(
        text.lines,
        ["张三 (zhangsan) · u_123", "2026-11-25 10:03 +08:00"]
    );
    text
}

/// How many pixels of each cell of a `cells` × `cells` grid differ from white.
fn changed_per_cell(img: &RgbaImage, cells: u32) -> Vec<usize> {
    let (width, height) = img.dimensions();
    let mut counts = vec![0usize; (cells * cells) as usize];
    for (x, y, pixel) in img.enumerate_pixels() {
        if pixel.0[..3].iter().any(|&c| c < 245) {
            let cell = (y * cells / height) * cells + x * cells / width;
            counts[cell as usize] += 1;
        }
    }
    counts
}

#[test]
fn watermark_is_tiled_across_the_whole_image_and_the_original_is_unchanged() {
    let original = white_png(900, 600);
    let before = original.clone();
    let watermarker = Watermarker::new(cjk_font());
    let marked = watermarker
        .watermark_image(&original, &viewer_text(), &MediaLimits::default())
        .unwrap();
    assert_eq!(original, before, "the input is never modified");
    assert_eq!(marked.mime, "image/png");
    let img = image::load_from_memory(&marked.bytes).unwrap();
    assert_eq!(img.dimensions(), (900, 600));
    let counts = changed_per_cell(&img.to_rgba8(), 3);
    assert!(
        counts.iter().all(|&changed| changed > 200),
        "every ninth of the image carries text: {counts:?}"
    );
    // Semi-transparent: the darkest ink is grey, not black, and most pixels stay white.
    let rgba = img.to_rgba8();
    let darkest = rgba.pixels().map(|p| p.0[0]).min().unwrap();
    assert!((120..240).contains(&darkest), "darkest {darkest}");
    let changed: usize = counts.iter().sum();
    assert!(changed < 900 * 600 / 2, "{changed} pixels changed");
}

#[test]
fn jpeg_stays_jpeg_and_is_marked() {
    let watermarker = Watermarker::new(cjk_font());
    let marked = watermarker
        .watermark_image(
            &white_jpeg(400, 300),
            &viewer_text(),
            &MediaLimits::default(),
        )
        .unwrap();
    assert_eq!(marked.mime, "image/jpeg");
    let img = image::load_from_memory(&marked.bytes).unwrap().to_rgba8();
    assert!(
        changed_per_cell(&img, 2)
            .iter()
            .all(|&changed| changed > 50)
    );
}

#[test]
fn chinese_names_render_as_real_glyphs() {
    // With a font lacking the glyphs both names would draw the same empty boxes; real glyphs
    // differ, and they leave ink.
    let watermarker = Watermarker::new(cjk_font());
    let limits = MediaLimits::default();
    let white = white_png(300, 300);
    let render = |name: &str| {
        let marked = watermarker
            .watermark_image(&white, &WatermarkText::new([name]), &limits)
            .unwrap();
        image::load_from_memory(&marked.bytes).unwrap().to_rgba8()
    };
    let zhang = render("张三丰");
    let li = render("李四海");
    let inked = |img: &RgbaImage| img.pixels().filter(|p| p.0[0] < 245).count();
    assert!(inked(&zhang) > 500, "{}", inked(&zhang));
    assert!(inked(&li) > 500);
    let differing = zhang
        .pixels()
        .zip(li.pixels())
        .filter(|(a, b)| a.0[0].abs_diff(b.0[0]) > 20)
        .count();
    assert!(differing > 200, "only {differing} pixels differ");
}

#[test]
fn font_without_cjk_glyphs_is_refused_with_a_clear_error() {
    // DejaVu (Debian's fonts-dejavu-core, part of the machine image) has Latin glyphs only.
    let dejavu = std::path::Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    assert!(matches!(
        WatermarkFont::from_file(dejavu, 0),
        Err(FontError::NoCjkGlyphs { .. })
    ));
    let missing = WatermarkFont::discover(Some((std::path::Path::new("/nonexistent/font.ttc"), 0)));
    assert!(matches!(missing, Err(FontError::Unreadable { .. })));
    let not_a_font = WatermarkFont::from_bytes(vec![0u8; 100], 0, std::path::Path::new("x"));
    assert!(matches!(not_a_font, Err(FontError::Invalid { .. })));
    let message = FontError::NotFound { searched: vec![] }.to_string();
    assert!(message.contains("fonts-wqy-microhei"), "{message}");
}

#[test]
fn watermark_text_is_validated() {
    let watermarker = Watermarker::new(cjk_font());
    let limits = MediaLimits::default();
    let png = white_png(50, 50);
    for text in [
        WatermarkText::new(Vec::<String>::new()),
        WatermarkText::new(["  ", "\u{7}"]),
        WatermarkText::new(["a", "b", "c", "d", "e"]),
        WatermarkText::new(["长".repeat(121)]),
    ] {
        assert!(matches!(
            watermarker.watermark_image(&png, &text, &limits),
            Err(MediaError::InvalidWatermark(_))
        ));
    }
}
