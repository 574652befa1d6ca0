//! Input rules for names, texts and keys, shared by every entry point (REST, WebSocket, CLI).

use crate::error::DomainError;

/// Usernames: 2 to 32 of `a-z 0-9 . _ -`, starting with a letter or digit; stored lowercase.
pub fn username(raw: &str) -> Result<String, DomainError> {
    let name = raw.trim().to_lowercase();
    let len = name.chars().count();
    if !(2..=32).contains(&len) {
        return Err(DomainError::invalid(
            "username",
            "must be 2 to 32 characters",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
    {
        return Err(DomainError::invalid(
            "username",
            "may contain only a-z, 0-9, '.', '_' and '-'",
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(DomainError::invalid(
            "username",
            "must start with a letter or digit",
        ));
    }
    if matches!(name.as_str(), "channel" | "here" | "all" | "everyone") {
        return Err(DomainError::invalid("username", "is reserved for mentions"));
    }
    Ok(name)
}

/// Emails are checked for shape only; stored lowercase.
pub fn email(raw: &str) -> Result<String, DomainError> {
    let e = raw.trim().to_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(e)
    } else {
        Err(DomainError::invalid("email", "is not a valid address"))
    }
}

pub fn password(raw: &str) -> Result<(), DomainError> {
    let len = raw.chars().count();
    if len < 8 {
        return Err(DomainError::invalid(
            "password",
            "must be at least 8 characters",
        ));
    }
    if raw.len() > 1024 {
        return Err(DomainError::invalid(
            "password",
            "must be at most 1024 bytes",
        ));
    }
    Ok(())
}

/// A single-line label (display names, channel names): trimmed, no control characters.
pub fn label(field: &'static str, raw: &str, max_chars: usize) -> Result<String, DomainError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if s.chars().count() > max_chars {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(s.to_string())
}

/// Free text that may be empty (topic, purpose).
pub fn optional_text(
    field: &'static str,
    raw: &str,
    max_chars: usize,
) -> Result<String, DomainError> {
    if raw.chars().count() > max_chars {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    if raw.chars().any(|c| c.is_control() && c != '\n') {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(raw.trim().to_string())
}

/// A message body: not blank, at most `max_chars`, no NUL or other control characters
/// besides newline and tab.
pub fn message_text(raw: &str, max_chars: usize) -> Result<String, DomainError> {
    if raw.trim().is_empty() {
        return Err(DomainError::invalid("text", "must not be empty"));
    }
    if raw.chars().count() > max_chars {
        return Err(DomainError::MessageTooLong { max: max_chars });
    }
    if raw
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(DomainError::invalid(
            "text",
            "must not contain control characters",
        ));
    }
    Ok(raw.to_string())
}

/// Idempotency keys: 1 to 64 visible ASCII characters.
pub fn client_msg_id(raw: &str) -> Result<String, DomainError> {
    if raw.is_empty() || raw.len() > 64 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::invalid(
            "client_msg_id",
            "must be 1 to 64 visible ASCII characters",
        ));
    }
    Ok(raw.to_string())
}

/// Reactions: a shortcode (`thumbsup`, `+1`) or an emoji, at most 64 bytes, no spaces.
pub fn emoji(raw: &str) -> Result<String, DomainError> {
    let e = raw.trim_matches(':');
    if e.is_empty()
        || e.len() > 64
        || e.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ':')
    {
        return Err(DomainError::invalid(
            "emoji",
            "must be a shortcode or an emoji of at most 64 bytes",
        ));
    }
    Ok(e.to_string())
}

/// Sequence numbers and ids given by clients must not be negative.
pub fn non_negative(field: &'static str, v: i64) -> Result<i64, DomainError> {
    if v < 0 {
        Err(DomainError::invalid(field, "must not be negative"))
    } else {
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(username(" Alice ").unwrap(), "alice");
        assert!(username("a").is_err());
        assert!(username("has space").is_err());
        assert!(username("_lead").is_err());
        assert!(username("here").is_err());
        assert_eq!(username("li.wei-2").unwrap(), "li.wei-2");
    }

    #[test]
    fn message_texts() {
        assert!(message_text("   ", 10).is_err());
        assert!(matches!(
            message_text("12345678901", 10),
            Err(DomainError::MessageTooLong { max: 10 })
        ));
        assert_eq!(message_text("你好世界", 4).unwrap(), "你好世界");
        assert!(message_text("a\u{0}b", 10).is_err());
        assert!(message_text("line\nline", 10).is_ok());
    }

    #[test]
    fn emails_and_emoji() {
        assert_eq!(email("A@Example.com").unwrap(), "a@example.com");
        assert!(email("nope").is_err());
        assert!(email("a@b").is_err());
        assert_eq!(emoji(":thumbsup:").unwrap(), "thumbsup");
        assert_eq!(emoji("👍").unwrap(), "👍");
        assert!(emoji("two words").is_err());
    }

    #[test]
    fn client_msg_ids() {
        assert!(client_msg_id("abc-123").is_ok());
        assert!(client_msg_id("").is_err());
        assert!(client_msg_id(&"x".repeat(65)).is_err());
        assert!(client_msg_id("sp ace").is_err());
    }
}
