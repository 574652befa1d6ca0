//! The watermark font: a CJK-capable TrueType/OpenType face from the system (or a configured
//! path), loaded once at start-up. This is the crate's only file I/O.

use std::path::{Path, PathBuf};

use ab_glyph::{Font, FontVec};

use crate::FontError;

/// Largest font file read (Noto CJK collections are about 20-30 MB).
const MAX_FONT_BYTES: u64 = 64 * 1024 * 1024;

/// Where Linux distributions (and macOS) install a font with Chinese glyphs, with the face index
/// of Simplified Chinese inside each collection. WenQuanYi Micro Hei comes first: it is small and
/// Debian's `fonts-wqy-microhei` package. Noto Sans CJK collections order their faces JP, KR,
/// SC, TC, HK, so SC is face 2.
pub const FONT_CANDIDATES: &[(&str, u32)] = &[
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc", 0),
    (
        "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
        0,
    ),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    (
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        2,
    ),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/System/Library/Fonts/PingFang.ttc", 0),
];

/// A loaded font known to have Chinese glyphs.
#[derive(Clone)]
pub struct WatermarkFont {
    font: std::sync::Arc<FontVec>,
    path: PathBuf,
}

impl std::fmt::Debug for WatermarkFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatermarkFont")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl WatermarkFont {
    /// Loads face `index` of the font file at `path` (0 for a plain `.ttf`/`.otf`), and checks
    /// that it has Chinese glyphs.
    pub fn from_file(path: &Path, index: u32) -> Result<Self, FontError> {
        let unreadable = |source| FontError::Unreadable {
            path: path.to_path_buf(),
            source,
        };
        let size = std::fs::metadata(path).map_err(unreadable)?.len();
        if size > MAX_FONT_BYTES {
            return Err(FontError::TooLarge {
                path: path.to_path_buf(),
                limit: MAX_FONT_BYTES,
            });
        }
        let data = std::fs::read(path).map_err(unreadable)?;
        Self::from_bytes(data, index, path)
    }

    /// Like [`WatermarkFont::from_file`] for a font already in memory; `origin` names it in
    /// errors.
    pub fn from_bytes(data: Vec<u8>, index: u32, origin: &Path) -> Result<Self, FontError> {
        let font =
            FontVec::try_from_vec_and_index(data, index).map_err(|_| FontError::Invalid {
                path: origin.to_path_buf(),
                index,
            })?;
        // 张 and 中: if either is missing, names would print as empty boxes.
        if font.glyph_id('张').0 == 0 || font.glyph_id('中').0 == 0 {
            return Err(FontError::NoCjkGlyphs {
                path: origin.to_path_buf(),
            });
        }
        Ok(Self {
            font: std::sync::Arc::new(font),
            path: origin.to_path_buf(),
        })
    }

    /// The configured font when one is given (its errors are returned as they are: a configured
    /// path that fails is a configuration error), otherwise the first usable font among
    /// [`FONT_CANDIDATES`]. With none installed, [`FontError::NotFound`] lists where it looked;
    /// the server reports that as a start-up warning and refuses to serve sensitive files.
    pub fn discover(configured: Option<(&Path, u32)>) -> Result<Self, FontError> {
        if let Some((path, index)) = configured {
            return Self::from_file(path, index);
        }
        let mut first_failure = None;
        for (path, index) in FONT_CANDIDATES {
            let path = Path::new(path);
            if !path.exists() {
                continue;
            }
            match Self::from_file(path, *index) {
                Ok(font) => return Ok(font),
                Err(err) => {
                    first_failure.get_or_insert(err);
                }
            }
        }
        Err(first_failure.unwrap_or_else(|| FontError::NotFound {
            searched: FONT_CANDIDATES
                .iter()
                .map(|(path, _)| PathBuf::from(path))
                .collect(),
        }))
    }

    /// The file the font came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn face(&self) -> &FontVec {
        &self.font
    }
}
