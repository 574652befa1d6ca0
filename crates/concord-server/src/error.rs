//! The HTTP error type and the one place where errors become statuses and stable codes.
//!
//! What the client reads (`code`, `message`) is separate from what is logged: internal causes
//! (store failures) are logged here once and never shown.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use concord_core::DomainError;
use concord_proto::ErrorBody;
use std::time::Duration;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_query", message)
    }

    pub fn rate_limited(wait: Duration) -> Self {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "rate_limited",
            message: format!("too many requests; retry in {} s", secs.max(1)),
            retry_after: Some(Duration::from_secs(secs.max(1))),
        }
    }

    pub fn not_found_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
    }
}

impl From<crate::files::FileError> for ApiError {
    fn from(e: crate::files::FileError) -> Self {
        use crate::files::FileError as F;
        use crate::files::blobs::BlobError as B;
        use concord_media::MediaError as M;
        let message = e.to_string();
        let (status, code) = match &e {
            F::Blob(B::TooLarge { .. }) => (StatusCode::PAYLOAD_TOO_LARGE, "file_too_large"),
            F::Blob(B::Empty) => (StatusCode::BAD_REQUEST, "empty_file"),
            F::Blob(B::Interrupted(_)) => (StatusCode::BAD_REQUEST, "upload_interrupted"),
            F::Blob(B::NotFound) => {
                tracing::error!(error = %e, "file content is missing from the blob store");
                (StatusCode::NOT_FOUND, "content_missing")
            }
            F::Blob(B::Store(cause)) => {
                tracing::error!(error = %cause, "blob store failure");
                return Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "file storage is unavailable; retry later",
                );
            }
            F::Media(M::InputTooLarge { .. }) | F::TooLargeToProcess(..) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "too_large_to_process")
            }
            F::Media(M::DimensionsTooLarge { .. }) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "image_too_large")
            }
            F::Media(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable_file"),
            F::NoWatermarkFont(_) => (StatusCode::SERVICE_UNAVAILABLE, "watermark_unavailable"),
            F::NoPreview => (StatusCode::NOT_FOUND, "no_preview"),
        };
        Self::new(status, code, message)
    }
}

impl From<crate::export::ExportError> for ApiError {
    fn from(e: crate::export::ExportError) -> Self {
        use crate::export::ExportError as X;
        match e {
            X::Store(e) => DomainError::from(e).into(),
            X::Io(_) | X::Blob(_) => {
                tracing::error!(error = %e, "an export failed");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "export_failed",
                    "the export could not be written; retry later",
                )
            }
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let message = e.to_string();
        let (status, code) = match &e {
            DomainError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            DomainError::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            DomainError::AccountLocked { retry_after_secs } => {
                let mut e = Self::new(StatusCode::LOCKED, "account_locked", message);
                e.retry_after = Some(Duration::from_secs((*retry_after_secs).max(1)));
                return e;
            }
            DomainError::MfaEnrolmentRequired => (StatusCode::FORBIDDEN, "mfa_enrolment_required"),
            DomainError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            DomainError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            DomainError::MissingPermission(_) => (StatusCode::FORBIDDEN, "forbidden"),
            DomainError::MissingScope(_) => (StatusCode::FORBIDDEN, "missing_scope"),
            DomainError::SessionOnly => (StatusCode::FORBIDDEN, "session_only"),
            DomainError::Invalid { .. } => (StatusCode::BAD_REQUEST, "invalid_input"),
            DomainError::MessageTooLong { .. } => (StatusCode::BAD_REQUEST, "message_too_long"),
            DomainError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            DomainError::DlpBlocked { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "dlp_blocked"),
            DomainError::Unavailable(cause) => {
                tracing::error!(%cause, "request failed: store unavailable");
                return Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the server cannot reach its storage right now; retry later",
                );
            }
        };
        Self::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, Json(ErrorBody::new(self.code, self.message))).into_response();
        if let Some(wait) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&wait.as_secs().to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The error responses an endpoint may give, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum ApiErrors {
    /// Malformed JSON, wrong types, invalid values (`invalid_input`, `malformed_json`, `message_too_long`, ...).
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// Missing, expired or revoked token (`unauthenticated`).
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Authenticated but not allowed (`forbidden`; for app tokens `missing_scope` or
    /// `session_only`).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Unknown id, or a resource the caller may not know exists (`not_found`).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// Clashes with existing state (`conflict`).
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// Body over the configured limit (`payload_too_large`).
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
    /// Body is not JSON (`unsupported_media_type`).
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// The data-loss prevention policy blocked the text (`dlp_blocked`); the message names the
    /// detectors that fired (`cn_resident_id`, `email`, ...) and nothing was stored.
    #[response(status = 422)]
    UnprocessableEntity(ErrorBody),
    /// Too many failed logins: the account is locked for a cool-down (`account_locked`); see
    /// the `Retry-After` header.
    #[response(status = 423)]
    Locked(ErrorBody),
    /// Rate limit hit (`rate_limited`); see the `Retry-After` header.
    #[response(status = 429)]
    TooManyRequests(ErrorBody),
    /// Storage unreachable or server at capacity (`unavailable`).
    #[response(status = 503)]
    Unavailable(ErrorBody),
}
