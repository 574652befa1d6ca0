//! Authorisation: the one place that decides whether an actor may do something.
//!
//! Deny by default: every rule is an explicit allow, and anything not matched is refused.
//! A channel the actor may not see is reported as not found, so its existence does not leak.

use crate::error::DomainError;
use crate::org::{OrgSnapshot, perm};
use crate::store::Membership;
use concord_proto::{Channel, ChannelKind, DepartmentId, MemberRole, UserId};
use std::sync::Arc;

/// Who is making a request, with the organisation as it was when the request arrived. Later
/// kinds (bots, app tokens with scopes) extend this type and are decided here too.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: UserId,
    /// Hash of the session token the request came with, so the session can be ended.
    pub session: Option<String>,
    /// The client's address, for the audit log.
    pub ip: Option<String>,
    pub org: Arc<OrgSnapshot>,
}

impl Actor {
    /// Whether the actor holds `permission` in department `target` (`None`: org-wide).
    pub fn can(&self, permission: &str, target: Option<DepartmentId>) -> bool {
        self.org.allows(self.user_id, permission, target)
    }

    /// `Forbidden` naming the missing permission unless the actor holds it.
    pub fn require(
        &self,
        permission: &'static str,
        target: Option<DepartmentId>,
    ) -> Result<(), DomainError> {
        if self.can(permission, target) {
            Ok(())
        } else {
            Err(DomainError::MissingPermission(permission.to_string()))
        }
    }
}

/// Organisation-wide actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrgAction {
    CreateUser,
    ListUsers,
    CreateChannel,
    BrowsePublicChannels,
    OpenDirectMessage,
}

/// Actions on a channel or the messages in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelAction {
    View,
    ReadHistory,
    Join,
    Leave,
    Invite,
    RemoveMember { target: UserId },
    Update,
    Post,
    React,
    Pin,
    MarkRead,
    Typing,
    EditMessage { author: UserId },
    DeleteMessage { author: UserId },
}

pub fn authorize_org(actor: &Actor, action: OrgAction) -> Result<(), DomainError> {
    actor.require(
        match action {
            OrgAction::CreateUser => perm::USER_MANAGE,
            OrgAction::ListUsers => perm::DIRECTORY_READ,
            OrgAction::CreateChannel => perm::CHANNEL_CREATE,
            OrgAction::BrowsePublicChannels => perm::CHANNEL_BROWSE,
            OrgAction::OpenDirectMessage => perm::DM_OPEN,
        },
        None,
    )
}

