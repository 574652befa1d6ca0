//! The built-in detectors. They run over the [`Normalized`] view and report spans in its
//! character offsets; [`super::DlpScanner`] maps them back and resolves overlaps.
//!
//! Numbers are found as runs of digits: a run, or several runs joined by one separator (the
//! same one throughout), is matched against each type's grouping (resident IDs 6-8-4, mobiles
//! 3-4-4, cards in fours, SSNs 3-2-4) and then checked with the type's validator, so look-alikes
//! that fail a checksum, a date or a range are never reported. IP addresses and e-mail
//! addresses are found as maximal tokens of the characters they may contain, trimmed of what
//! may legitimately touch them (a sentence's full stop, `mailto:`, brackets, a port).

use super::DetectorKind;
use super::normalize::Normalized;
use super::validators;

/// A match in normalised character offsets.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub kind: DetectorKind,
    pub start: usize,
    pub end: usize,
}

/// A maximal run of ASCII digits in the normalised text.
#[derive(Clone, Copy, Debug)]
struct Run {
    start: usize,
    end: usize,
}

impl Run {
    fn len(&self) -> usize {
        self.end - self.start
    }
}

fn is_sep(c: char) -> bool {
    c == ' ' || c == '-'
}

fn digit_runs(n: &Normalized) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < n.len() {
        if n.chars[i].is_ascii_digit() {
            let start = i;
            while i < n.len() && n.chars[i].is_ascii_digit() {
                i += 1;
            }
            runs.push(Run { start, end: i });
        } else {
            i += 1;
        }
    }
    runs
}

/// The runs from `i` joined by exactly one separator each, the same one throughout (at most
/// `max` runs).
fn chain(n: &Normalized, runs: &[Run], i: usize, max: usize) -> Vec<Run> {
    let mut out = vec![runs[i]];
    let mut sep: Option<char> = None;
    let mut j = i;
    while out.len() < max && j + 1 < runs.len() {
        let (a, b) = (runs[j], runs[j + 1]);
        let Some(c) = n.at(a.end) else { break };
        if b.start != a.end + 1 || !is_sep(c) || sep.is_some_and(|s| s != c) {
            break;
        }
        sep = Some(c);
        out.push(b);
        j += 1;
    }
    out
}

fn digits_of(n: &Normalized, runs: &[Run]) -> String {
    runs.iter()
        .flat_map(|r| n.chars[r.start..r.end].iter())
        .collect()
}

fn lens(runs: &[Run]) -> Vec<usize> {
    runs.iter().map(Run::len).collect()
}

/// Whether the character at `i` may follow a number: not a digit, and (after an ID's `X`)
/// not a letter either.
fn ends_cleanly(n: &Normalized, i: usize) -> bool {
    n.at(i).is_none_or(|c| !c.is_ascii_alphanumeric())
}

/// Resident IDs, mobiles, bank cards and SSNs.
pub fn numbers(n: &Normalized, out: &mut Vec<Candidate>) {
    let runs = digit_runs(n);
    for i in 0..runs.len() {
        let ch = chain(n, &runs, i, 5);
        resident_id(n, &ch, out);
        mobile(n, &runs, i, &ch, out);
        bank_card(n, &ch, out);
        ssn(n, &ch, out);
    }
}

fn push(out: &mut Vec<Candidate>, kind: DetectorKind, start: usize, end: usize) {
    out.push(Candidate { kind, start, end });
}

fn resident_id(n: &Normalized, ch: &[Run], out: &mut Vec<Candidate>) {
    let l = lens(ch);
    for groups in [1usize, 3] {
        if ch.len() < groups {
            continue;
        }
        let g = &ch[..groups];
        let last = g[groups - 1];
        let shape_full = if groups == 1 {
            l[0] == 18
        } else {
            l[..3] == [6, 8, 4]
        };
        let shape_x = if groups == 1 {
            l[0] == 17
        } else {
            l[..3] == [6, 8, 3]
        };
        let mut digits = digits_of(n, g);
        let mut end = last.end;
        if shape_x && matches!(n.at(last.end), Some('X' | 'x')) && ends_cleanly(n, last.end + 1) {
            digits.push('X');
            end += 1;
        } else if !shape_full {
            continue;
        }
        if validators::is_resident_id(&digits) {
            push(out, DetectorKind::CnResidentId, g[0].start, end);
        }
    }
}

fn mobile(n: &Normalized, runs: &[Run], i: usize, ch: &[Run], out: &mut Vec<Candidate>) {
    let l = lens(ch);
    let first = ch[0];
    let text = |r: Run| n.chars[r.start..r.end].iter().collect::<String>();
    let plus_before = |at: usize| n.before(at) == Some('+');
    // The country code written into the first group: `0086…` or `+86…`.
    let attached = {
        let t = text(first);
        if t.starts_with("0086") {
            4
        } else if t.starts_with("86") && plus_before(first.start) {
            2
        } else {
            0
        }
    };
    let mut found = |start_digit: usize, groups: usize| {
        let g = &ch[..groups];
        let digits: String = digits_of(n, g).chars().skip(start_digit).collect();
        if !validators::is_mobile(&digits) {
            return;
        }
        let mut start = first.start;
        if start_digit == 0 {
            start = separate_prefix(n, runs, i).unwrap_or(start);
        } else if plus_before(first.start) {
            start -= 1;
        }
        push(out, DetectorKind::CnMobile, start, g[groups - 1].end);
    };
    if l[0] == 11 {
        found(0, 1);
    }
    if attached > 0 && l[0] == 11 + attached {
        found(attached, 1);
    }
    if l.len() >= 3 && l[1..3] == [4, 4] {
        if l[0] == 3 {
            found(0, 3);
        } else if attached > 0 && l[0] == 3 + attached {
            found(attached, 3);
        }
    }
}

