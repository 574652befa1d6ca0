//! The app scope catalogue: what an app token may be used for. An admin grants scopes when
//! installing an app; every endpoint declares the scope it needs (the server's table in
//! `routes/app_scopes.rs`, the gateway for WebSocket frames), and [`crate::authz`] checks it.
//!
//! Scopes narrow what the bot account may do, never widen it: a bot with `messages:read` reads
//! only the channels its bot user may read. The one exception is named in the catalogue: a
//! scope may carry a permission of its own (`permissions:check` carries `permission.check`),
//! which only an installer holding that permission can grant.

use crate::org::perm;

pub const CHANNELS_READ: &str = "channels:read";
pub const CHANNELS_WRITE: &str = "channels:write";
pub const MESSAGES_READ: &str = "messages:read";
pub const MESSAGES_WRITE: &str = "messages:write";
pub const USERS_READ: &str = "users:read";
pub const ORG_READ: &str = "org:read";
pub const PERMISSIONS_CHECK: &str = "permissions:check";
pub const FILES_READ: &str = "files:read";
pub const FILES_WRITE: &str = "files:write";

/// One scope of the catalogue.
#[derive(Clone, Copy, Debug)]
pub struct ScopeInfo {
    pub name: &'static str,
    pub description: &'static str,
    /// A permission the scope carries for the app (granted only by an installer holding it).
    pub carries: Option<&'static str>,
}

pub const CATALOGUE: &[ScopeInfo] = &[
    ScopeInfo {
        name: CHANNELS_READ,
        description: "See the channels the bot is in, public channels, and their members",
        carries: None,
    },
    ScopeInfo {
        name: CHANNELS_WRITE,
        description: "Create, join, leave and change channels; invite and remove members; open DMs",
        carries: None,
    },
    ScopeInfo {
        name: MESSAGES_READ,
        description: "Read and search messages where the bot may read, and open the event stream",
        carries: None,
    },
    ScopeInfo {
        name: MESSAGES_WRITE,
        description: "Send, edit and delete the bot's messages; react, pin, mark read, type",
        carries: None,
    },
    ScopeInfo {
        name: USERS_READ,
        description: "Read people's name cards and profiles",
        carries: None,
    },
    ScopeInfo {
        name: ORG_READ,
        description: "Read departments, roles, role assignments and the permission catalogue",
        carries: None,
    },
    ScopeInfo {
        name: FILES_READ,
        description: "List and download files, thumbnails, versions and comments where the bot may read",
        carries: None,
    },
    ScopeInfo {
        name: FILES_WRITE,
        description: "Upload files and new versions, comment on them, rename or delete the bot's files",
        carries: None,
    },
    ScopeInfo {
        name: PERMISSIONS_CHECK,
        description: "Ask whether a person holds a permission in a department",
        carries: Some(perm::PERMISSION_CHECK),
    },
];

/// The catalogue's entry for `name`.
pub fn lookup(name: &str) -> Option<&'static ScopeInfo> {
    CATALOGUE.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_shaped_resource_colon_verb() {
        let mut names: Vec<_> = CATALOGUE.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len());
        for n in names {
            let (resource, verb) = n.split_once(':').expect("resource:verb");
            assert!(!resource.is_empty() && !verb.is_empty(), "{n}");
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == ':'), "{n}");
        }
    }

    #[test]
    fn lookup_finds_only_catalogued_scopes() {
        assert_eq!(
            lookup("messages:write").map(|s| s.name),
            Some(MESSAGES_WRITE)
        );
        assert!(lookup("messages:admin").is_none());
        assert_eq!(
            lookup(PERMISSIONS_CHECK).and_then(|s| s.carries),
            Some(perm::PERMISSION_CHECK)
        );
    }
}
