//! Compliance exports: what an officer asks for. The answer is a zip archive, not JSON.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a compliance export covers: messages, edits, deletions, reactions and files of the
/// given channels and/or people (at least one of either; both narrow each other), created in
/// `[from, to)`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplianceExportRequest {
    /// Channels to export (empty: every channel the people below wrote in).
    #[serde(default)]
    pub channel_ids: Vec<i64>,
    /// Senders and uploaders to export (empty: everyone in the channels above).
    #[serde(default)]
    pub user_ids: Vec<i64>,
    /// Inclusive lower bound on message creation and upload time (RFC 3339).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    /// Exclusive upper bound (RFC 3339).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub to: Option<Timestamp>,
    /// Put the files' contents in the archive (their metadata is always there).
    #[serde(default)]
    pub include_files: bool,
}
