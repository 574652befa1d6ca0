//! Reading an LDAP directory (ldap3 over rustls): bind, then two paged subtree searches under
//! `base_dn` — the OUs (departments) and the people — mapped through `[ldap.attributes]`.
//! DNs are compared normalised (lower-case, no spaces around separators), with escaped
//! commas respected when finding an entry's parent.

use crate::config::LdapConfig;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use std::collections::HashMap;
use std::time::Duration;

/// An organisational unit: a department.
#[derive(Clone, Debug)]
pub struct LdapUnit {
    /// Normalised DN.
    pub dn: String,
    pub id: String,
    pub name: String,
}

/// A person's entry, mapped.
#[derive(Clone, Debug, Default)]
pub struct LdapPerson {
    /// Normalised DN.
    pub dn: String,
    pub id: String,
    pub username: String,
    /// `None` when the attribute is not mapped (the field is then left alone).
    pub display_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub title: Option<Option<String>>,
    pub employee_no: Option<Option<String>>,
    pub phone: Option<Option<String>>,
}

/// What the directory holds under `base_dn`.
#[derive(Clone, Debug, Default)]
pub struct LdapDirectory {
    /// Normalised base DN.
    pub base: String,
    pub units: Vec<LdapUnit>,
    pub people: Vec<LdapPerson>,
    /// Entries that could not be used (no id, no username), with why.
    pub skipped: Vec<String>,
}

/// Lower-case, without spaces around `,` and `=` (outside escapes).
pub fn normalize_dn(dn: &str) -> String {
    let mut out = String::with_capacity(dn.len());
    let mut escaped = false;
    for c in dn.trim().chars() {
        if escaped {
            out.extend(c.to_lowercase());
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                out.push(c);
            }
            ',' | '=' => {
                while out.ends_with(' ') {
                    out.pop();
                }
                out.push(c);
            }
            ' ' if out.ends_with(',') || out.ends_with('=') => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The DN one level up (after the first unescaped comma).
pub fn parent_dn(dn: &str) -> Option<&str> {
    let mut escaped = false;
    for (i, c) in dn.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ',' => return Some(&dn[i + 1..]),
            _ => {}
        }
    }
    None
}

fn first_value(entry: &SearchEntry, attribute: &str) -> Option<String> {
    if attribute.is_empty() {
        return None;
    }
    let text = entry
        .attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attribute))
        .and_then(|(_, v)| v.first())
        .map(|v| v.trim().to_string());
    // Binary ids (Active Directory's objectGUID) as hex.
    text.or_else(|| {
        entry
            .bin_attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(attribute))
            .and_then(|(_, v)| v.first())
            .map(|b| b.iter().map(|x| format!("{x:02x}")).collect())
    })
    .filter(|v| !v.is_empty())
}

/// A mapped optional attribute: `None` when unmapped, `Some(None)` when the entry lacks it.
fn mapped(entry: &SearchEntry, attribute: &str) -> Option<Option<String>> {
    (!attribute.is_empty()).then(|| first_value(entry, attribute))
}

async fn search(
    ldap: &mut ldap3::Ldap,
    base: &str,
    filter: &str,
    attrs: Vec<String>,
    timeout: Duration,
) -> Result<Vec<SearchEntry>, String> {
    let adapters: Vec<Box<dyn Adapter<_, _>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(500)),
    ];
    let run = async {
        let mut stream = ldap
            .streaming_search_with(adapters, base, Scope::Subtree, filter, attrs)
            .await
            .map_err(|e| format!("search {filter} under {base}: {e}"))?;
        let mut out = Vec::new();
        while let Some(entry) = stream
            .next()
            .await
            .map_err(|e| format!("search {filter} under {base}: {e}"))?
        {
            out.push(SearchEntry::construct(entry));
        }
        stream
            .finish()
            .await
            .success()
            .map_err(|e| format!("search {filter} under {base}: {e}"))?;
        Ok::<_, String>(out)
    };
    tokio::time::timeout(timeout, run)
        .await
        .map_err(|_| format!("search {filter} under {base} timed out"))?
}

