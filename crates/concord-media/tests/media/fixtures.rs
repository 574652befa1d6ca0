//! Generated test files.

use std::io::{Cursor, Write};

use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};
use img_parts::{Bytes, ImageEXIF};
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, StringFormat, dictionary};

pub const RED: [u8; 3] = [220, 20, 20];
pub const BLUE: [u8; 3] = [20, 20, 220];

/// A picture whose left half is red and right half blue, so rotations can be told apart.
pub fn red_left_blue_right(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, _| {
        if x < width / 2 { Rgb(RED) } else { Rgb(BLUE) }
    })
}

pub fn encode(img: &DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut bytes), format).unwrap();
    bytes
}

pub fn white_png(width: u32, height: u32) -> Vec<u8> {
    let img = RgbaImage::from_pixel(width, height, Rgba([255, 255, 255, 255]));
    encode(&DynamicImage::ImageRgba8(img), image::ImageFormat::Png)
}

pub fn white_jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    encode(&DynamicImage::ImageRgb8(img), image::ImageFormat::Jpeg)
}

/// The GPS latitude 31° 14' 12.34" as EXIF rationals: the byte pattern that must disappear.
pub const LATITUDE_RATIONALS: [u8; 24] = [
    0, 0, 0, 31, 0, 0, 0, 1, 0, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0x04, 0xD2, 0, 0, 0, 100,
];

