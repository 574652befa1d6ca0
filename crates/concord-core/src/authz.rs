//! Authorisation: the one place that decides whether an actor may do something.
//!
//! Deny by default: every rule is an explicit allow, and anything not matched is refused.
//! A channel the actor may not see is reported as not found, so its existence does not leak.

use crate::error::DomainError;
use crate::org::{OrgSnapshot, perm};
use crate::store::Membership;
use concord_proto::{AppId, Channel, ChannelKind, DepartmentId, MemberRole, UserId};
use std::sync::Arc;

/// Who is making a request, with the organisation as it was when the request arrived: a
/// person with a session, or an app acting as its bot user with the scopes of its token.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The person, or the app's bot user.
    pub user_id: UserId,
    /// Hash of the session token the request came with, so the session can be ended.
    pub session: Option<String>,
    /// The client's address, for the audit log.
    pub ip: Option<String>,
    pub org: Arc<OrgSnapshot>,
    /// Set when the request came with an app token.
    pub app: Option<Arc<AppGrant>>,
}

/// What an app token carries: the app and the scopes granted at install.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppGrant {
    pub app_id: AppId,
    /// Catalogued scopes only (see [`crate::scope`]).
    pub scopes: Vec<&'static str>,
}

impl AppGrant {
    /// Keeps the scopes the catalogue knows (a stored scope since withdrawn grants nothing).
    pub fn new(app_id: AppId, scopes: &[String]) -> Self {
        Self {
            app_id,
            scopes: scopes
                .iter()
                .filter_map(|s| crate::scope::lookup(s).map(|info| info.name))
                .collect(),
        }
    }

    pub fn has(&self, scope: &str) -> bool {
        self.scopes.contains(&scope)
    }

    /// Whether one of the scopes carries `permission` (see [`crate::scope::ScopeInfo`]).
    fn carries(&self, permission: &str) -> bool {
        self.scopes
            .iter()
            .filter_map(|s| crate::scope::lookup(s))
            .any(|info| info.carries == Some(permission))
    }
}

/// What an operation (endpoint or WebSocket frame) lets app tokens do. Each operation
/// declares one; undeclared operations are [`AppAccess::SessionOnly`] (deny by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppAccess {
    /// App tokens need this scope (and then the bot user's own permissions and memberships).
    Scope(&'static str),
    /// Any app token (e.g. asking who the bot is).
    AnyAppToken,
    /// People only: passwords, second factors, sessions, the admin console.
    SessionOnly,
}

impl Actor {
    /// Whether the actor holds `permission` in department `target` (`None`: org-wide).
    pub fn can(&self, permission: &str, target: Option<DepartmentId>) -> bool {
        self.org.allows(self.user_id, permission, target)
            || self.app.as_ref().is_some_and(|a| a.carries(permission))
    }

    /// Whether the request came with an app token.
    pub fn is_app(&self) -> bool {
        self.app.is_some()
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

/// Checks an operation's declared [`AppAccess`] for app tokens; people pass (their
/// permissions are checked by the operation itself, as for app tokens after this).
pub fn authorize_app_access(actor: &Actor, access: AppAccess) -> Result<(), DomainError> {
    let Some(app) = &actor.app else {
        return Ok(());
    };
    match access {
        AppAccess::AnyAppToken => Ok(()),
        AppAccess::Scope(scope) if app.has(scope) => Ok(()),
        AppAccess::Scope(scope) => Err(DomainError::MissingScope(scope)),
        AppAccess::SessionOnly => Err(DomainError::SessionOnly),
    }
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
            app: None,
        }
    }

    fn app_actor(id: i64, scopes: &[&str]) -> Actor {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        Actor {
            app: Some(Arc::new(AppGrant::new(AppId(1), &scopes))),
            ..actor(id, false)
        }
    }

    #[test]
    fn app_tokens_need_the_declared_scope_and_people_pass() {
        use crate::scope::{MESSAGES_READ, MESSAGES_WRITE};
        let bot = app_actor(5, &[MESSAGES_READ, "no:such_scope"]);
        assert_eq!(bot.app.as_ref().unwrap().scopes, vec![MESSAGES_READ]);
        assert!(authorize_app_access(&bot, AppAccess::Scope(MESSAGES_READ)).is_ok());
        assert!(matches!(
            authorize_app_access(&bot, AppAccess::Scope(MESSAGES_WRITE)),
            Err(DomainError::MissingScope(MESSAGES_WRITE))
        ));
        assert!(matches!(
            authorize_app_access(&bot, AppAccess::SessionOnly),
            Err(DomainError::SessionOnly)
        ));
        assert!(authorize_app_access(&bot, AppAccess::AnyAppToken).is_ok());
        let person = actor(2, false);
        assert!(authorize_app_access(&person, AppAccess::SessionOnly).is_ok());
    }

    #[test]
    fn scopes_do_not_widen_channel_access() {
        use crate::scope::{MESSAGES_READ, MESSAGES_WRITE};
        let bot = app_actor(5, &[MESSAGES_READ, MESSAGES_WRITE]);
        let private = channel(ChannelKind::Private);
        assert!(matches!(
            authorize_channel(&bot, ChannelAction::ReadHistory, &private, None),
            Err(DomainError::NotFound(_))
        ));
        let m = membership(MemberRole::Member);
        assert!(authorize_channel(&bot, ChannelAction::Post, &private, Some(&m)).is_ok());
    }

    #[test]
    fn only_a_scope_that_carries_a_permission_grants_it() {
        use crate::scope::{ORG_READ, PERMISSIONS_CHECK};
        assert!(!app_actor(5, &[ORG_READ]).can(perm::PERMISSION_CHECK, None));
        assert!(app_actor(5, &[PERMISSIONS_CHECK]).can(perm::PERMISSION_CHECK, None));
        assert!(!app_actor(5, &[PERMISSIONS_CHECK]).can(perm::ORG_MANAGE, None));
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
