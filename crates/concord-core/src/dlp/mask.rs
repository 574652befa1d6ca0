//! Masking that keeps the shape of what it hides: separators and groups stay, a prefix and a
//! suffix of each value stay where that is customary, and the rest becomes `*`.
//!
//! | type | example |
//! |---|---|
//! | resident ID | `110101********123X` (first 6, last 4) |
//! | mobile | `+86 138****8000` (country code, first 3, last 4) |
//! | bank card | `6222 **** **** 0710` (first 4, last 4) |
//! | US SSN | `***-**-6789` (last 4) |
//! | e-mail | `z***@example.com` (first character of the local part, then `***`) |
//! | IPv4 | `192.168.***.***` (first two octets) |
//! | IPv6 | every hex digit masked: `****:***::****` |
//! | custom | every digit masked (every letter but the first when there are no digits) |
//!
//! Invisible characters inside a value are dropped. None of the kept parts is long enough to
//! be found again.

use super::DetectorKind;
use super::normalize::{fold, is_digit, is_invisible};

const MASK: char = '*';

/// The masked form of `span` (the original characters of one finding).
pub fn mask_value(kind: &DetectorKind, span: &str) -> String {
    let visible: Vec<char> = span.chars().filter(|&c| !is_invisible(c)).collect();
    match kind {
        DetectorKind::CnResidentId => keep_ends(&visible, 6, 4, |c| {
            is_digit(c) || matches!(fold(c), Some('X' | 'x'))
        }),
        DetectorKind::CnMobile => {
            let digits = visible.iter().filter(|&&c| is_digit(c)).count();
            keep_ends(&visible, digits.saturating_sub(11) + 3, 4, is_digit)
        }
        DetectorKind::BankCard => keep_ends(&visible, 4, 4, is_digit),
        DetectorKind::UsSsn => keep_ends(&visible, 0, 4, is_digit),
        DetectorKind::Email => email(&visible),
        DetectorKind::IpAddress => ip(&visible),
        DetectorKind::Custom(_) => {
            if visible.iter().any(|&c| is_digit(c)) {
                visible
                    .iter()
                    .map(|&c| if is_digit(c) { MASK } else { c })
                    .collect()
            } else {
                keep_ends(&visible, 1, 0, char::is_alphanumeric)
            }
        }
    }
}

/// Keeps the first `front` and last `back` characters that satisfy `significant`, masks the
/// other significant ones, and keeps everything else.
fn keep_ends(
    chars: &[char],
    front: usize,
    back: usize,
    significant: impl Fn(char) -> bool,
) -> String {
    let total = chars.iter().filter(|&&c| significant(c)).count();
    let mut seen = 0;
    chars
        .iter()
        .map(|&c| {
            if !significant(c) {
                return c;
            }
            seen += 1;
            if seen <= front || seen > total.saturating_sub(back) {
                c
            } else {
                MASK
            }
        })
        .collect()
}

fn email(chars: &[char]) -> String {
    let at = chars
        .iter()
        .position(|&c| fold(c) == Some('@'))
        .unwrap_or(chars.len());
    let mut out = String::new();
    if let Some(&first) = chars.first().filter(|_| at > 0) {
        out.push(first);
    }
    out.push_str("***");
    out.extend(&chars[at..]);
    out
}

fn ip(chars: &[char]) -> String {
    if chars.contains(&':') {
        return chars
            .iter()
            .map(|&c| if c.is_ascii_hexdigit() { MASK } else { c })
            .collect();
    }
    let mut dots = 0;
    chars
        .iter()
        .map(|&c| {
            if fold(c) == Some('.') {
                dots += 1;
                c
            } else if dots >= 2 && is_digit(c) {
                MASK
            } else {
                c
            }
        })
        .collect()
}