/// Connects, binds and reads the departments and people under `base_dn`.
pub async fn read_directory(config: &LdapConfig) -> Result<LdapDirectory, String> {
    let url = config.url.as_deref().ok_or("ldap.url is not set")?;
    let base_dn = config.base_dn.as_deref().ok_or("ldap.base_dn is not set")?;
    let timeout = Duration::from_secs(config.timeout_secs);
    let settings = LdapConnSettings::new()
        .set_conn_timeout(timeout)
        .set_starttls(config.starttls);
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, url)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    ldap3::drive!(conn);
    if let Some(dn) = &config.bind_dn {
        let password = config.bind_password.as_deref().unwrap_or_default();
        tokio::time::timeout(timeout, ldap.simple_bind(dn, password))
            .await
            .map_err(|_| format!("binding as {dn} timed out"))?
            .and_then(|r| r.success())
            .map_err(|e| format!("cannot bind as {dn}: {e}"))?;
    }
    let a = &config.attributes;
    let unit_attrs = vec![a.id.clone(), a.department_name.clone()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let people_attrs = [
        &a.id,
        &a.username,
        &a.display_name,
        &a.email,
        &a.title,
        &a.employee_no,
        &a.phone,
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .cloned()
    .collect();
    let base = normalize_dn(base_dn);
    let units = search(
        &mut ldap,
        base_dn,
        &config.department_filter,
        unit_attrs,
        timeout,
    )
    .await?;
    let people = search(
        &mut ldap,
        base_dn,
        &config.user_filter,
        people_attrs,
        timeout,
    )
    .await?;
    let _ = ldap.unbind().await;

    let mut dir = LdapDirectory {
        base: base.clone(),
        ..Default::default()
    };
    for e in units {
        let dn = normalize_dn(&e.dn);
        if dn == base {
            continue;
        }
        let Some(id) = first_value(&e, &a.id) else {
            dir.skipped.push(format!("{}: no {} attribute", e.dn, a.id));
            continue;
        };
        // The department's name: the mapped attribute, else the RDN's value.
        let name = first_value(&e, &a.department_name).unwrap_or_else(|| {
            e.dn.split(',')
                .next()
                .and_then(|rdn| rdn.split_once('='))
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        });
        dir.units.push(LdapUnit { dn, id, name });
    }
    let mut seen: HashMap<String, String> = HashMap::new();
    for e in people {
        let Some(id) = first_value(&e, &a.id) else {
            dir.skipped.push(format!("{}: no {} attribute", e.dn, a.id));
            continue;
        };
        let Some(username) = first_value(&e, &a.username) else {
            dir.skipped
                .push(format!("{}: no {} attribute", e.dn, a.username));
            continue;
        };
        if let Some(other) = seen.insert(id.clone(), e.dn.clone()) {
            dir.skipped
                .push(format!("{}: same {} as {other}", e.dn, a.id));
            continue;
        }
        dir.people.push(LdapPerson {
            dn: normalize_dn(&e.dn),
            id,
            username,
            display_name: mapped(&e, &a.display_name),
            email: mapped(&e, &a.email),
            title: mapped(&e, &a.title),
            employee_no: mapped(&e, &a.employee_no),
            phone: mapped(&e, &a.phone),
        });
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_normalise_and_walk_up() {
        assert_eq!(
            normalize_dn("uid=ZS, ou=HR ,OU=People,dc=Example,dc=com"),
            "uid=zs,ou=hr,ou=people,dc=example,dc=com"
        );
        assert_eq!(parent_dn("cn=a\\,b,ou=x,dc=y"), Some("ou=x,dc=y"));
        assert_eq!(parent_dn("dc=y"), None);
    }
}
