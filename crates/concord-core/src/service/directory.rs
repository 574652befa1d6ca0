//! Directory sync: provisioning people and departments from an identity provider (SCIM) or a
//! directory server (LDAP). Both entry points call these functions; they validate like the
//! admin API does, apply each change through the organisation's change path (checked under
//! the org lock, audited in the same transaction, snapshot reloaded), and record where each
//! record came from (`external_source`, `external_id`).
//!
//! The caller is the directory itself, with the operator's authority (no [`crate::Actor`]):
//! audit entries have no actor and name the source in their action (`scim.user.create`,
//! `ldap.department.update`, ...).
//!
//! Rules: people a directory deactivates keep their messages and lose their sessions; a
//! record from one source is never claimed by another; people created without a password get
//! an unusable password hash (they sign in through SSO).

use super::Services;
use super::org::{locale, optional_attr, profile_json, sibling_name_free, time_zone};
use crate::credentials;
use crate::error::DomainError;
use crate::org::{MAX_DEPTH, OrgSnapshot};
use crate::store::{
    DirectoryChange, DirectoryUserState, ExternalRef, NewUser, OrgChange, StoredProfile,
    UserAttributes,
};
use crate::validate;
use concord_proto::{DepartmentId, Subject, UserId, UserStatus};
use rand::RngCore;
use serde_json::json;

/// The source name of people and departments provisioned over SCIM.
pub const SOURCE_SCIM: &str = "scim";
/// The source name of people and departments imported from LDAP.
pub const SOURCE_LDAP: &str = "ldap";

/// What a directory says about a person. Start from [`Services::directory_record`] to keep
/// what the directory does not manage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirectoryPerson {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// `false` deactivates (a suspended person stays suspended).
    pub active: bool,
    pub title: Option<String>,
    pub phone: Option<String>,
    pub employee_no: Option<String>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    pub manager_id: Option<UserId>,
    pub primary_department: Option<DepartmentId>,
    /// The record's id in the directory (LDAP `entryUUID`, SCIM `externalId`).
    pub external_id: Option<String>,
    /// A new password (SCIM may send one); never read back.
    pub password: Option<String>,
}

/// A person as the directory sees them, with the stored profile and where they came from.
#[derive(Clone, Debug)]
pub struct DirectoryRecord {
    pub person: DirectoryPerson,
    pub profile: StoredProfile,
    pub external: Option<ExternalRef>,
}

/// A password hash no password matches: the PHC parser refuses it, so logins fail and the
/// person signs in through SSO until someone sets a password.
fn unusable_password_hash() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("!directory:{}", hex::encode(bytes))
}

fn external_id(raw: Option<&str>) -> Result<Option<String>, DomainError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.len() > 256 || s.chars().any(char::is_control) => Err(DomainError::invalid(
            "externalId",
            "must be at most 256 bytes without control characters",
        )),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// The checked attributes, display name and email of `p`.
struct Checked {
    display_name: String,
    email: Option<String>,
    title: Option<String>,
    phone: Option<String>,
    employee_no: Option<String>,
    time_zone: Option<String>,
    locale: Option<String>,
    external_id: Option<String>,
}

fn check_person(p: &DirectoryPerson) -> Result<Checked, DomainError> {
    Ok(Checked {
        display_name: validate::label("display_name", &p.display_name, 64)?,
        email: p.email.as_deref().map(validate::email).transpose()?,
        title: optional_attr("title", p.title.clone(), 100)?,
        phone: optional_attr("phone", p.phone.clone(), 32)?,
        employee_no: optional_attr("employee_no", p.employee_no.clone(), 32)?,
        time_zone: time_zone(p.time_zone.clone())?,
        locale: locale(p.locale.clone())?,
        external_id: external_id(p.external_id.as_deref())?,
    })
}

fn check_department_exists(org: &OrgSnapshot, d: Option<DepartmentId>) -> Result<(), DomainError> {
    if let Some(d) = d {
        org.department(d)
            .ok_or(DomainError::NotFound("department"))?;
    }
    Ok(())
}

impl Services {
    async fn directory_password(
        &self,
        password: Option<String>,
    ) -> Result<Option<String>, DomainError> {
        let Some(password) = password else {
            return Ok(None);
        };
        validate::password(&password)?;
        let hash = self
            .hash_job(move || credentials::hash_password(&password))
            .await?
            .map_err(DomainError::Unavailable)?;
        Ok(Some(hash))
    }

