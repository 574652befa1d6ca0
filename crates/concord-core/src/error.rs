//! The domain's error type: named cases that the HTTP layer maps to statuses in one place.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid login or password")]
    BadCredentials,
    /// Too many failed logins in a row: the account is locked for a cool-down.
    #[error("too many failed logins: this account is locked; try again in {retry_after_secs} s")]
    AccountLocked { retry_after_secs: u64 },
    /// The session may only enrol a second factor (the organisation requires one).
    #[error(
        "your organisation requires a second factor: enrol one at /api/v1/users/me/mfa/totp, then sign in again"
    )]
    MfaEnrolmentRequired,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error("not allowed: requires the permission {0}")]
    MissingPermission(String),
    /// An app token without the scope the operation declares.
    #[error("not allowed: the app token lacks the scope {0}")]
    MissingScope(&'static str),
    /// The operation is for people signed in, not for app tokens.
    #[error("not allowed: this endpoint is not available to app tokens")]
    SessionOnly,
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("message is longer than {max} characters")]
    MessageTooLong { max: usize },
    #[error("{0}")]
    Conflict(String),
    #[error("storage is unavailable")]
    Unavailable(String),
    /// The data-loss prevention policy refused the text; `detectors` names what was found
    /// (`cn_resident_id`, `email`, a custom pattern's name, ...), never the values.
    #[error(
        "blocked by the data-loss prevention policy: the text contains {}; remove it and try again",
        .detectors.join(", ")
    )]
    DlpBlocked { detectors: Vec<String> },
}

impl DomainError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => DomainError::NotFound(what),
            StoreError::Conflict(what) => DomainError::Conflict(what),
            StoreError::Unavailable(why) => DomainError::Unavailable(why),
        }
    }
}
