//! The rules that decide whether a candidate string is the real thing: the GB 11643 check
//! character of a resident ID, real calendar dates, the Luhn check of card numbers, the
//! issued ranges of US SSNs, mobile number prefixes and IPv4/IPv6 syntax. Inputs are ASCII
//! strings the detectors have already folded; anything unexpected is simply "not valid".

/// GB 11643 weights for the first 17 digits.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// `ID_CHECK[sum mod 11]` is the check character (ISO 7064 MOD 11-2).
const ID_CHECK: [u8; 11] = *b"10X98765432";

/// The check character for the first 17 digits of a resident ID.
pub fn resident_id_check_char(first17: &str) -> Option<char> {
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(char::from(ID_CHECK[(sum % 11) as usize]))
}

/// An 18-character resident ID: 17 digits with a real birth date and the right check
/// character (`X` in either case).
pub fn is_resident_id(id: &str) -> bool {
    if id.len() != 18 || !id.is_ascii() {
        return false;
    }
    let (first, check) = id.split_at(17);
    let Some(expected) = resident_id_check_char(first) else {
        return false;
    };
    let given = check.chars().next().map(|c| c.to_ascii_uppercase());
    given == Some(expected) && is_birth_date(&first[6..14])
}

/// `YYYYMMDD` naming a real day (leap years count) with a plausible birth year.
pub fn is_birth_date(yyyymmdd: &str) -> bool {
    let num = |r: std::ops::Range<usize>| yyyymmdd.get(r).and_then(|s| s.parse::<u32>().ok());
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(4..6), num(6..8)) else {
        return false;
    };
    yyyymmdd.len() == 8 && (1900..=2099).contains(&y) && (1..=12).contains(&m) && {
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let days = match m {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        (1..=days).contains(&d)
    }
}

/// The Luhn check over ASCII digits.
pub fn luhn(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// 16 to 19 digits with a UnionPay (62), Visa (4) or Mastercard (51–55) prefix, passing Luhn.
pub fn is_bank_card(digits: &str) -> bool {
    let b = digits.as_bytes();
    (16..=19).contains(&b.len())
        && (digits.starts_with("62")
            || digits.starts_with('4')
            || (b[0] == b'5' && (b'1'..=b'5').contains(&b[1])))
        && luhn(digits)
}

/// 11 digits, `1[3-9]` then 9 more.
pub fn is_mobile(digits: &str) -> bool {
    let b = digits.as_bytes();
    b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
}

/// An SSN from its three groups: area 001–899 but not 666, group 01–99, serial 0001–9999.
pub fn is_ssn(area: &str, group: &str, serial: &str) -> bool {
    let num = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    match (num(area, 3), num(group, 2), num(serial, 4)) {
        (Some(a), Some(g), Some(s)) => (1..=899).contains(&a) && a != 666 && g >= 1 && s >= 1,
        _ => false,
    }
}

/// Dotted-decimal IPv4: four octets 0–255 without leading zeros.
pub fn is_ipv4(s: &str) -> bool {
    let mut n = 0;
    for part in s.split('.') {
        n += 1;
        let ok = !part.is_empty()
            && part.len() <= 3
            && part.bytes().all(|b| b.is_ascii_digit())
            && !(part.len() > 1 && part.starts_with('0'))
            && part.parse::<u16>().is_ok_and(|v| v <= 255);
        if !ok {
            return false;
        }
    }
    n == 4
}

/// RFC 4291 text form (with `::` compression and an embedded IPv4 tail), as the standard
/// library parses it, but with at least two groups so a lone `::` is not an address.
pub fn is_ipv6(s: &str) -> bool {
    s.len() > 2 && s.contains(':') && s.parse::<std::net::Ipv6Addr>().is_ok()
}
