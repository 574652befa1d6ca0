//! Membership rules of dynamic groups: the JSON an admin attaches to a channel.
//!
//! Plain data only; `concord_core::membership_rule` validates, evaluates and diffs them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A rule over user attributes; the channel's rule-driven members are the users it matches.
///
/// Each node is a JSON object with exactly one key, e.g.
/// `{"all":[{"department":12},{"any":[{"title":"Engineer"},{"region":"Shanghai"}]},{"not":{"project_tag":"apollo"}}]}`.
/// Strings are compared case-insensitively after trimming.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MembershipRule {
    /// Matches when every sub-rule matches (AND). Must not be empty.
    #[schema(no_recursion)]
    All(Vec<MembershipRule>),
    /// Matches when at least one sub-rule matches (OR). Must not be empty.
    #[schema(no_recursion)]
    Any(Vec<MembershipRule>),
    /// Matches when the sub-rule does not.
    #[schema(no_recursion)]
    Not(Box<MembershipRule>),
    /// Users in this department or any department below it (primary or secondary membership).
    Department(i64),
    /// Users whose title equals this one.
    Title(String),
    /// Users whose region equals this one.
    Region(String),
    /// Users carrying this project tag.
    ProjectTag(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let json = r#"{"all":[{"department":12},{"any":[{"title":"Engineer"},{"region":"Shanghai"}]},{"not":{"project_tag":"apollo"}}]}"#;
        let rule: MembershipRule = serde_json::from_str(json).unwrap();
        assert_eq!(
            rule,
            MembershipRule::All(vec![
                MembershipRule::Department(12),
                MembershipRule::Any(vec![
                    MembershipRule::Title("Engineer".into()),
                    MembershipRule::Region("Shanghai".into()),
                ]),
                MembershipRule::Not(Box::new(MembershipRule::ProjectTag("apollo".into()))),
            ])
        );
        // The wire form round-trips unchanged.
        assert_eq!(serde_json::to_string(&rule).unwrap(), json);
    }

    #[test]
    fn schema_generation_terminates() {
        // The type is recursive; `no_recursion` keeps utoipa from expanding it forever.
        let schema = <MembershipRule as utoipa::PartialSchema>::schema();
        let json = serde_json::to_string(&schema).unwrap();
        assert!(json.contains("project_tag"), "{json}");
    }

    #[test]
    fn refuses_unknown_and_ambiguous_nodes() {
        for bad in [
            r#"{"manager":5}"#,
            r#"{"title":"A","region":"B"}"#,
            r#"{"all":{"title":"A"}}"#,
            r#"{"not":[{"title":"A"}]}"#,
            r#"{"department":"12"}"#,
            r#"{}"#,
            r#""title""#,
        ] {
            assert!(
                serde_json::from_str::<MembershipRule>(bad).is_err(),
                "accepted {bad}"
            );
        }
    }
}