pub fn authorize_channel(
    actor: &Actor,
    action: ChannelAction,
    channel: &Channel,
    membership: Option<&Membership>,
) -> Result<(), DomainError> {
    let member = membership.is_some();
    // Guests (no `channel.browse`) see only the channels they are in.
    let browse = channel.kind == ChannelKind::Public && actor.can(perm::CHANNEL_BROWSE, None);
    let visible = member || browse;
    let manage_any = actor.can(perm::CHANNEL_MANAGE_ANY, None);
    if !visible {
        return Err(DomainError::NotFound("channel"));
    }
    let channel_admin = membership.is_some_and(|m| m.role == MemberRole::Admin);
    let direct = channel.kind.is_direct();
    use ChannelAction as A;
    let allowed = match action {
        A::View | A::ReadHistory => true,
        A::Join => browse,
        A::Leave => member && !direct,
        A::Invite => member && !direct,
        A::RemoveMember { target } => {
            !direct && (target == actor.user_id || channel_admin || manage_any)
        }
        A::Update => !direct && (channel_admin || manage_any),
        A::Post | A::React | A::Pin | A::MarkRead | A::Typing => member,
        A::EditMessage { author } => member && author == actor.user_id,
        A::DeleteMessage { author } => {
            (member && author == actor.user_id) || channel_admin || manage_any
        }
    };
    if allowed {
        return Ok(());
    }
    Err(DomainError::Forbidden(match action {
        A::Join => "only public channels can be joined; ask a member to invite you",
        A::Leave | A::Invite | A::RemoveMember { .. } if direct => {
            "direct messages have a fixed membership"
        }
        A::Update if direct => "direct messages cannot be renamed",
        A::Update | A::RemoveMember { .. } => "requires a channel admin",
        A::EditMessage { .. } => "only the author can edit a message",
        A::DeleteMessage { .. } => "only the author or an admin can delete a message",
        _ => "join the channel first",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_proto::ChannelId;
    use jiff::Timestamp;

    fn channel(kind: ChannelKind) -> Channel {
        Channel {
            id: ChannelId(1),
            kind,
            name: "c".into(),
            topic: String::new(),
            purpose: String::new(),
            created_by: UserId(1),
            created_at: Timestamp::UNIX_EPOCH,
            last_seq: 0,
        }
    }

    fn actor(id: i64, is_admin: bool) -> Actor {
        use crate::org::{OrgData, builtin_roles};
        use concord_proto::{AssignmentId, Role, RoleAssignment, RoleId, Subject};
        let roles = builtin_roles()
            .into_iter()
            .enumerate()
            .map(|(i, (key, name, _, perms))| Role {
                id: RoleId(i as i64 + 1),
                name: name.into(),
                description: String::new(),
                builtin: Some(key.into()),
                permissions: perms.into_iter().map(String::from).collect(),
            })
            .collect();
        let assignments = if is_admin {
            vec![RoleAssignment {
                id: AssignmentId(1),
                role_id: RoleId(1),
                subject: Subject::User(UserId(id)),
                scope_department_id: None,
                created_at: Timestamp::UNIX_EPOCH,
            }]
        } else {
            vec![]
        };
        Actor {
            user_id: UserId(id),
            session: None,
            ip: None,
            org: Arc::new(OrgSnapshot::build(OrgData {
                roles,
                assignments,
                ..Default::default()
            })),
        }
    }

    fn membership(role: MemberRole) -> Membership {
        Membership {
            role,
            last_read_seq: 0,
            joined_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn private_channels_are_invisible_to_non_members_even_admins() {
        let ch = channel(ChannelKind::Private);
        for a in [actor(2, false), actor(3, true)] {
            for action in [
                ChannelAction::View,
                ChannelAction::ReadHistory,
                ChannelAction::Post,
                ChannelAction::Join,
            ] {
                assert!(matches!(
                    authorize_channel(&a, action, &ch, None),
                    Err(DomainError::NotFound(_))
                ));
            }
        }
    }

    #[test]
    fn public_channel_non_member_may_read_and_join_but_not_post() {
        let ch = channel(ChannelKind::Public);
        let a = actor(2, false);
        assert!(authorize_channel(&a, ChannelAction::ReadHistory, &ch, None).is_ok());
        assert!(authorize_channel(&a, ChannelAction::Join, &ch, None).is_ok());
        assert!(matches!(
            authorize_channel(&a, ChannelAction::Post, &ch, None),
            Err(DomainError::Forbidden(_))
        ));
    }

    #[test]
    fn edits_only_by_author_deletes_by_author_or_admins() {
        let ch = channel(ChannelKind::Public);
        let m = membership(MemberRole::Member);
        let a = actor(2, false);
        assert!(
            authorize_channel(
                &a,
                ChannelAction::EditMessage { author: UserId(2) },
                &ch,
                Some(&m)
            )
            .is_ok()
        );
        assert!(
            authorize_channel(
                &a,
                ChannelAction::EditMessage { author: UserId(3) },
                &ch,
                Some(&m)
            )
            .is_err()
        );
        assert!(
            authorize_channel(
                &a,
                ChannelAction::DeleteMessage { author: UserId(3) },
                &ch,
                Some(&m)
            )
            .is_err()
        );
        let admin = membership(MemberRole::Admin);
        assert!(
            authorize_channel(
                &a,
                ChannelAction::DeleteMessage { author: UserId(3) },
                &ch,
                Some(&admin)
            )
            .is_ok()
        );
    }

    #[test]
    fn dms_have_fixed_membership() {
        let ch = channel(ChannelKind::Dm);
        let m = membership(MemberRole::Member);
        let a = actor(2, true);
        assert!(authorize_channel(&a, ChannelAction::Leave, &ch, Some(&m)).is_err());
        assert!(authorize_channel(&a, ChannelAction::Invite, &ch, Some(&m)).is_err());
        assert!(authorize_channel(&a, ChannelAction::Update, &ch, Some(&m)).is_err());
        assert!(authorize_channel(&a, ChannelAction::Post, &ch, Some(&m)).is_ok());
    }

    #[test]
    fn only_admins_create_users() {
        assert!(authorize_org(&actor(1, true), OrgAction::CreateUser).is_ok());
        assert!(authorize_org(&actor(2, false), OrgAction::CreateUser).is_err());
    }
}
