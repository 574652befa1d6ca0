//! The permission catalogue, roles and their assignments, the permission check, and the
//! audit log's query API. Changes go through [`Services::change_org`] like every other
//! change to the organisation.

use super::Services;
use crate::authz::Actor;
use crate::error::DomainError;
use crate::org::{OrgSnapshot, builtin_role, perm};
use crate::store::{AuditFilter, OrgChange};
use crate::validate;
use concord_proto::{
    AssignmentId, AssignmentQuery, AuditEntry, AuditQuery, CreateAssignmentRequest,
    CreateRoleRequest, DepartmentPermissions, MyPermissions, Permission, PermissionCheck,
    PermissionCheckQuery, RegisterPermissionRequest, Role, RoleAssignment, RoleId, Subject,
    UpdateRoleRequest,
};
use serde_json::json;
use std::collections::BTreeSet;

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

impl Services {
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

    /// Starts an export of the audit entries matching `q` (all of them, newest first): checks
    /// `audit.read` and records the export itself first — if that entry cannot be written,
    /// nothing is exported. The returned handle pages through the entries.
    pub async fn begin_audit_export(
        &self,
        actor: &Actor,
        q: AuditQuery,
    ) -> Result<AuditExport, DomainError> {
        actor.require(perm::AUDIT_READ, None)?;
        let (action, prefix) = match q.action.clone() {
            Some(a) if a.ends_with('.') => (Some(a), true),
            other => (other, false),
        };
        let query = serde_json::json!({
            "actor_id": q.actor_id, "action": q.action, "target": q.target,
            "from": q.from, "to": q.to, "before": q.before,
        });
        self.audit(Some(actor), "audit.export", "audit_log".into(), Some(query))
            .await?;
        Ok(AuditExport {
            filter: AuditFilter {
                actor_id: q.actor_id,
                action,
                action_prefix: prefix,
                target: q.target,
                from: q.from,
                to: q.to,
                before_id: q.before,
                limit: 1000,
            },
        })
    }

    /// The next page of an export (empty when done).
    pub async fn next_audit_export_page(
        &self,
        export: &mut AuditExport,
    ) -> Result<Vec<AuditEntry>, DomainError> {
        let page = self.store.audit_entries(export.filter.clone()).await?;
        if let Some(last) = page.last() {
            export.filter.before_id = Some(last.id);
        }
        Ok(page)
    }
}

/// An authorised, audited export in progress (see [`Services::begin_audit_export`]).
pub struct AuditExport {
    filter: AuditFilter,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_names_are_dotted_lower_case() {
        assert!(permission_name("resume_library.read").is_ok());
        for bad in ["resume", "Resume.read", "a..b", ".a", "a.b-c", "中文.read"] {
            assert!(permission_name(bad).is_err(), "{bad}");
        }
    }
}
