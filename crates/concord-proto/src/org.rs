//! The organisation on the wire: departments, people's attributes, permissions, roles and
//! their assignments, the permission check, and audit entries.

use crate::ids::{AssignmentId, DepartmentId, RoleId, UserId};
use crate::model::User;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A node of the department tree. Top-level departments have no parent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Department {
    pub id: DepartmentId,
    pub name: String,
    pub parent_id: Option<DepartmentId>,
    /// People whose primary or secondary department this is (not counting sub-departments).
    pub member_count: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A department's id and name, as in a path from the top of the tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DepartmentRef {
    pub id: DepartmentId,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDepartmentRequest {
    pub name: String,
    pub parent_id: Option<DepartmentId>,
}

/// Rename and/or move. `parent_id: null` moves to the top level; leaving it out keeps it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDepartmentRequest {
    pub name: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<DepartmentId>)]
    pub parent_id: Option<Option<DepartmentId>>,
}

/// Whether an account may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    Active,
    /// Temporarily blocked: cannot log in; sessions ended.
    Suspended,
    /// Left the organisation: cannot log in; sessions ended; messages kept.
    Deactivated,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Suspended => "suspended",
            UserStatus::Deactivated => "deactivated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => UserStatus::Active,
            "suspended" => UserStatus::Suspended,
            "deactivated" => UserStatus::Deactivated,
            _ => return None,
        })
    }
}

/// A person with their organisational attributes.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct UserProfile {
    #[serde(flatten)]
    pub user: User,
    pub status: UserStatus,
    pub title: Option<String>,
    pub region: Option<String>,
    pub employee_no: Option<String>,
    pub phone: Option<String>,
    /// IANA time zone, e.g. `Asia/Shanghai`.
    pub time_zone: Option<String>,
    /// BCP 47 language tag, e.g. `zh-CN`.
    pub locale: Option<String>,
    pub manager_id: Option<UserId>,
    pub project_tags: Vec<String>,
    pub primary_department_id: Option<DepartmentId>,
    pub secondary_department_ids: Vec<DepartmentId>,
    /// From the top of the tree down to the primary department.
    pub department_path: Vec<DepartmentRef>,
    /// The person's current local time (RFC 3339 with offset), when their time zone is known.
    pub local_time: Option<String>,
    /// Whether they report their location for geofenced channels.
    pub location_sharing: bool,
}

/// Who would join and who would leave if a membership rule were saved.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MembershipPreview {
    pub join: Vec<User>,
    pub leave: Vec<User>,
}

/// What a location report changed.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LocationOutcome {
    /// Geofenced channels joined because of this report.
    pub joined: Vec<crate::ids::ChannelId>,
    /// Geofenced channels left (after the dwell time outside).
    pub left: Vec<crate::ids::ChannelId>,
}

/// Changes to a person's attributes; fields left out are kept, `null` clears.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub display_name: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub region: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub employee_no: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<UserId>)]
    pub manager_id: Option<Option<UserId>>,
    pub project_tags: Option<Vec<String>>,
    pub status: Option<UserStatus>,
    /// Replaces the primary department (`null`: none).
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<DepartmentId>)]
    pub primary_department_id: Option<Option<DepartmentId>>,
    /// Replaces the secondary departments.
    pub secondary_department_ids: Option<Vec<DepartmentId>>,
}

/// What people may change about themselves.
#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// Opt in to reporting locations (for geofenced channels); turning it off forgets the
    /// stored location.
    pub location_sharing: Option<bool>,
    pub display_name: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserListQuery {
    /// Search by name, username, email, employee number or pinyin (full or initials).
    pub q: Option<String>,
    /// Only people in this department's subtree.
    pub department_id: Option<DepartmentId>,
    /// Paging (without `q`): ids after this one.
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

/// A permission in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Permission {
    /// Dotted name, e.g. `user.manage` or `resume_library.read`.
    pub name: String,
    pub description: String,
    /// Part of Concord (cannot be removed) or registered by an admin or app.
    pub builtin: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterPermissionRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// A named set of permissions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub description: String,
    /// `org_admin`, `department_admin`, `member`, `guest` for the built-in roles.
    pub builtin: Option<String>,
    pub permissions: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleRequest {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub permissions: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoleRequest {
    pub name: Option<String>,
    pub description: Option<String>,
    pub permissions: Option<Vec<String>>,
}

/// Who a role is given to: one person, or everyone in a department's subtree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Subject {
    User(UserId),
    Department(DepartmentId),
}

/// A role given to a subject. Scope `None` is the whole organisation; a department limits it
/// to that department's subtree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoleAssignment {
    pub id: AssignmentId,
    pub role_id: RoleId,
    pub subject: Subject,
    pub scope_department_id: Option<DepartmentId>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssignmentRequest {
    pub role_id: RoleId,
    pub subject: Subject,
    pub scope_department_id: Option<DepartmentId>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AssignmentQuery {
    pub role_id: Option<RoleId>,
    pub user_id: Option<UserId>,
    pub department_id: Option<DepartmentId>,
}

/// "May user U do P in department D?" — for business systems.
#[derive(Clone, Debug, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PermissionCheckQuery {
    pub user_id: UserId,
    pub permission: String,
    /// Leave out to ask about the whole organisation.
    pub department_id: Option<DepartmentId>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PermissionCheck {
    pub user_id: UserId,
    pub permission: String,
    pub department_id: Option<DepartmentId>,
    pub allowed: bool,
}

/// The permissions the caller holds at organisation scope, and per department where they
/// hold more there.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MyPermissions {
    pub org: Vec<String>,
    pub departments: Vec<DepartmentPermissions>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DepartmentPermissions {
    pub department_id: DepartmentId,
    pub permissions: Vec<String>,
}

/// One audited action.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// `None` for the operator's command line.
    pub actor_id: Option<UserId>,
    pub ip: Option<String>,
    /// E.g. `department.create`, `role.assign`, `user.update`.
    pub action: String,
    /// E.g. `department:12`.
    pub target: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub actor_id: Option<UserId>,
    /// Exact action, or a prefix ending in `.` (e.g. `role.`).
    pub action: Option<String>,
    pub target: Option<String>,
    /// Inclusive, RFC 3339.
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<Timestamp>,
    /// Exclusive, RFC 3339.
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<Timestamp>,
    /// Entries with ids below this one (newest first).
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

/// `Option<Option<T>>` from JSON: missing → `None`, `null` → `Some(None)`.
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            None | Some(None) => s.serialize_none(),
            Some(Some(x)) => x.serialize(s),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// What a DLP policy does with a message containing personal data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DlpAction {
    /// No scanning.
    #[default]
    Off,
    /// Replace each value with its masked form (110101********123X).
    Mask,
    /// Refuse the message with a 422 naming the detector; nothing is stored.
    Block,
}

/// A channel's DLP policy.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChannelDlp {
    pub action: DlpAction,
    /// True when the channel follows the org default (config `[dlp]`).
    pub inherited: bool,
}

/// Sets a channel's DLP action; `null` follows the org default again.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetChannelDlpRequest {
    pub action: Option<DlpAction>,
}
