//! Identifier newtypes. Ids are opaque positive integers on the wire.

use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = i64, format = Int64, minimum = 1)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A channel: public, private, DM or group DM.
    ChannelId
);
id_type!(
    /// A message, unique across channels.
    MessageId
);

id_type!(
    /// A department in the organisation's tree.
    DepartmentId
);
id_type!(
    /// A role: a named set of permissions.
    RoleId
);
id_type!(
    /// One grant of a role to a user or a department, at a scope.
    AssignmentId
);
id_type!(
    /// An installed app (integration), with its bot account and token.
    AppId
);

id_type!(
    /// An uploaded file (all its versions), in one channel.
    FileId
);
id_type!(
    /// A comment on a version of a file.
    FileCommentId
);

/// A position in the durable event log: strictly increasing, shared by all channels.
/// Clients remember the last one they saw and give it back when they reconnect.
pub type Position = i64;
