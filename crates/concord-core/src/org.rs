//! The organisation as authorisation sees it: the department tree, the permission catalogue,
//! roles and their assignments, and who belongs where — held in memory as one immutable
//! snapshot that is swapped whole after every change, so a check is a few hash lookups and
//! a change (moving someone out of HR) takes effect for the next request.
//!
//! Every non-guest user implicitly holds the built-in `member` role at organisation scope and
//! every guest the `guest` role; admins can edit those roles' permissions. Other grants are
//! explicit assignments to a user or a whole department (everyone in its subtree), scoped to
//! the organisation or to a department subtree. A grant scoped to a subtree applies only while
//! the person is placed in that subtree, so the org chart drives permissions: whoever moves
//! out of HR loses HR's roles with the move.

use concord_proto::{DepartmentId, Permission, Role, RoleAssignment, RoleId, Subject, UserId};
use jiff::Timestamp;
use std::collections::{BTreeSet, HashMap};

/// Permission names Concord itself checks.
pub mod perm {
    pub const ORG_MANAGE: &str = "org.manage";
    pub const USER_MANAGE: &str = "user.manage";
    pub const ROLE_MANAGE: &str = "role.manage";
    pub const CHANNEL_CREATE: &str = "channel.create";
    pub const CHANNEL_BROWSE: &str = "channel.browse";
    pub const CHANNEL_MANAGE_ANY: &str = "channel.manage_any";
    pub const DIRECTORY_READ: &str = "directory.read";
    pub const DM_OPEN: &str = "dm.open";
    pub const RETENTION_MANAGE: &str = "retention.manage";
    pub const AUDIT_READ: &str = "audit.read";
    pub const COMPLIANCE_EXPORT: &str = "compliance.export";
    pub const COMPLIANCE_SEARCH: &str = "compliance.search";
    pub const APP_INSTALL: &str = "app.install";
    pub const WEBHOOK_MANAGE: &str = "webhook.manage";
    pub const PERMISSION_CHECK: &str = "permission.check";
    pub const SECURITY_MANAGE: &str = "security.manage";
}

/// The built-in permission catalogue: name and what it allows.
pub const BUILTIN_PERMISSIONS: &[(&str, &str)] = &[
    (
        perm::ORG_MANAGE,
        "Create, rename, move and delete departments",
    ),
    (
        perm::USER_MANAGE,
        "Create people, change their attributes, departments and status",
    ),
    (
        perm::ROLE_MANAGE,
        "Define roles, register permissions, assign and revoke roles",
    ),
    (perm::CHANNEL_CREATE, "Create channels"),
    (perm::CHANNEL_BROWSE, "See and join public channels"),
    (
        perm::CHANNEL_MANAGE_ANY,
        "Rename, remove members from and moderate any visible channel",
    ),
    (
        perm::DIRECTORY_READ,
        "Browse the directory: people, profiles, departments",
    ),
    (perm::DM_OPEN, "Start direct messages and group DMs"),
    (
        perm::RETENTION_MANAGE,
        "Set retention policies and legal holds",
    ),
    (perm::AUDIT_READ, "Read and export the audit log"),
    (
        perm::COMPLIANCE_EXPORT,
        "Export channels' messages and files for compliance",
    ),
    (
        perm::COMPLIANCE_SEARCH,
        "Search all channels for compliance (audited)",
    ),
    (perm::APP_INSTALL, "Install apps and bots"),
    (perm::WEBHOOK_MANAGE, "Create and change webhooks"),
    (
        perm::PERMISSION_CHECK,
        "Ask whether another person holds a permission",
    ),
    (
        perm::SECURITY_MANAGE,
        "Security policy: end anyone's sessions, oversee sign-in security",
    ),
];

pub fn is_builtin_permission(name: &str) -> bool {
    BUILTIN_PERMISSIONS.iter().any(|(n, _)| *n == name)
}

