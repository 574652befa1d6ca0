//! Files: uploads into a channel, their versions (revision history), comments on a version,
//! and the references messages carry to them.

use crate::ids::{ChannelId, FileCommentId, FileId, UserId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A file as a message shows it: enough to render an attachment without another request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileRef {
    pub id: FileId,
    pub name: String,
    /// Detected from the content, not the name.
    pub mime: String,
    pub size: i64,
    /// The version current when the message was read.
    pub version: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

/// A file with its current version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileInfo {
    pub id: FileId,
    pub channel_id: ChannelId,
    /// The name shown and offered on download (made safe on upload).
    pub name: String,
    pub mime: String,
    pub size: i64,
    /// SHA-256 of the current version's content, hex.
    pub sha256: String,
    /// The current version number (1 for the first upload).
    pub version: i64,
    /// Marked sensitive itself (downloads are then watermarked and audited). The channel can
    /// also make all its files sensitive: see `effective_sensitive`.
    pub sensitive: bool,
    /// Whether downloads are treated as sensitive (the file's flag or its channel's).
    pub effective_sensitive: bool,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub created_by: UserId,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl FileInfo {
    pub fn as_ref(&self) -> FileRef {
        FileRef {
            id: self.id,
            name: self.name.clone(),
            mime: self.mime.clone(),
            size: self.size,
            version: self.version,
            width: self.width,
            height: self.height,
        }
    }
}

/// One version in a file's revision history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileVersion {
    pub version: i64,
    pub size: i64,
    pub mime: String,
    pub sha256: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub uploaded_by: UserId,
    #[schema(value_type = String, format = DateTime)]
    pub uploaded_at: Timestamp,
    /// What changed, in the uploader's words.
    pub comment: Option<String>,
    /// Set when this version restored an earlier one.
    pub restored_from: Option<i64>,
}

/// A comment on one version of a file; `@username` mentions notify those channel members.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileComment {
    pub id: FileCommentId,
    pub file_id: FileId,
    pub version: i64,
    pub author_id: UserId,
    pub text: String,
    pub mentions: Vec<UserId>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// Upload parameters (the body is the raw file content).
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The file's name as the user sees it; path components and control characters are
    /// removed.
    pub name: Option<String>,
    /// A note on this version (revision history).
    pub comment: Option<String>,
    /// Mark the file sensitive (watermarked, audited downloads).
    pub sensitive: Option<bool>,
}

/// Which version to read, and (for links) what the link fetches.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileReadParams {
    /// A version number; the current one when absent.
    pub version: Option<i64>,
    /// `inline` to display in the browser (images and PDFs only); otherwise a download.
    pub disposition: Option<String>,
    /// A signed link's expiry (Unix seconds); with `viewer` and `sig`, instead of a token.
    pub exp: Option<i64>,
    pub viewer: Option<i64>,
    pub sig: Option<String>,
}

/// Asks for an expiring link to a file's content, thumbnail or phone rendition.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileLinkRequest {
    /// `content` (default), `thumbnail` or `preview`.
    pub variant: Option<String>,
    pub version: Option<i64>,
}

/// A link that works without a token until `expires_at`, only for the user it was made for.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FileLink {
    /// A path under the server's origin, e.g. `/api/v1/files/7/content?...`.
    pub url: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

/// Renames a file or changes its sensitive flag.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFileRequest {
    pub name: Option<String>,
    pub sensitive: Option<bool>,
}

/// A comment on a version (the current one when `version` is absent).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFileCommentRequest {
    pub text: String,
    pub version: Option<i64>,
}

/// A channel's file policy: when `sensitive`, every file in it is treated as sensitive.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelFilePolicy {
    pub sensitive: bool,
}

/// A page of a channel's files, newest first.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FilePage {
    pub files: Vec<FileInfo>,
    /// Pass as `before` for the next (older) page.
    pub next_before: Option<FileId>,
}

/// Paging through a channel's files.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilePageParams {
    pub before: Option<i64>,
    pub limit: Option<i64>,
}
