//! Data-loss prevention: finding personal data in message text and masking or blocking it.
//!
//! [`DlpScanner`] finds Chinese resident ID numbers (GB 11643 check character, real birth
//! dates), mainland mobile numbers (with `+86`, `0086` or `86-`), bank card numbers (UnionPay,
//! Visa, Mastercard prefixes and Luhn), e-mail addresses (also with a full-width `＠`), IPv4 and
//! IPv6 addresses, US SSNs (issued ranges only) and configured extra patterns ([`CustomPattern`],
//! a name and a regular expression, e.g. a medical record number). It scans a normalised view
//! of the text ([`normalize`]), so values written with spaces or hyphens between their groups,
//! with full-width digits or with invisible characters inside are found too; offsets are
//! reported in code points of the original text. Validators keep look-alikes (order numbers,
//! timestamps, numbers failing a checksum) from being reported.
//!
//! [`DlpPolicy`] applies an action ([`DlpAction`]): `off`, `mask` (values are replaced in the
//! shape-keeping form of [`mask`]) or `block` ([`DomainError::DlpBlocked`], naming the
//! detectors). The org-wide policy comes from configuration; per-channel policies are to come.

mod detectors;
mod mask;
pub mod normalize;
pub mod validators;

#[cfg(test)]
mod tests;

use crate::error::DomainError;
use normalize::Normalized;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// What a finding is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DetectorKind {
    CnResidentId,
    CnMobile,
    BankCard,
    Email,
    IpAddress,
    UsSsn,
    /// A configured pattern, by its name.
    Custom(Arc<str>),
}

impl DetectorKind {
    /// The built-in detectors.
    pub const BUILT_IN: [DetectorKind; 6] = [
        DetectorKind::CnResidentId,
        DetectorKind::CnMobile,
        DetectorKind::BankCard,
        DetectorKind::Email,
        DetectorKind::IpAddress,
        DetectorKind::UsSsn,
    ];

    /// The stable name: `cn_resident_id`, `cn_mobile`, `bank_card`, `email`, `ip_address`,
    /// `us_ssn`, or a custom pattern's name.
    pub fn name(&self) -> &str {
        match self {
            DetectorKind::CnResidentId => "cn_resident_id",
            DetectorKind::CnMobile => "cn_mobile",
            DetectorKind::BankCard => "bank_card",
            DetectorKind::Email => "email",
            DetectorKind::IpAddress => "ip_address",
            DetectorKind::UsSsn => "us_ssn",
            DetectorKind::Custom(name) => name,
        }
    }

    /// Which of two overlapping findings of equal length wins (lower first).
    fn rank(&self) -> u8 {
        match self {
            DetectorKind::CnResidentId => 0,
            DetectorKind::BankCard => 1,
            DetectorKind::CnMobile => 2,
            DetectorKind::UsSsn => 3,
            DetectorKind::Email => 4,
            DetectorKind::IpAddress => 5,
            DetectorKind::Custom(_) => 6,
        }
    }
}

impl fmt::Display for DetectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One value found: its kind, its span in code points of the scanned text (`end` exclusive)
/// and the text of that span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub kind: DetectorKind,
    pub start: usize,
    pub end: usize,
    pub value: String,
}

/// An extra detector from configuration: a name and a regular expression (Rust `regex`
/// syntax), matched against the normalised text.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    pub name: String,
    pub regex: String,
}

/// What a policy does with a message containing findings (a wire type: channels show it).
pub use concord_proto::DlpAction;

/// Longest custom pattern name.
const MAX_NAME_CHARS: usize = 64;
/// Compiled size limit for one custom pattern.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The detectors, built once (custom patterns compiled) and shared.
#[derive(Debug, Default)]
pub struct DlpScanner {
    custom: Vec<(DetectorKind, regex::Regex)>,
}