    async fn check_manager(
        &self,
        manager: Option<UserId>,
        of: Option<UserId>,
    ) -> Result<(), DomainError> {
        if let Some(m) = manager {
            if Some(m) == of {
                return Err(DomainError::invalid(
                    "manager",
                    "a person cannot be their own manager",
                ));
            }
            self.store
                .user_profile(m)
                .await?
                .ok_or(DomainError::NotFound("manager"))?;
        }
        Ok(())
    }

    /// A person (any status) as a directory sees them.
    pub async fn directory_record(&self, id: UserId) -> Result<DirectoryRecord, DomainError> {
        let profile = self
            .store
            .user_profile(id)
            .await?
            .ok_or(DomainError::NotFound("user"))?;
        let external = self.store.user_external_ref(id).await?;
        let a = &profile.attributes;
        let person = DirectoryPerson {
            username: profile.user.username.clone(),
            display_name: profile.user.display_name.clone(),
            email: profile.user.email.clone(),
            active: profile.status == UserStatus::Active,
            title: a.title.clone(),
            phone: a.phone.clone(),
            employee_no: a.employee_no.clone(),
            time_zone: a.time_zone.clone(),
            locale: a.locale.clone(),
            manager_id: a.manager_id,
            primary_department: profile.placement.primary,
            external_id: external.as_ref().and_then(|e| e.id.clone()),
            password: None,
        };
        Ok(DirectoryRecord {
            person,
            profile,
            external,
        })
    }

    /// Creates a person from `source`.
    pub async fn provision_user(
        &self,
        source: &str,
        person: DirectoryPerson,
    ) -> Result<UserId, DomainError> {
        let username = validate::username(&person.username)?;
        let c = check_person(&person)?;
        self.check_manager(person.manager_id, None).await?;
        let password_hash = match self.directory_password(person.password.clone()).await? {
            Some(h) => h,
            None => unusable_password_hash(),
        };
        let status = if person.active {
            UserStatus::Active
        } else {
            UserStatus::Deactivated
        };
        let attributes = UserAttributes {
            title: c.title,
            employee_no: c.employee_no,
            phone: c.phone,
            time_zone: c.time_zone,
            locale: c.locale,
            manager_id: person.manager_id,
            ..UserAttributes::default()
        };
        let search_key = super::search_key(
            &username,
            &c.display_name,
            c.email.as_deref(),
            attributes.employee_no.as_deref(),
        );
        let mut after = profile_json(
            &c.display_name,
            status,
            &attributes,
            person.primary_department,
            &[],
        );
        after["username"] = json!(username);
        after["external_id"] = json!(c.external_id);
        let external = ExternalRef {
            source: source.to_string(),
            id: c.external_id,
        };
        let user = NewUser {
            username,
            email: c.email.clone(),
            display_name: c.display_name.clone(),
            password_hash,
            is_admin: false,
            guest: false,
            search_key: search_key.clone(),
            created_at: self.clock.now(),
            audit: None,
        };
        let state = DirectoryUserState {
            display_name: c.display_name,
            email: c.email,
            search_key,
            status,
            attributes,
            primary_department: person.primary_department,
            secondary_departments: Vec::new(),
            external: Some(Some(external)),
            password_hash: None,
        };
        let id = self
            .change_org(
                None,
                &format!("{source}.user.create"),
                "user:{id}".into(),
                |org| {
                    check_department_exists(org, state.primary_department)?;
                    Ok((
                        OrgChange::Directory(DirectoryChange::CreateUser { user, state }),
                        None,
                        Some(after),
                    ))
                },
            )
            .await?;
        Ok(UserId(id))
    }

