//! Retention rules, pure: which policy governs a channel (the most specific one set wins:
//! the channel's own, then its type's, then the org default; none means keep forever) and
//! when its messages expire.
//!
//! Boundary: a message expires when it is exactly `keep_days` old. With `cutoff = now -
//! keep_days`, a message created at or before `cutoff` is deleted; one created a millisecond
//! after it stays.
//!
//! Message retention never touches the audit log: its entries (policy changes, holds, runs)
//! outlive the messages they describe. Nothing prunes the audit log; if something ever does,
//! it must keep at least 180 days (MLPS level 3).

use crate::store::RetentionPolicyRecord;
use concord_proto::{ChannelId, ChannelKind, RetentionScope};
use jiff::{SignedDuration, Timestamp};

/// The longest policy accepted: 100 years.
pub const MAX_KEEP_DAYS: i64 = 36_500;

/// The stored key of a scope.
pub fn scope_key(scope: RetentionScope, channel: Option<ChannelId>) -> Option<String> {
    Some(match (scope, channel) {
        (RetentionScope::Org, None) => "org".into(),
        (RetentionScope::Public, None) => "public".into(),
        (RetentionScope::Private, None) => "private".into(),
        (RetentionScope::Dm, None) => "dm".into(),
        (RetentionScope::Channel, Some(c)) => format!("channel:{}", c.0),
        _ => return None,
    })
}

/// The scope a stored key names.
pub fn parse_scope_key(key: &str) -> Option<(RetentionScope, Option<ChannelId>)> {
    Some(match key {
        "org" => (RetentionScope::Org, None),
        "public" => (RetentionScope::Public, None),
        "private" => (RetentionScope::Private, None),
        "dm" => (RetentionScope::Dm, None),
        _ => {
            let id = key.strip_prefix("channel:")?.parse().ok()?;
            (RetentionScope::Channel, Some(ChannelId(id)))
        }
    })
}

fn kind_key(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Public => "public",
        ChannelKind::Private => "private",
        ChannelKind::Dm | ChannelKind::GroupDm => "dm",
    }
}

/// Days a channel's messages are kept, or `None` for forever.
pub fn keep_days_for(
    policies: &[RetentionPolicyRecord],
    channel: ChannelId,
    kind: ChannelKind,
) -> Option<i64> {
    let find = |key: &str| policies.iter().find(|p| p.scope == key);
    find(&format!("channel:{}", channel.0))
        .or_else(|| find(kind_key(kind)))
        .or_else(|| find("org"))
        .and_then(|p| p.keep_days)
}

/// Messages created at or before the returned instant have expired.
pub fn cutoff(now: Timestamp, keep_days: i64) -> Timestamp {
    now.checked_sub(SignedDuration::from_hours(keep_days.saturating_mul(24)))
        .unwrap_or(Timestamp::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(scope: &str, keep_days: Option<i64>) -> RetentionPolicyRecord {
        RetentionPolicyRecord {
            scope: scope.into(),
            keep_days,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_most_specific_policy_wins_and_forever_counts_as_set() {
        let finance = ChannelId(9);
        let general = ChannelId(1);
        let mut policies = vec![];
        assert_eq!(keep_days_for(&policies, general, ChannelKind::Public), None);
        policies.push(policy("org", Some(30)));
        assert_eq!(
            keep_days_for(&policies, general, ChannelKind::Public),
            Some(30)
        );
        policies.push(policy("private", Some(90)));
        policies.push(policy("channel:9", Some(3 * 365)));
        assert_eq!(
            keep_days_for(&policies, finance, ChannelKind::Private),
            Some(1095)
        );
        assert_eq!(
            keep_days_for(&policies, ChannelId(2), ChannelKind::Private),
            Some(90)
        );
        // Kept forever on purpose, whatever the org default says.
        policies.push(policy("dm", None));
        assert_eq!(
            keep_days_for(&policies, general, ChannelKind::GroupDm),
            None
        );
    }

    #[test]
    fn scope_keys_round_trip() {
        for (scope, channel) in [
            (RetentionScope::Org, None),
            (RetentionScope::Dm, None),
            (RetentionScope::Channel, Some(ChannelId(42))),
        ] {
            let key = scope_key(scope, channel).unwrap();
            assert_eq!(parse_scope_key(&key), Some((scope, channel)));
        }
        assert_eq!(scope_key(RetentionScope::Channel, None), None);
        assert_eq!(scope_key(RetentionScope::Org, Some(ChannelId(1))), None);
        assert_eq!(parse_scope_key("channel:x"), None);
    }

    #[test]
    fn the_cutoff_is_exactly_keep_days_ago() {
        let now = Timestamp::from_millisecond(1_800_000_000_000).unwrap();
        assert_eq!(
            now.as_millisecond() - cutoff(now, 30).as_millisecond(),
            30 * 86_400_000
        );
    }
}