impl DlpScanner {
    /// A scanner with the built-in detectors and `custom` patterns. Fails when a pattern's
    /// name is empty, too long, taken or not `[a-z0-9_-]`, or its expression does not compile.
    pub fn new(custom: &[CustomPattern]) -> Result<Self, DomainError> {
        const FIELD: &str = "dlp.custom_patterns";
        let mut compiled: Vec<(DetectorKind, regex::Regex)> = Vec::with_capacity(custom.len());
        for p in custom {
            let name = p.name.trim();
            let name_ok = !name.is_empty()
                && name.chars().count() <= MAX_NAME_CHARS
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
            if !name_ok {
                return Err(DomainError::invalid(
                    FIELD,
                    format!(
                        "pattern name {name:?} must be 1 to {MAX_NAME_CHARS} of a-z, 0-9, '_' and '-'"
                    ),
                ));
            }
            let taken = DetectorKind::BUILT_IN.iter().any(|k| k.name() == name)
                || compiled.iter().any(|(k, _)| k.name() == name);
            if taken {
                return Err(DomainError::invalid(
                    FIELD,
                    format!("pattern name {name:?} is used twice or by a built-in detector"),
                ));
            }
            let re = regex::RegexBuilder::new(&p.regex)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| DomainError::invalid(FIELD, format!("pattern {name:?}: {e}")))?;
            if re.is_match("") {
                return Err(DomainError::invalid(
                    FIELD,
                    format!("pattern {name:?} matches the empty string"),
                ));
            }
            compiled.push((DetectorKind::Custom(Arc::from(name)), re));
        }
        Ok(Self { custom: compiled })
    }

    /// Everything found in `text`, in order, without overlaps (of two overlapping matches the
    /// longer wins).
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        let n = Normalized::new(text);
        if n.is_empty() {
            return Vec::new();
        }
        let mut candidates = Vec::new();
        detectors::numbers(&n, &mut candidates);
        detectors::ipv4(&n, &mut candidates);
        detectors::ipv6(&n, &mut candidates);
        detectors::email(&n, &mut candidates);
        for (kind, re) in &self.custom {
            for m in re.find_iter(&n.text) {
                let (s, e) = (n.char_index(m.start()), n.char_index(m.end()));
                if s < e {
                    candidates.push(detectors::Candidate {
                        kind: kind.clone(),
                        start: s,
                        end: e,
                    });
                }
            }
        }
        candidates.sort_by(|a, b| {
            (b.end - b.start)
                .cmp(&(a.end - a.start))
                .then(a.kind.rank().cmp(&b.kind.rank()))
                .then(a.start.cmp(&b.start))
        });
        let mut chosen: Vec<detectors::Candidate> = Vec::new();
        for c in candidates {
            if chosen.iter().all(|k| c.end <= k.start || k.end <= c.start) {
                chosen.push(c);
            }
        }
        chosen.sort_by_key(|c| c.start);
        let chars: Vec<char> = text.chars().collect();
        chosen
            .into_iter()
            .map(|c| {
                let (start, end) = n.original_span(c.start, c.end);
                Finding {
                    kind: c.kind,
                    start,
                    end,
                    value: chars[start..end].iter().collect(),
                }
            })
            .collect()
    }

    /// `text` with every finding masked (see [`mask`]), and the findings (offsets into
    /// `text`). Scanning the masked text again finds nothing.
    pub fn mask(&self, text: &str) -> (String, Vec<Finding>) {
        let findings = self.scan(text);
        let mut masked = replace(text, &findings, mask::mask_value);
        // A custom pattern loose enough to match part of a masked value: mask whole values.
        for _ in 0..3 {
            let again = self.scan(&masked);
            if again.is_empty() {
                break;
            }
            masked = replace(&masked, &again, |_, span| {
                span.chars()
                    .map(|c| if c.is_alphanumeric() { '*' } else { c })
                    .collect()
            });
        }
        (masked, findings)
    }
}

/// `text` with each finding's span replaced by `f(kind, span)`.
fn replace(text: &str, findings: &[Finding], f: impl Fn(&DetectorKind, &str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    let mut chars = text.chars();
    for finding in findings {
        out.extend(chars.by_ref().take(finding.start.saturating_sub(pos)));
        let span: String = chars.by_ref().take(finding.end - finding.start).collect();
        out.push_str(&f(&finding.kind, &span));
        pos = finding.end;
    }
    out.extend(chars);
    out
}

/// An action and the scanner it uses; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct DlpPolicy {
    pub action: DlpAction,
    pub scanner: Arc<DlpScanner>,
}

impl DlpPolicy {
    pub fn new(action: DlpAction, scanner: Arc<DlpScanner>) -> Self {
        Self { action, scanner }
    }

    /// The text to store: unchanged when the action is `off` or nothing is found, masked
    /// under `mask`; under `block`, an error naming the detectors that fired.
    pub fn apply(&self, text: String) -> Result<String, DomainError> {
        match self.action {
            DlpAction::Off => Ok(text),
            DlpAction::Mask => {
                let (masked, findings) = self.scanner.mask(&text);
                Ok(if findings.is_empty() { text } else { masked })
            }
            DlpAction::Block => {
                let findings = self.scanner.scan(&text);
                if findings.is_empty() {
                    return Ok(text);
                }
                let mut detectors: Vec<String> = Vec::new();
                for f in findings {
                    if !detectors.iter().any(|d| d == f.kind.name()) {
                        detectors.push(f.kind.name().to_string());
                    }
                }
                Err(DomainError::DlpBlocked { detectors })
            }
        }
    }
}

/// [`DlpPolicy::apply`] as a function.
pub fn apply(policy: &DlpPolicy, text: &str) -> Result<String, DomainError> {
    policy.apply(text.to_string())
}