/// Keys of the built-in roles.
pub mod builtin_role {
    pub const ORG_ADMIN: &str = "org_admin";
    pub const DEPARTMENT_ADMIN: &str = "department_admin";
    pub const MEMBER: &str = "member";
    pub const GUEST: &str = "guest";
    /// Separation of duties (MLPS "三员"): the system administrator runs the organisation —
    /// people, departments, channels, retention, apps — but cannot read the audit log or
    /// change roles, so cannot grant itself either.
    pub const SYSTEM_ADMIN: &str = "system_admin";
    /// The security administrator: roles, permissions and assignments, security policy.
    pub const SECURITY_ADMIN: &str = "security_admin";
    /// The audit administrator: reads and exports the audit log, and nothing else.
    pub const AUDIT_ADMIN: &str = "audit_admin";
}

/// The built-in roles as first created: key, display name, description, permissions.
pub fn builtin_roles() -> Vec<(&'static str, &'static str, &'static str, Vec<&'static str>)> {
    use perm::*;
    vec![
        (
            builtin_role::ORG_ADMIN,
            "Org admin",
            "Everything, everywhere",
            BUILTIN_PERMISSIONS.iter().map(|(n, _)| *n).collect(),
        ),
        (
            builtin_role::DEPARTMENT_ADMIN,
            "Department admin",
            "Manages the departments, people and roles of a subtree (assign it with that scope)",
            vec![ORG_MANAGE, USER_MANAGE, ROLE_MANAGE, DIRECTORY_READ],
        ),
        (
            builtin_role::MEMBER,
            "Member",
            "Every person who is not a guest",
            vec![CHANNEL_CREATE, CHANNEL_BROWSE, DIRECTORY_READ, DM_OPEN],
        ),
        (
            builtin_role::GUEST,
            "Guest",
            "Sees only the channels it is invited to",
            vec![],
        ),
        (
            builtin_role::SYSTEM_ADMIN,
            "System administrator",
            "People, departments, channels, retention, apps and webhooks; not the audit log, not roles",
            vec![
                ORG_MANAGE,
                USER_MANAGE,
                CHANNEL_CREATE,
                CHANNEL_BROWSE,
                CHANNEL_MANAGE_ANY,
                DIRECTORY_READ,
                DM_OPEN,
                RETENTION_MANAGE,
                APP_INSTALL,
                WEBHOOK_MANAGE,
            ],
        ),
        (
            builtin_role::SECURITY_ADMIN,
            "Security administrator",
            "Roles, permissions and their assignments, and security policy; not people or the audit log",
            vec![
                ROLE_MANAGE,
                SECURITY_MANAGE,
                PERMISSION_CHECK,
                DIRECTORY_READ,
            ],
        ),
        (
            builtin_role::AUDIT_ADMIN,
            "Audit administrator",
            "Reads and exports the audit log; changes nothing",
            vec![AUDIT_READ],
        ),
    ]
}

/// A department as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepartmentNode {
    pub id: DepartmentId,
    pub name: String,
    pub parent_id: Option<DepartmentId>,
    pub created_at: Timestamp,
}

/// Where a person belongs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserPlacement {
    pub primary: Option<DepartmentId>,
    pub secondary: Vec<DepartmentId>,
    pub guest: bool,
}

/// Everything the snapshot is built from, as the store loads it.
#[derive(Clone, Debug, Default)]
pub struct OrgData {
    pub departments: Vec<DepartmentNode>,
    pub roles: Vec<Role>,
    pub assignments: Vec<RoleAssignment>,
    pub custom_permissions: Vec<Permission>,
    /// Only people with a department or the guest flag; everyone else is a plain member.
    pub placements: Vec<(UserId, UserPlacement)>,
}

/// Deepest department tree accepted; also bounds every walk up the tree.
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Default)]
pub struct OrgSnapshot {
    departments: HashMap<DepartmentId, DepartmentNode>,
    children: HashMap<Option<DepartmentId>, Vec<DepartmentId>>,
    member_counts: HashMap<DepartmentId, i64>,
    roles: HashMap<RoleId, Role>,
    builtin: HashMap<String, RoleId>,
    assignments: Vec<RoleAssignment>,
    by_user: HashMap<UserId, Vec<usize>>,
    by_department: HashMap<DepartmentId, Vec<usize>>,
    placements: HashMap<UserId, UserPlacement>,
    custom_permissions: Vec<Permission>,
}

