//! Safe download names: what a user called a file, made harmless for a `Content-Disposition`
//! header and for whatever disk the downloader saves it to.
//!
//! ```
//! use concord_media::sanitize_file_name;
//!
//! assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
//! assert_eq!(sanitize_file_name("C:\\Users\\张三\\季度报告.pdf"), "季度报告.pdf");
//! assert_eq!(sanitize_file_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
//! assert_eq!(sanitize_file_name("CON.txt"), "_CON.txt");
//! ```

/// Longest name returned, in UTF-8 bytes (most file systems allow 255).
pub const MAX_FILE_NAME_BYTES: usize = 200;

/// Longest extension kept whole when a name is shortened, in bytes.
const MAX_KEPT_EXTENSION_BYTES: usize = 16;

/// Names Windows reserves for devices, whatever extension follows.
const WINDOWS_RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "COM¹", "COM²", "COM³", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8",
    "LPT9", "LPT¹", "LPT²", "LPT³", "CONIN$", "CONOUT$",
];

/// Returns a name safe to offer for download: the last path component only, without control
/// characters, bidirectional overrides or invisible characters, without characters Windows
/// forbids, not a reserved device name, not hidden (leading dots) and at most
/// [`MAX_FILE_NAME_BYTES`] long (the extension is kept). Chinese and other scripts are kept as
/// they are. Never empty: a name with nothing left becomes `file`.
pub fn sanitize_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut cleaned: String = last
        .chars()
        .filter_map(|c| match c {
            '\t' => Some(' '),
            c if is_invisible_or_control(c) => None,
            '<' | '>' | ':' | '"' | '|' | '?' | '*' => Some('_'),
            // Line and paragraph separators and other exotic spaces.
            c if c.is_whitespace() => Some(' '),
            c => Some(c),
        })
        .collect();
    cleaned = cleaned
        .trim_matches(|c: char| c == ' ' || c == '.')
        .to_string();
    if cleaned.is_empty() {
        return "file".to_string();
    }
    let stem = cleaned.split('.').next().unwrap_or_default().trim_end();
    if WINDOWS_RESERVED
        .iter()
        .any(|reserved| stem.eq_ignore_ascii_case(reserved))
    {
        cleaned.insert(0, '_');
    }
    shorten(cleaned)
}

/// Control characters, bidirectional controls (which make `exe.pdf` display as `fdp.exe`) and
/// zero-width characters.
fn is_invisible_or_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{061C}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// Cuts the stem (at a character boundary) so the whole name fits, keeping a short extension.
fn shorten(name: String) -> String {
    if name.len() <= MAX_FILE_NAME_BYTES {
        return name;
    }
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= MAX_KEPT_EXTENSION_BYTES => {
            (stem, Some(ext))
        }
        _ => (name.as_str(), None),
    };
    let budget = MAX_FILE_NAME_BYTES - extension.map_or(0, |ext| ext.len() + 1);
    let mut cut = budget.min(stem.len());
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    let stem = stem[..cut].trim_end_matches([' ', '.']);
    match extension {
        Some(ext) => format!("{stem}.{ext}"),
        None => stem.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_directories_of_both_kinds() {
        assert_eq!(sanitize_file_name("a/b\\c/report.docx"), "report.docx");
        assert_eq!(sanitize_file_name("..\\..\\windows\\win.ini"), "win.ini");
        assert_eq!(sanitize_file_name("/"), "file");
        assert_eq!(sanitize_file_name(".."), "file");
        assert_eq!(sanitize_file_name(""), "file");
    }

    #[test]
    fn removes_controls_and_invisible_characters() {
        assert_eq!(sanitize_file_name("a\u{0}b\r\nc\u{7}.txt"), "abc.txt");
        assert_eq!(sanitize_file_name("pay\u{200B}roll.xlsx"), "payroll.xlsx");
        assert_eq!(sanitize_file_name("\u{FEFF}x\u{2067}y.txt"), "xy.txt");
        assert_eq!(sanitize_file_name("a\u{85}b.txt"), "ab.txt");
    }

    #[test]
    fn replaces_characters_windows_forbids_and_hides() {
        assert_eq!(sanitize_file_name("what?<now>*.txt"), "what__now__.txt");
        assert_eq!(sanitize_file_name(".bashrc"), "bashrc");
        assert_eq!(sanitize_file_name("name. . "), "name");
        assert_eq!(sanitize_file_name("tab\there.txt"), "tab here.txt");
    }

    #[test]
    fn reserved_device_names_are_prefixed() {
        assert_eq!(sanitize_file_name("con"), "_con");
        assert_eq!(sanitize_file_name("LPT1.tar.gz"), "_LPT1.tar.gz");
        assert_eq!(sanitize_file_name("nul .txt"), "_nul .txt");
        assert_eq!(sanitize_file_name("console.txt"), "console.txt");
    }

    #[test]
    fn long_names_keep_extension_and_character_boundaries() {
        let long = format!("{}.pdf", "报".repeat(300));
        let short = sanitize_file_name(&long);
        assert!(short.len() <= MAX_FILE_NAME_BYTES, "{}", short.len());
        assert!(short.ends_with("报.pdf"));
        let no_ext = "x".repeat(1000);
        assert_eq!(sanitize_file_name(&no_ext).len(), MAX_FILE_NAME_BYTES);
    }

    #[test]
    fn keeps_cjk_and_spaces() {
        assert_eq!(
            sanitize_file_name("2026 年度 预算（终稿）.xlsx"),
            "2026 年度 预算（终稿）.xlsx"
        );
    }
}
