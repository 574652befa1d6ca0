//! Wire types of the Concord API: what travels over REST and WebSocket.
//!
//! Shared by the server, the load generator and (later) the SDK; the web client's TypeScript
//! types mirror these. Everything here is plain data with serde and OpenAPI schemas: no I/O,
//! no validation rules (those live in `concord-core`).

pub mod error;
pub mod event;
pub mod ids;
pub mod model;
pub mod requests;
pub mod ws;

pub use error::{ErrorBody, ErrorDetail};
pub use event::{Event, PresenceStatus, StoredEvent};
pub use ids::{ChannelId, MessageId, Position, UserId};
pub use model::*;
pub use requests::*;
pub use ws::{ClientFrame, ServerFrame};
