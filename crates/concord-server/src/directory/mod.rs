//! Directory sync from LDAP: `concord directory sync-ldap` and the server's scheduled import
//! (`[ldap] sync_interval_secs`). Reads the directory (`ldap.rs`), then brings Concord in line
//! through the directory services of `concord-core` (validated, audited, snapshot reloaded):
//!
//! - OUs under `base_dn` become departments, nested as the OUs are; a renamed or moved OU
//!   renames or moves its department (matched by the stable id attribute, `entryUUID`).
//! - Entries matching `user_filter` become people, placed in the department of their nearest
//!   OU; their mapped attributes follow the directory; unmapped ones stay Concord's.
//! - People imported earlier whose entry is gone are deactivated (messages kept, sessions
//!   ended); a returning entry reactivates them. People not from LDAP are never touched, and a
//!   username taken by one of them is reported, not merged.
//! - Each change is audited on its own (`ldap.user.create`, ...), and the run as `ldap.sync`.

pub mod ldap;

use crate::config::LdapConfig;
use crate::state::AppState;
use concord_core::Services;
use concord_core::service::{DirectoryPerson, SOURCE_LDAP};
use concord_core::store::{DirectoryUserFilter, SourcedUser};
use concord_proto::{DepartmentId, UserId, UserStatus};
use ldap::{LdapDirectory, LdapPerson, parent_dn};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What one run changed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SyncSummary {
    pub users_created: usize,
    pub users_updated: usize,
    pub users_unchanged: usize,
    pub users_deactivated: usize,
    pub users_reactivated: usize,
    pub departments_created: usize,
    pub departments_moved: usize,
    pub departments_renamed: usize,
    /// Entries or changes that were not applied, with why.
    pub skipped: Vec<String>,
}

impl fmt::Display for SyncSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "LDAP sync: users {} created, {} updated, {} deactivated, {} reactivated, {} unchanged; \
             departments {} created, {} moved, {} renamed; {} skipped",
            self.users_created,
            self.users_updated,
            self.users_deactivated,
            self.users_reactivated,
            self.users_unchanged,
            self.departments_created,
            self.departments_moved,
            self.departments_renamed,
            self.skipped.len()
        )?;
        for s in &self.skipped {
            writeln!(f, "  skipped: {s}")?;
        }
        Ok(())
    }
}

/// Runs one import: reads the directory, applies it, audits the run.
pub async fn sync_ldap(services: &Services, config: &LdapConfig) -> Result<SyncSummary, String> {
    let dir = ldap::read_directory(config).await?;
    let mut summary = apply(services, &dir).await?;
    summary.skipped.splice(0..0, dir.skipped.iter().cloned());
    let after = serde_json::to_value(&summary).ok();
    services
        .audit(None, "ldap.sync", format!("directory:{}", dir.base), after)
        .await
        .map_err(|e| format!("cannot audit the run: {e}"))?;
    Ok(summary)
}

/// The nearest OU above `dn` that is a department, by normalised DN.
fn department_of(
    dn: &str,
    units: &HashMap<String, DepartmentId>,
    base: &str,
) -> Option<DepartmentId> {
    let mut cur = parent_dn(dn);
    while let Some(d) = cur {
        if d == base {
            return None;
        }
        if let Some(id) = units.get(d) {
            return Some(*id);
        }
        cur = parent_dn(d);
    }
    None
}

fn depth(dn: &str) -> usize {
    let mut n = 0;
    let mut cur = Some(dn);
    while let Some(d) = cur {
        n += 1;
        cur = parent_dn(d);
    }
    n
}