    /// Replaces what the directory manages about person `id` with `person`. The username
    /// cannot change (only its case); people from another source are updated but keep
    /// their external reference.
    pub async fn update_provisioned_user(
        &self,
        source: &str,
        id: UserId,
        person: DirectoryPerson,
    ) -> Result<(), DomainError> {
        let current = self.directory_record(id).await?;
        let profile = &current.profile;
        if validate::username(&person.username)? != profile.user.username {
            return Err(DomainError::invalid(
                "userName",
                format!(
                    "usernames cannot change in Concord (this person is {})",
                    profile.user.username
                ),
            ));
        }
        let c = check_person(&person)?;
        if person.manager_id != profile.attributes.manager_id {
            self.check_manager(person.manager_id, Some(id)).await?;
        } else if person.manager_id == Some(id) {
            return Err(DomainError::invalid(
                "manager",
                "a person cannot be their own manager",
            ));
        }
        let password_hash = self.directory_password(person.password.clone()).await?;
        let status = match (person.active, profile.status) {
            (true, _) => UserStatus::Active,
            (false, UserStatus::Active) => UserStatus::Deactivated,
            (false, other) => other,
        };
        let attributes = UserAttributes {
            title: c.title,
            employee_no: c.employee_no,
            phone: c.phone,
            time_zone: c.time_zone,
            locale: c.locale,
            manager_id: person.manager_id,
            ..profile.attributes.clone()
        };
        // A record from another source stays that source's.
        let external = match &current.external {
            Some(e) if e.source != source => None,
            _ => Some(Some(ExternalRef {
                source: source.to_string(),
                id: c.external_id.clone(),
            })),
        };
        let mut secondary = profile.placement.secondary.clone();
        secondary.retain(|d| Some(*d) != person.primary_department);
        let search_key = super::search_key(
            &profile.user.username,
            &c.display_name,
            c.email.as_deref(),
            attributes.employee_no.as_deref(),
        );
        let mut before = profile_json(
            &profile.user.display_name,
            profile.status,
            &profile.attributes,
            profile.placement.primary,
            &profile.placement.secondary,
        );
        before["email"] = json!(profile.user.email);
        before["external_id"] = json!(current.external.as_ref().and_then(|e| e.id.clone()));
        let mut after = profile_json(
            &c.display_name,
            status,
            &attributes,
            person.primary_department,
            &secondary,
        );
        after["email"] = json!(c.email);
        after["external_id"] = json!(match &external {
            Some(e) => e.as_ref().and_then(|e| e.id.clone()),
            None => current.external.as_ref().and_then(|e| e.id.clone()),
        });
        if password_hash.is_some() {
            after["password"] = json!("changed");
        }
        let state = DirectoryUserState {
            display_name: c.display_name,
            email: c.email,
            search_key,
            status,
            attributes,
            primary_department: person.primary_department,
            secondary_departments: secondary,
            external,
            password_hash,
        };
        self.change_org(
            None,
            &format!("{source}.user.update"),
            format!("user:{id}"),
            |org| {
                check_department_exists(org, state.primary_department)?;
                for d in &state.secondary_departments {
                    check_department_exists(org, Some(*d))?;
                }
                Ok((
                    OrgChange::Directory(DirectoryChange::UpdateUser { id, state }),
                    Some(before),
                    Some(after),
                ))
            },
        )
        .await?;
        if status != UserStatus::Active {
            self.presence.disconnect(id);
        }
        Ok(())
    }

    /// Deactivates person `id` (their messages stay; their sessions end).
    pub async fn deactivate_provisioned_user(
        &self,
        source: &str,
        id: UserId,
    ) -> Result<(), DomainError> {
        let mut person = self.directory_record(id).await?.person;
        if !person.active {
            return Ok(());
        }
        person.active = false;
        self.update_provisioned_user(source, id, person).await
    }

    // Departments.

    /// Creates a department from `source`.
    pub async fn provision_department(
        &self,
        source: &str,
        name: &str,
        parent_id: Option<DepartmentId>,
        external: Option<&str>,
    ) -> Result<DepartmentId, DomainError> {
        let name = validate::label("displayName", name, 100)?;
        let external_id = external_id(external)?;
        let at = self.clock.now();
        let after = json!({"name": name, "parent_id": parent_id, "external_id": external_id});
        let id = self
            .change_org(
                None,
                &format!("{source}.department.create"),
                "department:{id}".into(),
                |org| {
                    if let Some(p) = parent_id {
                        org.department(p)
                            .ok_or(DomainError::NotFound("parent department"))?;
                        if org.ancestors_or_self(p).len() >= MAX_DEPTH {
                            return Err(DomainError::invalid(
                                "parent",
                                format!("departments nest at most {MAX_DEPTH} deep"),
                            ));
                        }
                    }
                    sibling_name_free(org, parent_id, &name, None)?;
                    Ok((
                        OrgChange::Directory(DirectoryChange::CreateDepartment {
                            name,
                            parent_id,
                            at,
                            external: Some(ExternalRef {
                                source: source.to_string(),
                                id: external_id,
                            }),
                        }),
                        None,
                        Some(after),
                    ))
                },
            )
            .await?;
        Ok(DepartmentId(id))
    }