/// A big-endian EXIF (TIFF) block: IFD0 with Orientation and a GPS IFD pointer; the GPS IFD
/// with latitude 31°14'12.34"N and longitude 121°28'0"E (Shanghai).
pub fn exif_with_gps(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2A");
    tiff.extend_from_slice(&8u32.to_be_bytes());
    // IFD0 at 8: two entries, then the next-IFD offset.
    tiff.extend_from_slice(&2u16.to_be_bytes());
    entry(
        &mut tiff,
        0x0112,
        3,
        1,
        &[(orientation >> 8) as u8, orientation as u8, 0, 0],
    );
    entry(&mut tiff, 0x8825, 4, 1, &38u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(tiff.len(), 38);
    // GPS IFD at 38: four entries (54 bytes), rationals after it at 92 and 116.
    tiff.extend_from_slice(&4u16.to_be_bytes());
    entry(&mut tiff, 0x0001, 2, 2, b"N\0\0\0");
    entry(&mut tiff, 0x0002, 5, 3, &92u32.to_be_bytes());
    entry(&mut tiff, 0x0003, 2, 2, b"E\0\0\0");
    entry(&mut tiff, 0x0004, 5, 3, &116u32.to_be_bytes());
    tiff.extend_from_slice(&0u32.to_be_bytes());
    assert_eq!(tiff.len(), 92);
    tiff.extend_from_slice(&LATITUDE_RATIONALS);
    for (numerator, denominator) in [(121u32, 1u32), (28, 1), (0, 1)] {
        tiff.extend_from_slice(&numerator.to_be_bytes());
        tiff.extend_from_slice(&denominator.to_be_bytes());
    }
    tiff
}

fn entry(tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: &[u8]) {
    tiff.extend_from_slice(&tag.to_be_bytes());
    tiff.extend_from_slice(&kind.to_be_bytes());
    tiff.extend_from_slice(&count.to_be_bytes());
    tiff.extend_from_slice(value);
}

pub const XMP_PACKET: &[u8] = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF><rdf:Description exif:GPSLatitude='31,14.2N'/></rdf:RDF></x:xmpmeta>";

/// A JPEG of `red_left_blue_right(width, height)` carrying the GPS EXIF block (with
/// `orientation`) and an XMP packet that repeats the position.
pub fn jpeg_with_gps(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    let plain = encode(
        &DynamicImage::ImageRgb8(red_left_blue_right(width, height)),
        image::ImageFormat::Jpeg,
    );
    let mut jpeg = img_parts::jpeg::Jpeg::from_bytes(Bytes::from(plain)).unwrap();
    jpeg.set_exif(Some(Bytes::from(exif_with_gps(orientation))));
    let xmp = img_parts::jpeg::JpegSegment::new_with_contents(
        img_parts::jpeg::markers::APP1,
        Bytes::from_static(XMP_PACKET),
    );
    jpeg.segments_mut().insert(1, xmp);
    jpeg.encoder().bytes().to_vec()
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// A PNG whose header declares `width` × `height` RGB pixels, followed by a few bytes of image
/// data and the end chunk: a few dozen bytes on disk.
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    zlib.write_all(&[0u8; 4096]).unwrap();
    chunk(&mut png, b"IDAT", &zlib.finish().unwrap());
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    png.extend_from_slice(&crc.sum().to_be_bytes());
}

/// A two-page PDF: page 1 (A4, resources and media box inherited from the page tree) says
/// "Quarterly report" in Helvetica and "季度报告 张三" in a Type0 font with a ToUnicode map;
/// page 2 (US Letter landscape, its own resources) says "Second page".
pub fn two_page_pdf() -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let helvetica = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let chinese = "季度报告 张三";
    let distinct: Vec<char> = {
        let mut chars: Vec<char> = chinese.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        chars
    };
    let code_of = |c: char| distinct.iter().position(|d| *d == c).unwrap() as u16 + 1;
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def /CMapType 2 def\n\
         1 begincodespacerange <0000> <FFFF> endcodespacerange\n",
    );
    cmap.push_str(&format!("{} beginbfchar\n", distinct.len()));
    for c in &distinct {
        let mut utf16 = [0u16; 2];
        let unit = c.encode_utf16(&mut utf16)[0];
        cmap.push_str(&format!("<{:04X}> <{:04X}>\n", code_of(*c), unit));
    }
    cmap.push_str("endbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end\n");
    let to_unicode = doc.add_object(lopdf::Stream::new(dictionary! {}, cmap.into_bytes()));
    let descendant = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "CIDFontType0", "BaseFont" => "STSong-Light",
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("GB1"),
            "Supplement" => 2,
        },
    });
    let cjk_font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "STSong-Light",
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![Object::Reference(descendant)],
        "ToUnicode" => to_unicode,
    });
    let codes: Vec<u8> = chinese
        .chars()
        .flat_map(|c| code_of(c).to_be_bytes())
        .collect();
    let first = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 24.into()]),
            Operation::new("Td", vec![72.into(), 760.into()]),
            Operation::new("Tj", vec![Object::string_literal("Quarterly report")]),
            Operation::new("ET", vec![]),
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F2".into(), 24.into()]),
            Operation::new("Td", vec![72.into(), 700.into()]),
            Operation::new("Tj", vec![Object::String(codes, StringFormat::Hexadecimal)]),
            Operation::new("ET", vec![]),
        ],
    };
    let second = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 18.into()]),
            Operation::new("Td", vec![72.into(), 500.into()]),
            Operation::new("Tj", vec![Object::string_literal("Second page")]),
            Operation::new("ET", vec![]),
        ],
    };
    let first_content = doc.add_object(lopdf::Stream::new(dictionary! {}, first.encode().unwrap()));
    let second_content =
        doc.add_object(lopdf::Stream::new(dictionary! {}, second.encode().unwrap()));
    let page_one = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => first_content,
    });
    let page_two = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => second_content,
        "MediaBox" => vec![0.into(), 0.into(), 792.into(), 612.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => helvetica } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_one.into(), page_two.into()],
            "Count" => 2,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Resources" => dictionary! {
                "Font" => dictionary! { "F1" => helvetica, "F2" => cjk_font },
            },
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

/// A one-page PDF whose content stream is a FlateDecode bomb inflating to `inflated` bytes of
/// spaces (a valid but enormous content stream).
pub fn pdf_with_content_bomb(inflated: usize) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b' '; 1024 * 1024];
    for _ in 0..inflated / block.len() {
        zlib.write_all(&block).unwrap();
    }
    let bomb = doc.add_object(
        lopdf::Stream::new(
            dictionary! { "Filter" => "FlateDecode" },
            zlib.finish().unwrap(),
        )
        .with_compression(false),
    );
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => bomb,
        "MediaBox" => vec![0.into(), 0.into(), 300.into(), 300.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

/// The system's CJK font; the tests that draw text need one (CI installs fonts-wqy-microhei),
/// and fail rather than skip without it.
pub fn cjk_font() -> concord_media::WatermarkFont {
    concord_media::WatermarkFont::discover(None)
        .expect("a CJK font is required for these tests: apt-get install fonts-wqy-microhei")
}