fn normalized(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// `current` with what the directory maps from `p` laid over it.
fn overlay(
    mut person: DirectoryPerson,
    p: &LdapPerson,
    department: Option<DepartmentId>,
) -> DirectoryPerson {
    let set = |field: &mut Option<String>, v: &Option<Option<String>>| {
        if let Some(v) = v {
            *field = normalized(v.clone());
        }
    };
    if let Some(Some(d)) = &p.display_name {
        person.display_name = d.trim().to_string();
    }
    set(&mut person.email, &p.email);
    person.email = person.email.map(|e| e.to_lowercase());
    set(&mut person.title, &p.title);
    set(&mut person.employee_no, &p.employee_no);
    set(&mut person.phone, &p.phone);
    person.primary_department = department;
    person.external_id = Some(p.id.clone());
    person
}

async fn sync_departments(
    services: &Services,
    dir: &LdapDirectory,
    summary: &mut SyncSummary,
) -> Result<HashMap<String, DepartmentId>, String> {
    let existing: HashMap<String, DepartmentId> = services
        .store
        .department_external_refs()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|(_, e)| e.source == SOURCE_LDAP)
        .filter_map(|(d, e)| e.id.map(|id| (id, d)))
        .collect();
    let mut units: Vec<_> = dir.units.iter().collect();
    units.sort_by_key(|u| depth(&u.dn));
    let mut by_dn: HashMap<String, DepartmentId> = HashMap::new();
    let all_dns: HashSet<&str> = units.iter().map(|u| u.dn.as_str()).collect();
    for u in units {
        // The parent OU must have been placed (it sorts first); if it was skipped, so is this.
        let parent_dn_ = parent_dn(&u.dn).unwrap_or_default();
        let parent = department_of(&u.dn, &by_dn, &dir.base);
        if parent.is_none() && parent_dn_ != dir.base && all_dns.contains(parent_dn_) {
            summary
                .skipped
                .push(format!("{}: its parent OU was skipped", u.dn));
            continue;
        }
        let result = match existing.get(&u.id) {
            Some(&id) => {
                let org = services.org();
                match org.department(id) {
                    Some(d) if d.name == u.name && d.parent_id == parent => Ok(id),
                    Some(d) => {
                        let (moved, renamed) = (d.parent_id != parent, d.name != u.name);
                        services
                            .update_provisioned_department(SOURCE_LDAP, id, &u.name, parent, None)
                            .await
                            .map(|()| {
                                summary.departments_moved += usize::from(moved);
                                summary.departments_renamed += usize::from(renamed);
                                id
                            })
                    }
                    // Deleted in Concord since: create it anew below.
                    None => Err(concord_core::DomainError::NotFound("department")),
                }
            }
            None => Err(concord_core::DomainError::NotFound("department")),
        };
        let result = match result {
            Err(concord_core::DomainError::NotFound("department")) => services
                .provision_department(SOURCE_LDAP, &u.name, parent, Some(&u.id))
                .await
                .inspect(|_| summary.departments_created += 1),
            other => other,
        };
        match result {
            Ok(id) => {
                by_dn.insert(u.dn.clone(), id);
            }
            Err(e) => summary.skipped.push(format!("{}: {e}", u.dn)),
        }
    }
    Ok(by_dn)
}

async fn apply(services: &Services, dir: &LdapDirectory) -> Result<SyncSummary, String> {
    let mut summary = SyncSummary::default();
    let known: Vec<SourcedUser> = services
        .store
        .users_from_source(SOURCE_LDAP)
        .await
        .map_err(|e| e.to_string())?;
    let present: HashSet<&str> = dir.people.iter().map(|p| p.id.as_str()).collect();
    // A misconfigured filter must not deactivate everyone.
    let active_known = known
        .iter()
        .filter(|u| u.status != UserStatus::Deactivated)
        .count();
    if dir.people.is_empty() && active_known > 0 {
        return Err(format!(
            "the directory returned no people under {}; refusing to deactivate {active_known} \
             (check ldap.base_dn and ldap.user_filter)",
            dir.base
        ));
    }
    let units = sync_departments(services, dir, &mut summary).await?;
    let by_external: HashMap<&str, &SourcedUser> = known
        .iter()
        .filter_map(|u| u.external_id.as_deref().map(|e| (e, u)))
        .collect();
    for p in &dir.people {
        let department = department_of(&p.dn, &units, &dir.base);
        let existing = match by_external.get(p.id.as_str()) {
            Some(u) => Some(u.id),
            None => match relink(services, &known, &present, &p.username).await {
                Ok(found) => found,
                Err(why) => {
                    summary.skipped.push(format!("{}: {why}", p.dn));
                    continue;
                }
            },
        };
        let outcome = match existing {
            Some(id) => update_person(services, id, p, department, &mut summary).await,
            None => {
                let person = overlay(
                    DirectoryPerson {
                        username: p.username.clone(),
                        display_name: p.username.clone(),
                        active: true,
                        ..Default::default()
                    },
                    p,
                    department,
                );
                services
                    .provision_user(SOURCE_LDAP, person)
                    .await
                    .map(|_| summary.users_created += 1)
                    .map_err(|e| e.to_string())
            }
        };
        if let Err(why) = outcome {
            summary.skipped.push(format!("{}: {why}", p.dn));
        }
    }
    for u in &known {
        let gone = u
            .external_id
            .as_deref()
            .is_none_or(|e| !present.contains(e));
        if gone && u.status != UserStatus::Deactivated {
            match services
                .deactivate_provisioned_user(SOURCE_LDAP, u.id)
                .await
            {
                Ok(()) => summary.users_deactivated += 1,
                Err(e) => summary
                    .skipped
                    .push(format!("deactivating {}: {e}", u.username)),
            }
        }
    }
    Ok(summary)
}

