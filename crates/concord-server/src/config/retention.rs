//! The `[retention]` section: how often the retention job runs and how much one run deletes.
//! The policies themselves (org default, per channel type, per channel) are data, set through
//! the admin API.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Seconds between scheduled runs; 0 turns the schedule off (`concord retention run`
    /// and `POST /api/v1/retention/run` still work).
    pub interval_secs: u64,
    /// Most messages one run deletes (in one transaction); the next run continues.
    pub max_messages_per_run: usize,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            interval_secs: 3600,
            max_messages_per_run: 50_000,
        }
    }
}

impl RetentionConfig {
    pub(super) fn validate(&self) -> Result<(), String> {
        if self.interval_secs != 0 && self.interval_secs < 60 {
            return Err("retention.interval_secs must be 0 (off) or at least 60".into());
        }
        if !(1..=1_000_000).contains(&self.max_messages_per_run) {
            return Err("retention.max_messages_per_run must be 1 to 1000000".into());
        }
        Ok(())
    }
}