impl OrgSnapshot {
    pub fn build(data: OrgData) -> Self {
        let mut s = OrgSnapshot::default();
        for d in data.departments {
            s.children.entry(d.parent_id).or_default().push(d.id);
            s.departments.insert(d.id, d);
        }
        for list in s.children.values_mut() {
            list.sort_by_key(|d| d.0);
        }
        for role in data.roles {
            if let Some(key) = &role.builtin {
                s.builtin.insert(key.clone(), role.id);
            }
            s.roles.insert(role.id, role);
        }
        for (i, a) in data.assignments.iter().enumerate() {
            match a.subject {
                Subject::User(u) => s.by_user.entry(u).or_default().push(i),
                Subject::Department(d) => s.by_department.entry(d).or_default().push(i),
            }
        }
        s.assignments = data.assignments;
        for (user, placement) in data.placements {
            for d in placement.primary.iter().chain(&placement.secondary) {
                *s.member_counts.entry(*d).or_default() += 1;
            }
            s.placements.insert(user, placement);
        }
        s.custom_permissions = data.custom_permissions;
        s
    }

    pub fn department(&self, id: DepartmentId) -> Option<&DepartmentNode> {
        self.departments.get(&id)
    }

    pub fn departments(&self) -> impl Iterator<Item = &DepartmentNode> {
        self.departments.values()
    }

    pub fn children(&self, parent: Option<DepartmentId>) -> &[DepartmentId] {
        self.children.get(&parent).map_or(&[], Vec::as_slice)
    }

    pub fn member_count(&self, id: DepartmentId) -> i64 {
        self.member_counts.get(&id).copied().unwrap_or(0)
    }

    /// `id` and its ancestors, nearest first.
    pub fn ancestors_or_self(&self, id: DepartmentId) -> Vec<DepartmentId> {
        let mut out = Vec::new();
        let mut cur = Some(id);
        while let Some(d) = cur {
            if out.len() > MAX_DEPTH || out.contains(&d) {
                break;
            }
            out.push(d);
            cur = self.departments.get(&d).and_then(|n| n.parent_id);
        }
        out
    }

    /// Whether `id` is `root` or below it.
    pub fn is_within(&self, id: DepartmentId, root: DepartmentId) -> bool {
        self.ancestors_or_self(id).contains(&root)
    }

    /// Depth of the subtree under `id` (1 for a leaf).
    pub fn subtree_height(&self, id: DepartmentId) -> usize {
        1 + self
            .children(Some(id))
            .iter()
            .map(|c| self.subtree_height(*c))
            .max()
            .unwrap_or(0)
    }

