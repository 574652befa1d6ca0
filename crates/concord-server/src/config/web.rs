//! The `[web]` section: org-wide settings of the embedded web client, handed to signed-in
//! clients by `GET /api/v1/client-settings`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Tile a faint watermark of the viewer's display name and user id over the chat area,
    /// so a screenshot or photo of the screen names who took it.
    pub watermark: bool,
}
