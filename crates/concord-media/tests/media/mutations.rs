//! Damaged variants of valid files (bytes flipped, cut short, runs overwritten) through every
//! entry point: each must return, with a value or an error, and never panic.

use concord_media::{
    FileKind, MediaLimits, WatermarkText, Watermarker, extract_text, probe, rendition, sniff,
    strip_location, thumbnail,
};
use image::DynamicImage;

use crate::fixtures::{cjk_font, encode, jpeg_with_gps, red_left_blue_right, two_page_pdf};

/// xorshift64*: deterministic, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutate(original: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = original.to_vec();
    match rng.below(3) {
        0 => {
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(bytes.len());
                bytes[at] ^= 1 << rng.below(8);
            }
        }
        1 => bytes.truncate(rng.below(bytes.len())),
        _ => {
            let at = rng.below(bytes.len());
            let run = (1 + rng.below(64)).min(bytes.len() - at);
            let value = rng.next() as u8;
            bytes[at..at + run].fill(value);
        }
    }
    bytes
}

#[test]
fn damaged_images_never_panic() {
    let limits = MediaLimits::default();
    let picture = DynamicImage::ImageRgb8(red_left_blue_right(48, 32));
    let originals = [
        encode(&picture, image::ImageFormat::Png),
        encode(&picture, image::ImageFormat::Gif),
        encode(&picture, image::ImageFormat::WebP),
        jpeg_with_gps(48, 32, 6),
    ];
    let watermarker = Watermarker::new(cjk_font());
    let text = WatermarkText::new(["张三 · u_1"]);
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for original in &originals {
        for _ in 0..100 {
            let damaged = mutate(original, &mut rng);
            let _ = sniff(&damaged, "x.png");
            let _ = probe(&damaged, &limits);
            let _ = thumbnail(&damaged, 16, &limits);
            let _ = rendition(&damaged, 24, 70, &limits);
            let _ = strip_location(&damaged, &limits);
            let _ = watermarker.watermark_image(&damaged, &text, &limits);
        }
    }
}

#[test]
fn damaged_pdfs_never_panic() {
    let limits = MediaLimits::default();
    let original = two_page_pdf();
    let watermarker = Watermarker::new(cjk_font());
    let text = WatermarkText::new(["张三 · u_1"]);
    let mut rng = Rng(0x5EED_5678_ABCD_0002);
    for round in 0..120 {
        let damaged = mutate(&original, &mut rng);
        let _ = sniff(&damaged, "x.pdf");
        let _ = extract_text(&damaged, FileKind::Pdf, 1_000, &limits);
        // Watermarking renders a page-sized image; a sample of the rounds is enough.
        if round % 10 == 0 {
            let _ = watermarker.watermark_pdf(&damaged, &text, &limits);
        }
    }
}

#[test]
fn random_bytes_as_text_never_panic() {
    let limits = MediaLimits::default();
    let mut rng = Rng(0x5EED_9ABC_ABCD_0003);
    for _ in 0..300 {
        let len = rng.below(512);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let sniffed = sniff(&bytes, "random.bin");
        let _ = extract_text(&bytes, FileKind::Text, 100, &limits);
        let _ = extract_text(&bytes, FileKind::Markup, 100, &limits);
        let _ = extract_text(&bytes, sniffed.kind, 100, &limits);
        let _ = concord_media::sanitize_file_name(&String::from_utf8_lossy(&bytes));
    }
}
