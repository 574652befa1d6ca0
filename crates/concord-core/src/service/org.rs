//! The organisation: departments, people's attributes and status, the permission catalogue,
//! roles and assignments, the permission check, people search and the audit log.
//!
//! Every change runs under one lock: it is checked against the current snapshot, applied by
//! the store together with its audit entry, and the snapshot is then reloaded, so the next
//! request is decided on the new organisation.

use super::Services;
use crate::authz::Actor;
use crate::error::DomainError;
use crate::org::{BUILTIN_PERMISSIONS, MAX_DEPTH, OrgSnapshot, builtin_role, builtin_roles, perm};
use crate::store::{AuditFilter, NewAudit, OrgChange, StoredProfile, UserAttributes};
use crate::validate;
use concord_proto::{
    AssignmentId, AssignmentQuery, AuditEntry, AuditQuery, CreateAssignmentRequest,
    CreateDepartmentRequest, CreateRoleRequest, Department, DepartmentId, DepartmentPermissions,
    DepartmentRef, MyPermissions, Permission, PermissionCheck, PermissionCheckQuery,
    RegisterPermissionRequest, Role, RoleAssignment, RoleId, Subject, UpdateDepartmentRequest,
    UpdateMeRequest, UpdateRoleRequest, UpdateUserRequest, User, UserId, UserListQuery,
    UserProfile, UserStatus,
};
use pinyin::ToPinyin;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

/// The current organisation snapshot and the lock that orders changes to it.
pub struct OrgState {
    current: RwLock<Arc<OrgSnapshot>>,
    changes: tokio::sync::Mutex<()>,
}

impl Default for OrgState {
    fn default() -> Self {
        Self {
            current: RwLock::new(Arc::new(OrgSnapshot::default())),
            changes: tokio::sync::Mutex::new(()),
        }
    }
}

/// The lower-case text people search matches: names, email, employee number, and the
/// display name's pinyin in full and as initials (so "zs" and "zhangsan" find 张三).
pub fn search_key(
    username: &str,
    display_name: &str,
    email: Option<&str>,
    employee_no: Option<&str>,
) -> String {
    let mut full = String::new();
    let mut initials = String::new();
    for (c, py) in display_name.chars().zip(display_name.to_pinyin()) {
        match py {
            Some(p) => {
                full.push_str(p.plain());
                initials.push_str(p.first_letter());
            }
            None if c.is_alphanumeric() => {
                full.extend(c.to_lowercase());
                initials.extend(c.to_lowercase());
            }
            None => {}
        }
    }
    let mut parts = vec![username.to_lowercase(), display_name.to_lowercase()];
    parts.extend(email.map(str::to_lowercase));
    parts.extend(employee_no.map(str::to_lowercase));
    parts.push(full);
    parts.push(initials);
    parts.join(" ")
}

/// Dotted lower-case names: `resume_library.read`.
fn permission_name(raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    let segment_ok = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let parts: Vec<&str> = name.split('.').collect();
    if name.len() > 64 || parts.len() < 2 || !parts.iter().all(|p| segment_ok(p)) {
        return Err(DomainError::invalid(
            "name",
            "must be dotted lower-case words of a-z, 0-9 and _, e.g. resume_library.read (at most 64 characters)",
        ));
    }
    Ok(name.to_string())
}

pub(super) fn optional_attr(
    field: &'static str,
    v: Option<String>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => validate::label(field, s, max).map(Some),
    }
}

pub(super) fn time_zone(v: Option<String>) -> Result<Option<String>, DomainError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(tz) => jiff::tz::TimeZone::get(tz)
            .map(|_| Some(tz.to_string()))
            .map_err(|_| {
                DomainError::invalid(
                    "time_zone",
                    format!("{tz:?} is not an IANA time zone such as Asia/Shanghai"),
                )
            }),
    }
}

pub(super) fn locale(v: Option<String>) -> Result<Option<String>, DomainError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(l) => {
            let mut parts = l.split('-');
            let lang_ok = parts.next().is_some_and(|p| {
                (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic())
            });
            let rest_ok = parts.all(|p| {
                (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric())
            });
            if lang_ok && rest_ok && l.len() <= 35 {
                Ok(Some(l.to_string()))
            } else {
                Err(DomainError::invalid(
                    "locale",
                    format!("{l:?} is not a language tag such as zh-CN or en"),
                ))
            }
        }
    }
}

fn project_tags(tags: Vec<String>) -> Result<Vec<String>, DomainError> {
    if tags.len() > 50 {
        return Err(DomainError::invalid("project_tags", "at most 50 tags"));
    }
    let mut out = BTreeSet::new();
    for t in tags {
        let t = t.trim();
        if t.is_empty() {
            continue;
        }
        out.insert(validate::label("project_tags", t, 50)?);
    }
    Ok(out.into_iter().collect())
}

