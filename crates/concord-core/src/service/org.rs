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
use crate::store::{NewAudit, OrgChange, StoredProfile, UserAttributes};
use crate::validate;
use concord_proto::{
    CreateDepartmentRequest, Department, DepartmentId, DepartmentRef, Subject,
    UpdateDepartmentRequest, UpdateMeRequest, UpdateUserRequest, User, UserId, UserListQuery,
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
        // No managing up: someone who administers the organisation is managed only by
        // those who manage people organisation-wide.
        if id != actor.user_id && Self::holds_org_admin_powers(&actor.org, id) {
            actor.require(perm::USER_MANAGE, None)?;
        }
        // Placing someone in a department hands them the roles given to it (and its
        // ancestors): that is assigning roles, so it needs role.manage there.
        let new_places: Vec<DepartmentId> = req
            .primary_department_id
            .flatten()
            .into_iter()
            .chain(req.secondary_department_ids.iter().flatten().copied())
            .filter(|d| {
                current.placement.primary != Some(*d) && !current.placement.secondary.contains(d)
            })
            .collect();
        for d in new_places {
            let grants_there = actor.org.ancestors_or_self(d).into_iter().any(|up| {
                actor
                    .org
                    .assignments()
                    .iter()
                    .any(|a| a.subject == Subject::Department(up))
            });
            if grants_there {
                actor.require(perm::ROLE_MANAGE, Some(d))?;
            }
        }
        // Removing a department from someone needs authority there too.
        for d in current
            .placement
            .primary
            .iter()
            .chain(&current.placement.secondary)
        {
            let kept = req.primary_department_id.is_none_or(|p| p == Some(*d))
                && req
                    .secondary_department_ids
                    .as_ref()
                    .is_none_or(|list| list.contains(d))
                || req.primary_department_id.is_none() && current.placement.primary == Some(*d)
                || req
                    .secondary_department_ids
                    .as_ref()
                    .is_some_and(|list| list.contains(d));
            if !kept {
                actor.require(perm::USER_MANAGE, Some(*d))?;
            }
        }
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

    /// Whether `user` holds, organisation-wide, a permission that administers others.
    fn holds_org_admin_powers(org: &OrgSnapshot, user: UserId) -> bool {
        [
            perm::ORG_MANAGE,
            perm::USER_MANAGE,
            perm::ROLE_MANAGE,
            perm::AUDIT_READ,
        ]
        .iter()
        .any(|p| org.allows(user, p, None))
    }

    async fn user_profile_unchecked(&self, id: UserId) -> Result<UserProfile, DomainError> {
        let profile = self
            .store
            .user_profile(id)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        Ok(self.profile_view(&self.org(), profile))
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