/// For a new entry whose username exists: the LDAP-imported person of that name whose old
/// entry is gone (the entry was re-created), or why the entry cannot be imported.
async fn relink(
    services: &Services,
    known: &[SourcedUser],
    present: &HashSet<&str>,
    username: &str,
) -> Result<Option<UserId>, String> {
    let (_, ids) = services
        .store
        .directory_users(DirectoryUserFilter::Username(username.to_string()), 0, 1)
        .await
        .map_err(|e| e.to_string())?;
    let Some(id) = ids.first() else {
        return Ok(None);
    };
    match known.iter().find(|u| u.id == *id) {
        Some(u)
            if u.external_id
                .as_deref()
                .is_none_or(|e| !present.contains(e)) =>
        {
            Ok(Some(u.id))
        }
        Some(_) => Err(format!("another entry already has the username {username}")),
        None => Err(format!(
            "the username {username} belongs to a person not from LDAP; left alone"
        )),
    }
}

async fn update_person(
    services: &Services,
    id: UserId,
    p: &LdapPerson,
    department: Option<DepartmentId>,
    summary: &mut SyncSummary,
) -> Result<(), String> {
    let record = services
        .directory_record(id)
        .await
        .map_err(|e| e.to_string())?;
    let status = record.profile.status;
    let mut person = overlay(record.person.clone(), p, department);
    // Usernames cannot change in Concord: a renamed uid keeps the old username.
    person.username = record.person.username.clone();
    // Present in the directory: active again, unless an admin suspended them.
    person.active = status != UserStatus::Suspended;
    let mut current = record.person.clone();
    current.active = status != UserStatus::Suspended && status != UserStatus::Deactivated;
    if person == current {
        summary.users_unchanged += 1;
        return Ok(());
    }
    services
        .update_provisioned_user(SOURCE_LDAP, id, person)
        .await
        .map_err(|e| e.to_string())?;
    if status == UserStatus::Deactivated {
        summary.users_reactivated += 1;
    } else {
        summary.users_updated += 1;
    }
    Ok(())
}

/// The scheduled import, driven by the server's upkeep task (one tick a minute): runs when
/// `sync_interval_secs` have passed since the last start, never two at once.
pub struct LdapSchedule {
    last: Option<std::time::Instant>,
    running: Arc<AtomicBool>,
}

impl LdapSchedule {
    pub fn new() -> Self {
        Self {
            last: None,
            running: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn tick(&mut self, state: &AppState) {
        let config = &state.config.ldap;
        if config.sync_interval_secs == 0 || !config.configured() {
            return;
        }
        let interval = std::time::Duration::from_secs(config.sync_interval_secs);
        if self.last.is_some_and(|t| t.elapsed() < interval)
            || self.running.swap(true, Ordering::SeqCst)
        {
            return;
        }
        self.last = Some(std::time::Instant::now());
        let running = self.running.clone();
        let services = state.services.clone();
        let config = config.clone();
        tokio::spawn(async move {
            match sync_ldap(&services, &config).await {
                Ok(s) => tracing::info!(summary = %s.to_string().trim_end(), "LDAP sync finished"),
                Err(e) => tracing::warn!(error = %e, "LDAP sync failed"),
            }
            running.store(false, Ordering::SeqCst);
        });
    }
}

impl Default for LdapSchedule {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_belong_to_their_nearest_ou() {
        let base = "dc=example,dc=com";
        let units = HashMap::from([
            ("ou=people,dc=example,dc=com".to_string(), DepartmentId(1)),
            (
                "ou=hr,ou=people,dc=example,dc=com".to_string(),
                DepartmentId(2),
            ),
        ]);
        assert_eq!(
            department_of("uid=a,ou=hr,ou=people,dc=example,dc=com", &units, base),
            Some(DepartmentId(2))
        );
        assert_eq!(
            department_of("uid=a,ou=people,dc=example,dc=com", &units, base),
            Some(DepartmentId(1))
        );
        assert_eq!(department_of("uid=a,dc=example,dc=com", &units, base), None);
        assert_eq!(depth("ou=hr,ou=people,dc=example,dc=com"), 4);
    }
}