/// Where a country prefix written before the mobile at run `i` starts: `+86`, `0086` or `86-`,
/// followed by a space or a hyphen (for `86-`, the hyphen itself).
fn separate_prefix(n: &Normalized, runs: &[Run], i: usize) -> Option<usize> {
    let prev = runs.get(i.checked_sub(1)?)?;
    let start = runs[i].start;
    let sep = n.before(start)?;
    if prev.end + 1 != start || !is_sep(sep) {
        return None;
    }
    let t: String = n.chars[prev.start..prev.end].iter().collect();
    match t.as_str() {
        "0086" => Some(prev.start),
        "86" if n.before(prev.start) == Some('+') => Some(prev.start - 1),
        "86" if sep == '-' => Some(prev.start),
        _ => None,
    }
}

fn bank_card(n: &Normalized, ch: &[Run], out: &mut Vec<Candidate>) {
    let l = lens(ch);
    let mut try_groups = |groups: usize| {
        let digits = digits_of(n, &ch[..groups]);
        if validators::is_bank_card(&digits) && !validators::is_resident_id(&digits) {
            push(out, DetectorKind::BankCard, ch[0].start, ch[groups - 1].end);
        }
    };
    if (16..=19).contains(&l[0]) {
        try_groups(1);
    }
    if l.len() >= 4 && l[..4] == [4, 4, 4, 4] {
        try_groups(4);
        if l.len() >= 5 && (1..=3).contains(&l[4]) {
            try_groups(5);
        }
    }
}

fn ssn(n: &Normalized, ch: &[Run], out: &mut Vec<Candidate>) {
    let l = lens(ch);
    if l.len() >= 3 && l[..3] == [3, 2, 4] {
        let part = |r: Run| n.chars[r.start..r.end].iter().collect::<String>();
        if validators::is_ssn(&part(ch[0]), &part(ch[1]), &part(ch[2])) {
            push(out, DetectorKind::UsSsn, ch[0].start, ch[2].end);
        }
    }
}

/// Maximal tokens of characters satisfying `part`.
fn tokens(n: &Normalized, part: impl Fn(char) -> bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < n.len() {
        if part(n.chars[i]) {
            let start = i;
            while i < n.len() && part(n.chars[i]) {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

/// Dotted-decimal IPv4 addresses that are not part of a longer dotted number.
pub fn ipv4(n: &Normalized, out: &mut Vec<Candidate>) {
    for (mut s, mut e) in tokens(n, |c| c.is_ascii_digit() || c == '.') {
        while s < e && n.chars[s] == '.' {
            s += 1;
        }
        while e > s && n.chars[e - 1] == '.' {
            e -= 1;
        }
        let t: String = n.chars[s..e].iter().collect();
        if validators::is_ipv4(&t) {
            push(out, DetectorKind::IpAddress, s, e);
        }
    }
}

/// IPv6 addresses in RFC 4291 text form.
pub fn ipv6(n: &Normalized, out: &mut Vec<Candidate>) {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    for (mut s, mut e) in tokens(n, |c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
        if !n.chars[s..e].contains(&':') {
            continue;
        }
        // Starting inside a word (`Database:fe80::1`): the address starts after a colon.
        if word(n.before(s)) {
            let Some(colon) = n.chars[s..e].iter().position(|&c| c == ':') else {
                continue;
            };
            s += colon;
        }
        // Ending inside a word: drop the partial group.
        if word(n.at(e)) {
            let Some(colon) = n.chars[s..e].iter().rposition(|&c| c == ':') else {
                continue;
            };
            e = s + colon + 1;
        }
        while e > s && n.chars[e - 1] == '.' {
            e -= 1;
        }
        if e > s + 1 && n.chars[e - 1] == ':' && n.chars[e - 2] != ':' {
            e -= 1;
        }
        if e > s + 1 && n.chars[s] == ':' && n.chars[s + 1] != ':' {
            s += 1;
        }
        if s >= e {
            continue;
        }
        let t: String = n.chars[s..e].iter().collect();
        if validators::is_ipv6(&t) {
            push(out, DetectorKind::IpAddress, s, e);
        }
    }
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.'
}

/// E-mail addresses (`@` may be full-width; folded already).
pub fn email(n: &Normalized, out: &mut Vec<Candidate>) {
    for (at, &c) in n.chars.iter().enumerate() {
        if c != '@' {
            continue;
        }
        let mut s = at;
        while s > 0 && is_local_char(n.chars[s - 1]) {
            s -= 1;
        }
        while s < at && n.chars[s] == '.' {
            s += 1;
        }
        if s == at {
            continue;
        }
        let mut e = at + 1;
        while e < n.len() && is_domain_char(n.chars[e]) {
            e += 1;
        }
        // Trailing dots and hyphens are punctuation, not part of the domain.
        while e > at + 1 && matches!(n.chars[e - 1], '.' | '-') {
            e -= 1;
        }
        let domain: String = n.chars[at + 1..e].iter().collect();
        let labels: Vec<&str> = domain.split('.').collect();
        let last = labels.last().copied().unwrap_or_default();
        let ok = labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty())
            && last.len() >= 2
            && last.bytes().all(|b| b.is_ascii_alphabetic());
        if ok {
            push(out, DetectorKind::Email, s, e);
        }
    }
}