fn local_time(now: jiff::Timestamp, tz: Option<&str>) -> Option<String> {
    let zone = jiff::tz::TimeZone::get(tz?).ok()?;
    let zoned = now.to_zoned(zone);
    Some(
        zoned
            .timestamp()
            .display_with_offset(zoned.offset())
            .to_string(),
    )
}

impl Services {
    /// Creates the built-in roles if needed and loads the organisation. Call once at start.
    pub async fn init_org(&self) -> Result<(), DomainError> {
        let roles = builtin_roles()
            .into_iter()
            .map(|(k, n, d, p)| {
                (
                    k.into(),
                    n.into(),
                    d.into(),
                    p.into_iter().map(String::from).collect(),
                )
            })
            .collect();
        let all = BUILTIN_PERMISSIONS
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        self.store
            .ensure_builtin_roles(roles, all, self.clock.now())
            .await?;
        self.reload_org().await
    }

    /// Reloads the snapshot from the store.
    pub async fn reload_org(&self) -> Result<(), DomainError> {
        let data = self.store.org_data().await?;
        let snapshot = Arc::new(OrgSnapshot::build(data));
        *self.org.current.write().unwrap_or_else(|e| e.into_inner()) = snapshot;
        Ok(())
    }

    /// The organisation as of now.
    pub fn org(&self) -> Arc<OrgSnapshot> {
        self.org
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The one audit function for actions that change nothing else (logins, reads of others'
    /// data). Changes to the organisation are audited by [`Services::change_org`].
    pub async fn audit(
        &self,
        actor: Option<&Actor>,
        action: &str,
        target: String,
        after: Option<serde_json::Value>,
    ) -> Result<(), DomainError> {
        let entry = self.audit_entry(actor, action, target, None, after);
        Ok(self.store.append_audit(entry).await?)
    }

    pub(crate) fn audit_entry(
        &self,
        actor: Option<&Actor>,
        action: &str,
        target: String,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> NewAudit {
        NewAudit {
            at: self.clock.now(),
            actor_id: actor.map(|a| a.user_id),
            ip: actor.and_then(|a| a.ip.clone()),
            action: action.into(),
            target,
            before,
            after,
            suite: self.limits.crypto_suite,
        }
    }

    /// Applies a checked change with its audit entry, then reloads the snapshot. `check` runs
    /// under the change lock against the current snapshot and returns the change to apply.
    pub(super) async fn change_org<F>(
        &self,
        actor: Option<&Actor>,
        action: &str,
        target: String,
        check: F,
    ) -> Result<i64, DomainError>
    where
        F: FnOnce(
            &OrgSnapshot,
        ) -> Result<
            (
                OrgChange,
                Option<serde_json::Value>,
                Option<serde_json::Value>,
            ),
            DomainError,
        >,
    {
        let _guard = self.org.changes.lock().await;
        let snapshot = self.org();
        let (change, before, after) = check(&snapshot)?;
        let entry = self.audit_entry(actor, action, target, before, after);
        let id = self.store.apply_org_change(change, entry).await;
        // Reload even after a failure: the snapshot must never run ahead of or behind the store.
        let reloaded = self.reload_org().await;
        let id = id?;
        reloaded?;
        Ok(id)
    }

    // Departments.

    fn department_view(&self, org: &OrgSnapshot, id: DepartmentId) -> Option<Department> {
        org.department(id).map(|d| Department {
            id: d.id,
            name: d.name.clone(),
            parent_id: d.parent_id,
            member_count: org.member_count(d.id),
            created_at: d.created_at,
        })
    }

    /// The whole tree, parents before children, siblings by name.
    pub fn list_departments(&self, actor: &Actor) -> Result<Vec<Department>, DomainError> {
        actor.require(perm::DIRECTORY_READ, None)?;
        let org = &actor.org;
        let mut out = Vec::new();
        let mut stack: Vec<DepartmentId> = sorted_by_name(org, org.children(None));
        stack.reverse();
        while let Some(id) = stack.pop() {
            out.extend(self.department_view(org, id));
            let mut kids = sorted_by_name(org, org.children(Some(id)));
            kids.reverse();
            stack.extend(kids);
        }
        Ok(out)
    }

    pub fn get_department(
        &self,
        actor: &Actor,
        id: DepartmentId,
    ) -> Result<Department, DomainError> {
        actor.require(perm::DIRECTORY_READ, None)?;
        self.department_view(&actor.org, id)
            .ok_or(DomainError::NotFound("department"))
    }

    pub async fn department_members(
        &self,
        actor: &Actor,
        id: DepartmentId,
    ) -> Result<Vec<User>, DomainError> {
        actor.require(perm::DIRECTORY_READ, None)?;
        let org = &actor.org;
        org.department(id)
            .ok_or(DomainError::NotFound("department"))?;
        let ids = org.people_in(id);
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.store.search_users(None, Some(&ids), 0, 10_000).await?)
    }

    pub async fn create_department(
        &self,
        actor: &Actor,
        req: CreateDepartmentRequest,
    ) -> Result<Department, DomainError> {
        let name = validate::label("name", &req.name, 100)?;
        actor.require(perm::ORG_MANAGE, req.parent_id)?;
        let at = self.clock.now();
        let after = json!({"name": name, "parent_id": req.parent_id});
        let id = self
            .change_org(
                Some(actor),
                "department.create",
                "department:{id}".into(),
                |org| {
                    if let Some(p) = req.parent_id {
                        org.department(p)
                            .ok_or(DomainError::NotFound("parent department"))?;
                        if org.ancestors_or_self(p).len() >= MAX_DEPTH {
                            return Err(DomainError::invalid(
                                "parent_id",
                                format!("departments nest at most {MAX_DEPTH} deep"),
                            ));
                        }
                    }
                    sibling_name_free(org, req.parent_id, &name, None)?;
                    Ok((
                        OrgChange::CreateDepartment {
                            name: name.clone(),
                            parent_id: req.parent_id,
                            at,
                        },
                        None,
                        Some(after),
                    ))
                },
            )
            .await?;
        self.department_view(&self.org(), DepartmentId(id))
            .ok_or(DomainError::NotFound("department"))
    }

    pub async fn update_department(
        &self,
        actor: &Actor,
        id: DepartmentId,
        req: UpdateDepartmentRequest,
    ) -> Result<Department, DomainError> {
        let new_name = req
            .name
            .as_deref()
            .map(|n| validate::label("name", n, 100))
            .transpose()?;
        if !actor.can(perm::DIRECTORY_READ, None) && !actor.can(perm::ORG_MANAGE, Some(id)) {
            return Err(DomainError::NotFound("department"));
        }
        actor.require(perm::ORG_MANAGE, Some(id))?;
        if let Some(parent) = req.parent_id {
            actor.require(perm::ORG_MANAGE, parent)?;
        }
        self.change_org(
            Some(actor),
            "department.update",
            format!("department:{id}"),
            |org| {
                let current = org
                    .department(id)
                    .ok_or(DomainError::NotFound("department"))?;
                let parent = req.parent_id.unwrap_or(current.parent_id);
                let name = new_name.clone().unwrap_or_else(|| current.name.clone());
                if let Some(p) = parent {
                    org.department(p)
                        .ok_or(DomainError::NotFound("parent department"))?;
                    if org.is_within(p, id) {
                        return Err(DomainError::invalid(
                            "parent_id",
                            "a department cannot move under itself or its own sub-department",
                        ));
                    }
                    if org.ancestors_or_self(p).len() + org.subtree_height(id) > MAX_DEPTH {
                        return Err(DomainError::invalid(
                            "parent_id",
                            format!("departments nest at most {MAX_DEPTH} deep"),
                        ));
                    }
                }
                sibling_name_free(org, parent, &name, Some(id))?;
                let before = json!({"name": current.name, "parent_id": current.parent_id});
                let after = json!({"name": name, "parent_id": parent});
                Ok((
                    OrgChange::UpdateDepartment {
                        id,
                        name,
                        parent_id: parent,
                    },
                    Some(before),
                    Some(after),
                ))
            },
        )
        .await?;
        if req.parent_id.is_some() {
            self.recompute_all_rules(actor.user_id).await?;
        }
        self.department_view(&self.org(), id)
            .ok_or(DomainError::NotFound("department"))
    }

    pub async fn delete_department(
        &self,
        actor: &Actor,
        id: DepartmentId,
    ) -> Result<(), DomainError> {
        actor.require(perm::ORG_MANAGE, Some(id))?;
        self.change_org(
            Some(actor),
            "department.delete",
            format!("department:{id}"),
            |org| {
                let current = org
                    .department(id)
                    .ok_or(DomainError::NotFound("department"))?;
                if !org.children(Some(id)).is_empty() {
                    return Err(DomainError::Conflict(
                        "the department has sub-departments; move or delete them first".into(),
                    ));
                }
                if org.member_count(id) > 0 {
                    return Err(DomainError::Conflict(
                        "the department has people in it; move them first".into(),
                    ));
                }
                if org.assignments().iter().any(|a| {
                    a.scope_department_id == Some(id) || a.subject == Subject::Department(id)
                }) {
                    return Err(DomainError::Conflict(
                        "roles are assigned to or scoped to this department; revoke them first"
                            .into(),
                    ));
                }
                let before = json!({"name": current.name, "parent_id": current.parent_id});
                Ok((OrgChange::DeleteDepartment { id }, Some(before), None))
            },
        )
        .await?;
        Ok(())
    }

    // People.

    fn profile_view(&self, org: &OrgSnapshot, p: StoredProfile) -> UserProfile {
        let path = p
            .placement
            .primary
            .map(|d| {
                org.path(d)
                    .into_iter()
                    .map(|n| DepartmentRef {
                        id: n.id,
                        name: n.name.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut user = p.user;
        user.is_admin = org.builtin_role(builtin_role::ORG_ADMIN).is_some_and(|r| {
            org.assignments().iter().any(|a| {
                a.role_id == r.id
                    && a.subject == Subject::User(user.id)
                    && a.scope_department_id.is_none()
            })
        });
        UserProfile {
            local_time: local_time(self.clock.now(), p.attributes.time_zone.as_deref()),
            user,
            status: p.status,
            title: p.attributes.title,
            region: p.attributes.region,
            employee_no: p.attributes.employee_no,
            phone: p.attributes.phone,
            time_zone: p.attributes.time_zone,
            locale: p.attributes.locale,
            manager_id: p.attributes.manager_id,
            project_tags: p.attributes.project_tags,
            primary_department_id: p.placement.primary,
            secondary_department_ids: p.placement.secondary,
            department_path: path,
            location_sharing: p.location_sharing,
        }
    }

    pub async fn user_profile(
        &self,
        actor: &Actor,
        id: UserId,
    ) -> Result<UserProfile, DomainError> {
        if id != actor.user_id {
            actor.require(perm::DIRECTORY_READ, None)?;
        }
        let profile = self
            .store
            .user_profile(id)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        Ok(self.profile_view(&actor.org, profile))
    }

    /// The directory: people search (name, username, email, employee number, pinyin) and
    /// paging, optionally within a department's subtree.
    pub async fn search_people(
        &self,
        actor: &Actor,
        q: UserListQuery,
    ) -> Result<Vec<User>, DomainError> {
        actor.require(perm::DIRECTORY_READ, None)?;
        let limit = self.page_limit(q.limit)?;
        let after = validate::non_negative("after", q.after.unwrap_or(0))?;
        let needle = match q.q.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) if s.chars().count() > 64 => {
                return Err(DomainError::invalid("q", "at most 64 characters"));
            }
            Some(s) => Some(s.to_lowercase()),
        };
        let among = match q.department_id {
            None => None,
            Some(d) => {
                let org = &actor.org;
                org.department(d)
                    .ok_or(DomainError::NotFound("department"))?;
                let mut ids: Vec<UserId> = org
                    .subtree(d)
                    .into_iter()
                    .flat_map(|s| org.people_in(s))
                    .collect();
                ids.sort();
                ids.dedup();
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                Some(ids)
            }
        };
        Ok(self
            .store
            .search_users(needle.as_deref(), among.as_deref(), after, limit)
            .await?)
    }

    pub async fn update_user(
        &self,
        actor: &Actor,
        id: UserId,
        req: UpdateUserRequest,
    ) -> Result<UserProfile, DomainError> {
        let current = self
            .store
            .user_profile(id)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        let home = actor.org.home_of(id);
        actor.require(perm::USER_MANAGE, home)?;
        if let Some(Some(d)) = req.primary_department_id {
            actor.require(perm::USER_MANAGE, Some(d))?;
        }
        for d in req.secondary_department_ids.iter().flatten() {
            actor.require(perm::USER_MANAGE, Some(*d))?;
        }
        if req.status.is_some_and(|s| s != UserStatus::Active) && id == actor.user_id {
            return Err(DomainError::invalid(
                "status",
                "you cannot suspend or deactivate yourself",
            ));
        }
        let display_name = match req.display_name.as_deref() {
            Some(d) => validate::label("display_name", d, 64)?,
            None => current.user.display_name.clone(),
        };
        let email = match req.email {
            Some(e) => e.as_deref().map(validate::email).transpose()?,
            None => current.user.email.clone(),
        };
        let a = &current.attributes;
        let pick =
            |new: Option<Option<String>>, old: &Option<String>| new.unwrap_or_else(|| old.clone());
        let attributes = UserAttributes {
            title: optional_attr("title", pick(req.title, &a.title), 100)?,
            region: optional_attr("region", pick(req.region, &a.region), 100)?,
            employee_no: optional_attr("employee_no", pick(req.employee_no, &a.employee_no), 32)?,
            phone: optional_attr("phone", pick(req.phone, &a.phone), 32)?,
            time_zone: time_zone(pick(req.time_zone, &a.time_zone))?,
            locale: locale(pick(req.locale, &a.locale))?,
            manager_id: req.manager_id.unwrap_or(a.manager_id),
            project_tags: project_tags(req.project_tags.unwrap_or_else(|| a.project_tags.clone()))?,
        };
        if attributes.manager_id == Some(id) {
            return Err(DomainError::invalid(
                "manager_id",
                "a person cannot be their own manager",
            ));
        }
        if let Some(m) = attributes.manager_id.filter(|m| Some(*m) != a.manager_id) {
            self.store
                .user_profile(m)
                .await?
                .ok_or(DomainError::NotFound("manager"))?;
        }
        let status = req.status.unwrap_or(current.status);
        let primary = req
            .primary_department_id
            .unwrap_or(current.placement.primary);
        let mut secondary = req
            .secondary_department_ids
            .unwrap_or_else(|| current.placement.secondary.clone());
        secondary.sort();
        secondary.dedup();
        secondary.retain(|d| Some(*d) != primary);
        if secondary.len() > 20 {
            return Err(DomainError::invalid(
                "secondary_department_ids",
                "at most 20 departments",
            ));
        }
        let search_key = search_key(
            &current.user.username,
            &display_name,
            email.as_deref(),
            attributes.employee_no.as_deref(),
        );
        let before = profile_json(
            &current.user.display_name,
            current.status,
            &current.attributes,
            current.placement.primary,
            &current.placement.secondary,
        );
        let after = profile_json(&display_name, status, &attributes, primary, &secondary);
        self.change_org(Some(actor), "user.update", format!("user:{id}"), |org| {
            for d in primary.iter().chain(&secondary) {
                org.department(*d)
                    .ok_or(DomainError::NotFound("department"))?;
            }
            Ok((
                OrgChange::UpdateUser {
                    id,
                    display_name,
                    email,
                    search_key,
                    status,
                    attributes,
                    primary_department: primary,
                    secondary_departments: secondary,
                },
                Some(before),
                Some(after),
            ))
        })
        .await?;
        if status != UserStatus::Active {
            self.presence.disconnect(id);
        }
        self.recompute_rules_for(id, actor.user_id).await?;
        self.user_profile_unchecked(id).await
    }

    /// What people may change about themselves.
    pub async fn update_me(
        &self,
        actor: &Actor,
        req: UpdateMeRequest,
    ) -> Result<UserProfile, DomainError> {
        let id = actor.user_id;
        if let Some(enabled) = req.location_sharing {
            self.set_location_sharing(actor, enabled).await?;
        }
        let current = self
            .store
            .user_profile(id)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        let display_name = match req.display_name.as_deref() {
            Some(d) => validate::label("display_name", d, 64)?,
            None => current.user.display_name.clone(),
        };
        let a = current.attributes.clone();
        let attributes = UserAttributes {
            phone: optional_attr("phone", req.phone.unwrap_or(a.phone.clone()), 32)?,
            time_zone: time_zone(req.time_zone.unwrap_or(a.time_zone.clone()))?,
            locale: locale(req.locale.unwrap_or(a.locale.clone()))?,
            ..a
        };
        let search_key = search_key(
            &current.user.username,
            &display_name,
            current.user.email.as_deref(),
            attributes.employee_no.as_deref(),
        );
        let before = profile_json(
            &current.user.display_name,
            current.status,
            &current.attributes,
            current.placement.primary,
            &current.placement.secondary,
        );
        let after = profile_json(
            &display_name,
            current.status,
            &attributes,
            current.placement.primary,
            &current.placement.secondary,
        );
        self.change_org(
            Some(actor),
            "user.update_self",
            format!("user:{id}"),
            |_| {
                Ok((
                    OrgChange::UpdateUser {
                        id,
                        display_name,
                        email: current.user.email.clone(),
                        search_key,
                        status: current.status,
                        attributes,
                        primary_department: current.placement.primary,
                        secondary_departments: current.placement.secondary.clone(),
                    },
                    Some(before),
                    Some(after),
                ))
            },
        )
        .await?;
        self.user_profile_unchecked(id).await
    }

    async fn user_profile_unchecked(&self, id: UserId) -> Result<UserProfile, DomainError> {
        let profile = self
            .store
            .user_profile(id)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        Ok(self.profile_view(&self.org(), profile))
    }

    // Permissions.

    pub fn list_permissions(&self, actor: &Actor) -> Result<Vec<Permission>, DomainError> {
        actor.require(perm::DIRECTORY_READ, None)?;
        Ok(actor.org.permissions())
    }

    pub async fn register_permission(
        &self,
        actor: &Actor,
        req: RegisterPermissionRequest,
    ) -> Result<Permission, DomainError> {
        actor.require(perm::ROLE_MANAGE, None)?;
        let name = permission_name(&req.name)?;
        let description = validate::optional_text("description", &req.description, 200)?;
        let at = self.clock.now();
        let after = json!({"name": name, "description": description});
        self.change_org(
            Some(actor),
            "permission.register",
            format!("permission:{name}"),
            |org| {
                if org.permission_exists(&name) {
                    return Err(DomainError::Conflict(format!(
                        "the permission {name} already exists"
                    )));
                }
                Ok((
                    OrgChange::RegisterPermission {
                        name: name.clone(),
                        description: description.clone(),
                        at,
                    },
                    None,
                    Some(after),
                ))
            },
        )
        .await?;
        Ok(Permission {
            name,
            description,
            builtin: false,
        })
    }

    /// "May user U do P in department D?"
    pub async fn check_permission(
        &self,
        actor: &Actor,
        q: PermissionCheckQuery,
    ) -> Result<PermissionCheck, DomainError> {
        if q.user_id != actor.user_id {
            actor.require(perm::PERMISSION_CHECK, None)?;
        }
        let org = &actor.org;
        if !org.permission_exists(&q.permission) {
            return Err(DomainError::NotFound("permission"));
        }
        if let Some(d) = q.department_id {
            org.department(d)
                .ok_or(DomainError::NotFound("department"))?;
        }
        self.store
            .user_profile(q.user_id)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        Ok(PermissionCheck {
            allowed: org.allows(q.user_id, &q.permission, q.department_id),
            user_id: q.user_id,
            permission: q.permission,
            department_id: q.department_id,
        })
    }

    pub fn my_permissions(&self, actor: &Actor) -> MyPermissions {
        let (org, scoped) = actor.org.permissions_of(actor.user_id);
        MyPermissions {
            org: org.into_iter().collect(),
            departments: scoped
                .into_iter()
                .map(|(d, set)| DepartmentPermissions {
                    department_id: d,
                    permissions: set.into_iter().collect(),
                })
                .collect(),
        }
    }

    // Roles.

    pub fn list_roles(&self, actor: &Actor) -> Result<Vec<Role>, DomainError> {
        actor.require(perm::DIRECTORY_READ, None)?;
        let mut roles: Vec<Role> = actor.org.roles().cloned().collect();
        roles.sort_by_key(|r| r.id);
        Ok(roles)
    }

    pub fn get_role(&self, actor: &Actor, id: RoleId) -> Result<Role, DomainError> {
        actor.require(perm::DIRECTORY_READ, None)?;
        actor
            .org
            .role(id)
            .cloned()
            .ok_or(DomainError::NotFound("role"))
    }

    fn role_permissions(org: &OrgSnapshot, perms: Vec<String>) -> Result<Vec<String>, DomainError> {
        if perms.len() > 200 {
            return Err(DomainError::invalid("permissions", "at most 200"));
        }
        let set: BTreeSet<String> = perms.into_iter().map(|p| p.trim().to_string()).collect();
        if let Some(unknown) = set.iter().find(|p| !org.permission_exists(p)) {
            return Err(DomainError::invalid(
                "permissions",
                format!("{unknown} is not in the catalogue; register it first"),
            ));
        }
        Ok(set.into_iter().collect())
    }

    pub async fn create_role(
        &self,
        actor: &Actor,
        req: CreateRoleRequest,
    ) -> Result<Role, DomainError> {
        actor.require(perm::ROLE_MANAGE, None)?;
        let name = validate::label("name", &req.name, 64)?;
        let description = validate::optional_text("description", &req.description, 200)?;
        let at = self.clock.now();
        let id = self
            .change_org(Some(actor), "role.create", "role:{id}".into(), |org| {
                if org
                    .roles()
                    .any(|r| r.name.to_lowercase() == name.to_lowercase())
                {
                    return Err(DomainError::Conflict(format!(
                        "a role named {name} already exists"
                    )));
                }
                let permissions = Self::role_permissions(org, req.permissions)?;
                let after =
                    json!({"name": name, "description": description, "permissions": permissions});
                Ok((
                    OrgChange::CreateRole {
                        name,
                        description,
                        permissions,
                        at,
                    },
                    None,
                    Some(after),
                ))
            })
            .await?;
        self.org()
            .role(RoleId(id))
            .cloned()
            .ok_or(DomainError::NotFound("role"))
    }

    pub async fn update_role(
        &self,
        actor: &Actor,
        id: RoleId,
        req: UpdateRoleRequest,
    ) -> Result<Role, DomainError> {
        actor.require(perm::ROLE_MANAGE, None)?;
        let name = req
            .name
            .as_deref()
            .map(|n| validate::label("name", n, 64))
            .transpose()?;
        let description = req
            .description
            .as_deref()
            .map(|d| validate::optional_text("description", d, 200))
            .transpose()?;
        self.change_org(Some(actor), "role.update", format!("role:{id}"), |org| {
            let current = org.role(id).ok_or(DomainError::NotFound("role"))?;
            let name = name.unwrap_or_else(|| current.name.clone());
            if org.roles().any(|r| r.id != id && r.name.to_lowercase() == name.to_lowercase()) {
                return Err(DomainError::Conflict(format!("a role named {name} already exists")));
            }
            let permissions = match req.permissions {
                Some(p) => Self::role_permissions(org, p)?,
                None => current.permissions.clone(),
            };
            if current.builtin.as_deref() == Some(builtin_role::ORG_ADMIN) && permissions != current.permissions {
                return Err(DomainError::invalid("permissions", "the org admin role always holds every permission"));
            }
            let description = description.unwrap_or_else(|| current.description.clone());
            let before = json!({"name": current.name, "description": current.description, "permissions": current.permissions});
            let after = json!({"name": name, "description": description, "permissions": permissions});
            Ok((OrgChange::UpdateRole { id, name, description, permissions }, Some(before), Some(after)))
        })
        .await?;
        self.org()
            .role(id)
            .cloned()
            .ok_or(DomainError::NotFound("role"))
    }

    pub async fn delete_role(&self, actor: &Actor, id: RoleId) -> Result<(), DomainError> {
        actor.require(perm::ROLE_MANAGE, None)?;
        self.change_org(Some(actor), "role.delete", format!("role:{id}"), |org| {
            let current = org.role(id).ok_or(DomainError::NotFound("role"))?;
            if current.builtin.is_some() {
                return Err(DomainError::invalid(
                    "role",
                    "built-in roles cannot be deleted",
                ));
            }
            let before = json!({"name": current.name, "permissions": current.permissions});
            Ok((OrgChange::DeleteRole { id }, Some(before), None))
        })
        .await?;
        Ok(())
    }

    // Assignments.

    /// Org role managers see every assignment; department admins those scoped inside the
    /// subtrees they manage.
    pub fn list_assignments(
        &self,
        actor: &Actor,
        q: AssignmentQuery,
    ) -> Result<Vec<RoleAssignment>, DomainError> {
        let org = &actor.org;
        let everything = actor.can(perm::ROLE_MANAGE, None);
        let visible = |a: &RoleAssignment| {
            everything
                || a.scope_department_id
                    .is_some_and(|d| actor.can(perm::ROLE_MANAGE, Some(d)))
        };
        if !everything
            && !org
                .departments()
                .any(|d| actor.can(perm::ROLE_MANAGE, Some(d.id)))
        {
            return Err(DomainError::MissingPermission(perm::ROLE_MANAGE.into()));
        }
        Ok(org
            .assignments()
            .iter()
            .filter(|a| visible(a))
            .filter(|a| q.role_id.is_none_or(|r| a.role_id == r))
            .filter(|a| q.user_id.is_none_or(|u| a.subject == Subject::User(u)))
            .filter(|a| {
                q.department_id.is_none_or(|d| {
                    a.subject == Subject::Department(d) || a.scope_department_id == Some(d)
                })
            })
            .cloned()
            .collect())
    }

    pub async fn create_assignment(
        &self,
        actor: &Actor,
        req: CreateAssignmentRequest,
    ) -> Result<RoleAssignment, DomainError> {
        actor.require(perm::ROLE_MANAGE, req.scope_department_id)?;
        if let Subject::User(u) = req.subject {
            self.store
                .user_profile(u)
                .await?
                .ok_or(DomainError::NotFound("user"))?;
        }
        let at = self.clock.now();
        let target = match req.subject {
            Subject::User(u) => format!("user:{u}"),
            Subject::Department(d) => format!("department:{d}"),
        };
        let id = self
            .change_org(Some(actor), "role.assign", target, |org| {
                let role = org.role(req.role_id).ok_or(DomainError::NotFound("role"))?;
                if let Some(d) = req.scope_department_id {
                    org.department(d).ok_or(DomainError::NotFound("scope department"))?;
                }
                if let Subject::Department(d) = req.subject {
                    org.department(d).ok_or(DomainError::NotFound("department"))?;
                }
                // No escalation: only what the actor holds at that scope can be handed on.
                if let Some(p) = role.permissions.iter().find(|p| !actor.can(p, req.scope_department_id)) {
                    return Err(DomainError::MissingPermission(p.clone()));
                }
                if org.assignments().iter().any(|a| a.role_id == req.role_id && a.subject == req.subject && a.scope_department_id == req.scope_department_id) {
                    return Err(DomainError::Conflict("this role is already assigned so".into()));
                }
                let after = json!({"role_id": req.role_id, "role": role.name, "subject": req.subject, "scope_department_id": req.scope_department_id});
                Ok((OrgChange::Assign { role_id: req.role_id, subject: req.subject, scope: req.scope_department_id, at }, None, Some(after)))
            })
            .await?;
        self.org()
            .assignment(AssignmentId(id))
            .cloned()
            .ok_or(DomainError::NotFound("assignment"))
    }

    pub async fn delete_assignment(
        &self,
        actor: &Actor,
        id: AssignmentId,
    ) -> Result<(), DomainError> {
        let scope = actor.org.assignment(id).map(|a| a.scope_department_id);
        let Some(scope) = scope else {
            return Err(DomainError::NotFound("assignment"));
        };
        actor.require(perm::ROLE_MANAGE, scope)?;
        self.change_org(Some(actor), "role.revoke", format!("assignment:{id}"), |org| {
            let a = org.assignment(id).ok_or(DomainError::NotFound("assignment"))?;
            let before = json!({"role_id": a.role_id, "subject": a.subject, "scope_department_id": a.scope_department_id});
            Ok((OrgChange::Unassign { id }, Some(before), None))
        })
        .await?;
        Ok(())
    }

    // Audit.

    pub async fn audit_entries(
        &self,
        actor: &Actor,
        q: AuditQuery,
    ) -> Result<Vec<AuditEntry>, DomainError> {
        actor.require(perm::AUDIT_READ, None)?;
        let limit = self.page_limit(q.limit)?;
        let (action, prefix) = match q.action {
            Some(a) if a.ends_with('.') => (Some(a), true),
            other => (other, false),
        };
        Ok(self
            .store
            .audit_entries(AuditFilter {
                actor_id: q.actor_id,
                action,
                action_prefix: prefix,
                target: q.target,
                from: q.from,
                to: q.to,
                before_id: q.before,
                limit,
            })
            .await?)
    }
}

fn sorted_by_name(org: &OrgSnapshot, ids: &[DepartmentId]) -> Vec<DepartmentId> {
    let mut v = ids.to_vec();
    v.sort_by(|a, b| {
        let name = |d: &DepartmentId| {
            org.department(*d)
                .map(|n| n.name.clone())
                .unwrap_or_default()
        };
        name(a).cmp(&name(b)).then(a.cmp(b))
    });
    v
}

pub(super) fn sibling_name_free(
    org: &OrgSnapshot,
    parent: Option<DepartmentId>,
    name: &str,
    except: Option<DepartmentId>,
) -> Result<(), DomainError> {
    let taken = org.children(parent).iter().any(|c| {
        Some(*c) != except
            && org
                .department(*c)
                .is_some_and(|d| d.name.to_lowercase() == name.to_lowercase())
    });
    if taken {
        return Err(DomainError::Conflict(format!(
            "a department named {name} already exists there"
        )));
    }
    Ok(())
}

pub(super) fn profile_json(
    display_name: &str,
    status: UserStatus,
    a: &UserAttributes,
    primary: Option<DepartmentId>,
    secondary: &[DepartmentId],
) -> serde_json::Value {
    json!({
        "display_name": display_name,
        "status": status,
        "title": a.title,
        "region": a.region,
        "employee_no": a.employee_no,
        "phone": a.phone,
        "time_zone": a.time_zone,
        "locale": a.locale,
        "manager_id": a.manager_id,
        "project_tags": a.project_tags,
        "primary_department_id": primary,
        "secondary_department_ids": secondary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_key_has_pinyin_in_full_and_initials() {
        let key = search_key("zhangsan", "张三", Some("ZS@example.com"), Some("E1001"));
        assert!(key.contains("zhangsan"));
        assert!(key.split(' ').any(|w| w == "zs"));
        assert!(key.contains("e1001"));
        assert!(key.contains("zs@example.com"));
    }

    #[test]
    fn permission_names_are_dotted_lower_case() {
        assert!(permission_name("resume_library.read").is_ok());
        for bad in ["resume", "Resume.read", "a..b", ".a", "a.b-c", "中文.read"] {
            assert!(permission_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_zones_and_locales_are_checked() {
        assert!(time_zone(Some("Asia/Shanghai".into())).is_ok());
        assert!(time_zone(Some("Mars/Olympus".into())).is_err());
        assert!(locale(Some("zh-CN".into())).is_ok());
        assert!(locale(Some("en".into())).is_ok());
        assert!(locale(Some("not a locale".into())).is_err());
    }

    #[test]
    fn local_time_is_in_the_zone() {
        let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(
            local_time(now, Some("Asia/Shanghai")).unwrap(),
            "2026-01-01T08:00:00+08:00"
        );
        assert!(local_time(now, None).is_none());
    }
}