    /// Renames or moves department `id`; `external` (when `Some`) replaces its external id.
    pub async fn update_provisioned_department(
        &self,
        source: &str,
        id: DepartmentId,
        name: &str,
        parent_id: Option<DepartmentId>,
        external: Option<Option<&str>>,
    ) -> Result<(), DomainError> {
        let name = validate::label("displayName", name, 100)?;
        let external = external.map(external_id).transpose()?;
        let mut old_external = None;
        if external.is_some() {
            old_external = self
                .store
                .department_external_refs()
                .await?
                .into_iter()
                .find(|(d, _)| *d == id)
                .map(|(_, e)| e);
        }
        let external = match (&old_external, external) {
            (Some(e), Some(_)) if e.source != source => None,
            (_, Some(new)) => Some(Some(ExternalRef {
                source: source.to_string(),
                id: new,
            })),
            (_, None) => None,
        };
        self.change_org(
            None,
            &format!("{source}.department.update"),
            format!("department:{id}"),
            |org| {
                let current = org
                    .department(id)
                    .ok_or(DomainError::NotFound("department"))?;
                if let Some(p) = parent_id {
                    org.department(p)
                        .ok_or(DomainError::NotFound("parent department"))?;
                    if org.is_within(p, id) {
                        return Err(DomainError::invalid(
                            "parent",
                            "a department cannot move under itself or its own sub-department",
                        ));
                    }
                    if org.ancestors_or_self(p).len() + org.subtree_height(id) > MAX_DEPTH {
                        return Err(DomainError::invalid(
                            "parent",
                            format!("departments nest at most {MAX_DEPTH} deep"),
                        ));
                    }
                }
                sibling_name_free(org, parent_id, &name, Some(id))?;
                let before = json!({"name": current.name, "parent_id": current.parent_id,
                    "external_id": old_external.as_ref().and_then(|e| e.id.clone())});
                let after = json!({"name": name, "parent_id": parent_id,
                    "external_id": external.as_ref().map(|e| e.as_ref().and_then(|e| e.id.clone()))});
                Ok((
                    OrgChange::Directory(DirectoryChange::UpdateDepartment {
                        id,
                        name,
                        parent_id,
                        external,
                    }),
                    Some(before),
                    Some(after),
                ))
            },
        )
        .await?;
        Ok(())
    }

    /// Deletes department `id` if it is empty (no sub-departments, people or role grants);
    /// otherwise a conflict saying what is in the way.
    pub async fn delete_provisioned_department(
        &self,
        source: &str,
        id: DepartmentId,
    ) -> Result<(), DomainError> {
        let placed = self.store.department_people(id).await?.len();
        self.change_org(
            None,
            &format!("{source}.department.delete"),
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
                if org.member_count(id) > 0 || placed > 0 {
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

    /// Makes department `id` the primary department of `add` and takes it from `remove`
    /// (whose primary department it is; they are left without one).
    pub async fn set_department_members(
        &self,
        source: &str,
        id: DepartmentId,
        add: Vec<UserId>,
        remove: Vec<UserId>,
    ) -> Result<(), DomainError> {
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
        for u in add.iter().chain(&remove) {
            self.store
                .user_profile(*u)
                .await?
                .ok_or(DomainError::NotFound("member"))?;
        }
        let after = json!({"added": add, "removed": remove});
        self.change_org(
            None,
            &format!("{source}.department.members"),
            format!("department:{id}"),
            |org| {
                org.department(id)
                    .ok_or(DomainError::NotFound("department"))?;
                Ok((
                    OrgChange::Directory(DirectoryChange::SetMembers {
                        department: id,
                        add,
                        remove,
                    }),
                    None,
                    Some(after),
                ))
            },
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusable_hashes_verify_nothing() {
        let h = unusable_password_hash();
        assert!(h.starts_with('!'));
        assert!(!credentials::verify_password("", &h));
        assert!(!credentials::verify_password(&h, &h));
        assert_ne!(h, unusable_password_hash());
    }

    #[test]
    fn external_ids_are_checked() {
        assert_eq!(external_id(Some("  ")).unwrap(), None);
        assert_eq!(external_id(Some("abc")).unwrap(), Some("abc".into()));
        assert!(external_id(Some("a\u{0}b")).is_err());
        assert!(external_id(Some(&"x".repeat(300))).is_err());
    }
}
