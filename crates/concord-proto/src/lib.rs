//! Wire types of the Concord API: what travels over REST and WebSocket.
//!
//! Shared by the server, the load generator and (later) the SDK; the web client's TypeScript
//! types mirror these. Everything here is plain data with serde and OpenAPI schemas: no I/O,
//! no validation rules (those live in `concord-core`).

pub mod apps;
pub mod error;
pub mod event;
// Compliance exports.
pub mod export;
pub use export::ComplianceExportRequest;
pub mod files;
pub mod geo;
pub mod ids;
pub mod model;
pub mod org;
pub mod requests;
pub mod retention;
pub mod rules;
pub mod search;
pub mod ws;

pub use apps::{App, AppScope, AppWithToken, InstallAppRequest};
pub use error::{ErrorBody, ErrorDetail};
pub use event::{Event, PresenceStatus, StoredEvent};
pub use files::{
    ChannelFilePolicy, FileComment, FileInfo, FileLink, FileLinkRequest, FilePage, FilePageParams,
    FileReadParams, FileRef, FileVersion, NewFileCommentRequest, UpdateFileRequest, UploadParams,
};
pub use geo::{Geofence, LocationReport};
pub use ids::{
    AppId, AssignmentId, ChannelId, DepartmentId, FileCommentId, FileId, MessageId, Position,
    RoleId, UserId,
};
pub use model::*;
pub use org::*;
pub use requests::*;
pub use retention::*;
pub use rules::MembershipRule;
pub use search::{
    ImportProblem, ImportSummary, ReindexState, ReindexStatus, SearchHit, SearchHitKind,
    SearchKind, SearchPage, SearchQuery, SearchSort, SnippetPart,
};
pub use ws::{ClientFrame, ServerFrame};
