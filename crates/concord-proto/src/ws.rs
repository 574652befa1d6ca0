//! WebSocket frames. Every frame is one JSON text message with a `type`.

use crate::event::Event;
use crate::ids::{ChannelId, MessageId, Position, UserId};
use crate::model::Message;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Frames the server sends.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame. `position` is where the live stream starts; events up to it that the client
    /// missed (when it gave `since`) were sent before this frame.
    Hello {
        user_id: UserId,
        position: Position,
        replayed: i64,
    },
    /// An event. Durable events carry `position`; ephemeral ones (typing, presence) do not.
    Event {
        position: Option<Position>,
        #[schema(value_type = Option<String>, format = DateTime)]
        at: Option<Timestamp>,
        event: Event,
    },
    /// The client's `since` is older than the retained log: refetch state over REST, then
    /// continue from `position`.
    ResyncRequired {
        position: Position,
    },
    /// A send was committed.
    Ack {
        request_id: Option<String>,
        message: Message,
    },
    /// A client frame was refused.
    Error {
        request_id: Option<String>,
        code: String,
        message: String,
    },
    Pong,
}

/// Frames the client sends.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Send {
        request_id: Option<String>,
        channel_id: ChannelId,
        text: String,
        client_msg_id: Option<String>,
        thread_root_id: Option<MessageId>,
    },
    Typing {
        channel_id: ChannelId,
        thread_root_id: Option<MessageId>,
    },
    /// Follow these users' presence (replaces the previous set; at most 1,000). The server
    /// answers with their current status, then sends changes.
    PresenceSubscribe {
        user_ids: Vec<UserId>,
    },
    Ping,
}