    /// `id` and every department below it.
    pub fn subtree(&self, id: DepartmentId) -> Vec<DepartmentId> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            out.extend_from_slice(self.children(Some(out[i])));
            i += 1;
        }
        out
    }

    /// From the top of the tree down to `id`.
    pub fn path(&self, id: DepartmentId) -> Vec<&DepartmentNode> {
        let mut path: Vec<_> = self
            .ancestors_or_self(id)
            .into_iter()
            .filter_map(|d| self.departments.get(&d))
            .collect();
        path.reverse();
        path
    }

    pub fn placement(&self, user: UserId) -> Option<&UserPlacement> {
        self.placements.get(&user)
    }

    pub fn is_guest(&self, user: UserId) -> bool {
        self.placements.get(&user).is_some_and(|p| p.guest)
    }

    /// People placed directly in `id` (primary or secondary).
    pub fn people_in(&self, id: DepartmentId) -> Vec<UserId> {
        let mut out: Vec<UserId> = self
            .placements
            .iter()
            .filter(|(_, p)| p.primary == Some(id) || p.secondary.contains(&id))
            .map(|(u, _)| *u)
            .collect();
        out.sort();
        out
    }

    pub fn role(&self, id: RoleId) -> Option<&Role> {
        self.roles.get(&id)
    }

    pub fn roles(&self) -> impl Iterator<Item = &Role> {
        self.roles.values()
    }

    pub fn builtin_role(&self, key: &str) -> Option<&Role> {
        self.builtin.get(key).and_then(|id| self.roles.get(id))
    }

    pub fn assignments(&self) -> &[RoleAssignment] {
        &self.assignments
    }

    pub fn assignment(&self, id: concord_proto::AssignmentId) -> Option<&RoleAssignment> {
        self.assignments.iter().find(|a| a.id == id)
    }

    /// The whole catalogue: built-in then registered permissions.
    pub fn permissions(&self) -> Vec<Permission> {
        let mut out: Vec<Permission> = BUILTIN_PERMISSIONS
            .iter()
            .map(|(n, d)| Permission {
                name: n.to_string(),
                description: d.to_string(),
                builtin: true,
            })
            .collect();
        out.extend(self.custom_permissions.iter().cloned());
        out
    }

    pub fn permission_exists(&self, name: &str) -> bool {
        is_builtin_permission(name) || self.custom_permissions.iter().any(|p| p.name == name)
    }

    /// Every grant that applies to `user`: (role, scope).
    fn grants(&self, user: UserId) -> Vec<(&Role, Option<DepartmentId>)> {
        let mut out = Vec::new();
        let implicit = if self.is_guest(user) {
            builtin_role::GUEST
        } else {
            builtin_role::MEMBER
        };
        if let Some(role) = self.builtin_role(implicit) {
            out.push((role, None));
        }
        let placement = self.placements.get(&user);
        // A grant scoped to a subtree holds only while the person is placed inside it: moving
        // someone out of HR ends what HR gave them, at once.
        let placed_within = |root: DepartmentId| {
            placement.is_some_and(|p| {
                p.primary
                    .iter()
                    .chain(&p.secondary)
                    .any(|d| self.is_within(*d, root))
            })
        };
        let mut indexes: Vec<usize> = self
            .by_user
            .get(&user)
            .map(|list| {
                list.iter()
                    .copied()
                    .filter(|i| {
                        self.assignments[*i]
                            .scope_department_id
                            .is_none_or(placed_within)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if let Some(p) = placement {
            for d in p.primary.iter().chain(&p.secondary) {
                for up in self.ancestors_or_self(*d) {
                    if let Some(list) = self.by_department.get(&up) {
                        indexes.extend_from_slice(list);
                    }
                }
            }
        }
        indexes.sort_unstable();
        indexes.dedup();
        for i in indexes {
            let a = &self.assignments[i];
            if let Some(role) = self.roles.get(&a.role_id) {
                out.push((role, a.scope_department_id));
            }
        }
        out
    }

    /// The one permission check: may `user` do `permission` in department `target` (`None`:
    /// across the organisation, which only organisation-scoped grants cover)?
    pub fn allows(&self, user: UserId, permission: &str, target: Option<DepartmentId>) -> bool {
        self.grants(user).into_iter().any(|(role, scope)| {
            // The org admin role holds every permission, registered ones included.
            (role.builtin.as_deref() == Some(builtin_role::ORG_ADMIN)
                || role.permissions.iter().any(|p| p == permission))
                && match (scope, target) {
                    (None, _) => true,
                    (Some(root), Some(t)) => self.is_within(t, root),
                    (Some(_), None) => false,
                }
        })
    }

    /// What `user` holds at organisation scope, and per scoped department.
    pub fn permissions_of(
        &self,
        user: UserId,
    ) -> (BTreeSet<String>, Vec<(DepartmentId, BTreeSet<String>)>) {
        let mut org = BTreeSet::new();
        let mut scoped: HashMap<DepartmentId, BTreeSet<String>> = HashMap::new();
        for (role, scope) in self.grants(user) {
            let set = match scope {
                None => &mut org,
                Some(d) => scoped.entry(d).or_default(),
            };
            set.extend(role.permissions.iter().cloned());
        }
        let mut scoped: Vec<_> = scoped
            .into_iter()
            .map(|(d, mut set)| {
                set.retain(|p| !org.contains(p));
                (d, set)
            })
            .filter(|(_, set)| !set.is_empty())
            .collect();
        scoped.sort_by_key(|(d, _)| *d);
        (org, scoped)
    }

    /// The department a check about `user` is made in: their primary one.
    pub fn home_of(&self, user: UserId) -> Option<DepartmentId> {
        self.placements.get(&user).and_then(|p| p.primary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: i64, name: &str, builtin: Option<&str>, perms: &[&str]) -> Role {
        Role {
            id: RoleId(id),
            name: name.into(),
            description: String::new(),
            builtin: builtin.map(str::to_string),
            permissions: perms.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn dept(id: i64, parent: Option<i64>) -> DepartmentNode {
        DepartmentNode {
            id: DepartmentId(id),
            name: format!("d{id}"),
            parent_id: parent.map(DepartmentId),
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn assign(id: i64, role: i64, subject: Subject, scope: Option<i64>) -> RoleAssignment {
        RoleAssignment {
            id: concord_proto::AssignmentId(id),
            role_id: RoleId(role),
            subject,
            scope_department_id: scope.map(DepartmentId),
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn placed(primary: i64) -> UserPlacement {
        UserPlacement {
            primary: Some(DepartmentId(primary)),
            secondary: vec![],
            guest: false,
        }
    }

    /// Org: 1 (HQ) > 2 (HR) > 3 (Recruiting); 1 > 4 (Sales).
    fn org() -> OrgSnapshot {
        OrgSnapshot::build(OrgData {
            departments: vec![
                dept(1, None),
                dept(2, Some(1)),
                dept(3, Some(2)),
                dept(4, Some(1)),
            ],
            roles: vec![
                role(1, "Member", Some("member"), &["channel.create"]),
                role(2, "Guest", Some("guest"), &[]),
                role(3, "Dept admin", Some("department_admin"), &["user.manage"]),
                role(4, "招聘组", None, &["resume_library.read"]),
            ],
            assignments: vec![
                assign(1, 3, Subject::User(UserId(10)), Some(2)),
                assign(2, 4, Subject::Department(DepartmentId(2)), Some(2)),
            ],
            custom_permissions: vec![],
            placements: vec![
                (UserId(10), placed(2)),
                (UserId(11), placed(3)),
                (UserId(12), placed(4)),
                (
                    UserId(13),
                    UserPlacement {
                        guest: true,
                        ..Default::default()
                    },
                ),
            ],
        })
    }

    #[test]
    fn scoped_grants_cover_the_subtree_only() {
        let o = org();
        assert!(o.allows(UserId(10), "user.manage", Some(DepartmentId(3))));
        assert!(o.allows(UserId(10), "user.manage", Some(DepartmentId(2))));
        assert!(!o.allows(UserId(10), "user.manage", Some(DepartmentId(4))));
        assert!(!o.allows(UserId(10), "user.manage", None));
    }

    #[test]
    fn department_grants_follow_membership_including_sub_departments() {
        let o = org();
        assert!(o.allows(UserId(11), "resume_library.read", Some(DepartmentId(2))));
        assert!(!o.allows(UserId(12), "resume_library.read", Some(DepartmentId(2))));
    }

    #[test]
    fn implicit_member_and_guest_roles() {
        let o = org();
        assert!(o.allows(UserId(99), "channel.create", None));
        assert!(!o.allows(UserId(13), "channel.create", None));
    }

    #[test]
    fn scoped_user_grants_end_when_the_person_leaves_the_subtree() {
        let mut data_user_in_sales = OrgData {
            departments: vec![dept(1, None), dept(2, Some(1)), dept(4, Some(1))],
            roles: vec![role(
                3,
                "Dept admin",
                Some("department_admin"),
                &["user.manage"],
            )],
            assignments: vec![assign(1, 3, Subject::User(UserId(10)), Some(2))],
            custom_permissions: vec![],
            placements: vec![(UserId(10), placed(2))],
        };
        assert!(OrgSnapshot::build(data_user_in_sales.clone()).allows(
            UserId(10),
            "user.manage",
            Some(DepartmentId(2))
        ));
        data_user_in_sales.placements = vec![(UserId(10), placed(4))];
        assert!(!OrgSnapshot::build(data_user_in_sales).allows(
            UserId(10),
            "user.manage",
            Some(DepartmentId(2))
        ));
    }

    #[test]
    fn tree_walks() {
        let o = org();
        assert!(o.is_within(DepartmentId(3), DepartmentId(1)));
        assert!(!o.is_within(DepartmentId(1), DepartmentId(3)));
        assert_eq!(
            o.subtree(DepartmentId(2)),
            vec![DepartmentId(2), DepartmentId(3)]
        );
        assert_eq!(o.subtree_height(DepartmentId(1)), 3);
        let path: Vec<_> = o.path(DepartmentId(3)).iter().map(|d| d.id.0).collect();
        assert_eq!(path, vec![1, 2, 3]);
    }
}
