//! LDAP import against a real OpenLDAP `slapd`, which each test starts on a random local port
//! with a temporary config (mdb backend) and a test LDIF: OUs People/HR and Sales, people
//! with Chinese names. The import runs through the server's own code (and once through the
//! `concord directory sync-ldap` binary); then the directory changes (an entry modified, one
//! deleted, one moved, an OU moved) and the next import must follow.
//!
//! Without slapd the tests print `SKIPPED` and pass, unless `CONCORD_TEST_LDAP=1` (set by
//! `.ci/run`), where a missing slapd fails them so CI never skips silently.

use crate::support::*;
use concord_core::store::DirectoryUserFilter;
use concord_server::config::LdapConfig;
use concord_server::directory::{SyncSummary, sync_ldap};
use reqwest::StatusCode;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BASE: &str = "dc=example,dc=com";
const ROOT_DN: &str = "cn=admin,dc=example,dc=com";
const ROOT_PW: &str = "ldap-test-secret";

const INITIAL: &str = "\
dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=People,dc=example,dc=com
objectClass: organizationalUnit
ou: People

dn: ou=HR,ou=People,dc=example,dc=com
objectClass: organizationalUnit
ou: HR

dn: ou=Sales,dc=example,dc=com
objectClass: organizationalUnit
ou: Sales

dn: uid=zhangsan,ou=HR,ou=People,dc=example,dc=com
objectClass: inetOrgPerson
uid: zhangsan
cn: 张三
sn: 张
mail: ZhangSan@Example.com
title: HR Manager
employeeNumber: E1001
telephoneNumber: +86 10 1000

dn: uid=lisi,ou=HR,ou=People,dc=example,dc=com
objectClass: inetOrgPerson
uid: lisi
cn: 李四
sn: 李
mail: lisi@example.com
title: Recruiter
employeeNumber: E1002

dn: uid=wangwu,ou=Sales,dc=example,dc=com
objectClass: inetOrgPerson
uid: wangwu
cn: 王五
sn: 王
title: Sales Rep

dn: uid=alice,ou=People,dc=example,dc=com
objectClass: inetOrgPerson
uid: alice
cn: Alice Smith
sn: Smith
mail: alice@example.com

dn: uid=root,ou=People,dc=example,dc=com
objectClass: inetOrgPerson
uid: root
cn: Not The Admin
sn: Admin
";

/// Modify one entry, delete one, move one person and one OU, add one.
const CHANGES: &str = "\
dn: uid=lisi,ou=HR,ou=People,dc=example,dc=com
changetype: modify
replace: title
title: Senior Recruiter
-
replace: mail
mail: lisi.new@example.com
-
replace: cn
cn: 李思

dn: uid=wangwu,ou=Sales,dc=example,dc=com
changetype: delete

dn: uid=alice,ou=People,dc=example,dc=com
changetype: modrdn
newrdn: uid=alice
deleteoldrdn: 1
newsuperior: ou=Sales,dc=example,dc=com

dn: ou=Sales,dc=example,dc=com
changetype: modrdn
newrdn: ou=Sales
deleteoldrdn: 1
newsuperior: ou=People,dc=example,dc=com

dn: uid=zhaoliu,ou=HR,ou=People,dc=example,dc=com
changetype: add
objectClass: inetOrgPerson
uid: zhaoliu
cn: 赵六
sn: 赵
";

/// wangwu comes back (a new entry, so a new entryUUID).
const RETURN: &str = "\
dn: uid=wangwu,ou=Sales,ou=People,dc=example,dc=com
changetype: add
objectClass: inetOrgPerson
uid: wangwu
cn: 王五
sn: 王
";

fn find(program: &str, extra: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.iter().map(PathBuf::from))
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// slapd and ldapmodify, or `None` (and the SKIPPED line) when absent outside CI.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let slapd = find("slapd", &["/usr/sbin", "/usr/local/sbin", "/usr/libexec"]);
    let modify = find("ldapmodify", &[]);
    match (slapd, modify) {
        (Some(s), Some(m)) => Some((s, m)),
        _ if std::env::var("CONCORD_TEST_LDAP").is_ok_and(|v| v == "1") => {
            panic!(
                "CONCORD_TEST_LDAP=1 but slapd or ldapmodify is missing: apt-get install slapd ldap-utils"
            )
        }
        _ => {
            println!(
                "SKIPPED: install slapd (apt-get install slapd ldap-utils) or set CONCORD_TEST_LDAP=1 in CI"
            );
            None
        }
    }
}

/// A slapd on a random local port, killed when dropped.
struct Slapd {
    child: Child,
    url: String,
    ldapmodify: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn schema_dir() -> &'static str {
    [
        "/etc/ldap/schema",
        "/etc/openldap/schema",
        "/usr/local/etc/openldap/schema",
    ]
    .into_iter()
    .find(|d| Path::new(d).join("inetorgperson.schema").is_file())
    .expect("OpenLDAP's schema files (core, cosine, inetorgperson)")
}

impl Slapd {
    fn start(slapd: &Path, ldapmodify: &Path) -> Slapd {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        let schema = schema_dir();
        let modules = ["/usr/lib/ldap", "/usr/lib/openldap", "/usr/lib64/openldap"]
            .into_iter()
            .find(|d| {
                Path::new(d).join("back_mdb.la").is_file()
                    || Path::new(d).join("back_mdb.so").is_file()
            });
        let module_lines = modules
            .map(|m| format!("modulepath {m}\nmoduleload back_mdb\n"))
            .unwrap_or_default();
        let conf = dir.path().join("slapd.conf");
        std::fs::write(
            &conf,
            format!(
                "include {schema}/core.schema\ninclude {schema}/cosine.schema\ninclude {schema}/inetorgperson.schema\n\
                 {module_lines}pidfile {pid}\ndatabase mdb\nmaxsize 33554432\nsuffix \"{BASE}\"\nrootdn \"{ROOT_DN}\"\n\
                 rootpw {ROOT_PW}\ndirectory {db}\n",
                pid = dir.path().join("slapd.pid").display(),
                db = db.display(),
            ),
        )
        .unwrap();
        let port = free_port();
        let url = format!("ldap://127.0.0.1:{port}");
        let child = Command::new(slapd)
            .arg("-f")
            .arg(&conf)
            .args(["-h", &format!("{url}/"), "-d", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start slapd");
        let mut server = Slapd {
            child,
            url,
            ldapmodify: ldapmodify.to_path_buf(),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                let mut err = String::new();
                use std::io::Read;
                let _ = server
                    .child
                    .stderr
                    .take()
                    .map(|mut e| e.read_to_string(&mut err));
                panic!("slapd exited ({status}): {err}");
            }
            assert!(Instant::now() < deadline, "slapd did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Applies LDIF (adds by default) with ldapmodify as the root DN.
    fn apply(&self, ldif: &str) {
        let mut child = Command::new(&self.ldapmodify)
            .args(["-x", "-a", "-H", &self.url, "-D", ROOT_DN, "-w", ROOT_PW])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run ldapmodify");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(ldif.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "ldapmodify failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn config(&self) -> LdapConfig {
        LdapConfig {
            url: Some(self.url.clone()),
            bind_dn: Some(ROOT_DN.into()),
            bind_password: Some(ROOT_PW.into()),
            base_dn: Some(BASE.into()),
            timeout_secs: 10,
            ..LdapConfig::default()
        }
    }
}

/// Runs each named test body on both backends (with slapd running and loaded).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some((slapd, modify)) = super::tools() else { return };
                    let ldap = super::Slapd::start(&slapd, &modify);
                    ldap.apply(super::INITIAL);
                    super::$name(crate::support::spawn_app().await, ldap).await
                }
            )*
        }
        #[cfg(postgres_tests)]
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some((slapd, modify)) = super::tools() else { return };
                    let ldap = super::Slapd::start(&slapd, &modify);
                    ldap.apply(super::INITIAL);
                    let app = crate::support::spawn_app_with(crate::support::Backend::Postgres, |_| {}, None).await;
                    super::$name(app, ldap).await
                }
            )*
        }
    };
}

on_both_backends!(ldap_import_follows_the_directory);

async fn departments(app: &TestApp, admin: &TestUser) -> Vec<Value> {
    let (status, body) = app.get(Some(&admin.token), "/api/v1/departments").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().unwrap().clone()
}

fn dept<'a>(all: &'a [Value], name: &str) -> &'a Value {
    all.iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no department {name} in {all:?}"))
}

/// Anyone's profile (deactivated people included), by username.
async fn profile_of(app: &TestApp, admin: &TestUser, username: &str) -> Value {
    let (_, ids) = app
        .services
        .store
        .directory_users(DirectoryUserFilter::Username(username.into()), 0, 1)
        .await
        .unwrap();
    let id = ids.first().unwrap_or_else(|| panic!("no user {username}"));
    let (status, p) = app
        .get(Some(&admin.token), &format!("/api/v1/users/{id}/profile"))
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    p
}

async fn sync(app: &TestApp, ldap: &Slapd) -> SyncSummary {
    sync_ldap(&app.services, &ldap.config())
        .await
        .expect("sync")
}

async fn ldap_import_follows_the_directory(app: TestApp, ldap: Slapd) {
    let admin = app.admin("root").await;
    let local = app.user("local").await;

    // First import: the OU tree and the people.
    let s = sync(&app, &ldap).await;
    assert_eq!(s.departments_created, 3, "{s}");
    assert_eq!(s.users_created, 4, "{s}");
    assert_eq!(s.users_deactivated, 0, "{s}");
    assert_eq!(s.skipped.len(), 1, "{s}");
    assert!(
        s.skipped[0].contains("root") && s.skipped[0].contains("not from LDAP"),
        "{s}"
    );
    let all = departments(&app, &admin).await;
    let people = dept(&all, "People");
    let hr = dept(&all, "HR");
    let sales = dept(&all, "Sales");
    assert!(people["parent_id"].is_null());
    assert_eq!(hr["parent_id"], people["id"]);
    assert!(sales["parent_id"].is_null());
    assert_eq!(hr["member_count"], 2);

    let zs = profile_of(&app, &admin, "zhangsan").await;
    assert_eq!(zs["display_name"], "张三");
    assert_eq!(zs["email"], "zhangsan@example.com");
    assert_eq!(zs["title"], "HR Manager");
    assert_eq!(zs["employee_no"], "E1001");
    assert_eq!(zs["phone"], "+86 10 1000");
    assert_eq!(zs["status"], "active");
    assert_eq!(zs["primary_department_id"], hr["id"]);
    let path: Vec<&str> = zs["department_path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(path, vec!["People", "HR"]);
    let alice = profile_of(&app, &admin, "alice").await;
    assert_eq!(alice["primary_department_id"], people["id"]);
    // Pinyin search finds the imported names.
    let (_, found) = app.get(Some(&admin.token), "/api/v1/users?q=zs").await;
    assert!(
        found["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "zhangsan"),
        "{found}"
    );
    // People not from LDAP are left alone, including the admin whose username the directory
    // also has.
    let root = profile_of(&app, &admin, "root").await;
    assert_eq!(root["display_name"], "root");
    assert!(root["primary_department_id"].is_null());

    // Nothing changed: nothing to do.
    let s = sync(&app, &ldap).await;
    assert_eq!(
        (
            s.users_created,
            s.users_updated,
            s.users_unchanged,
            s.departments_created
        ),
        (0, 0, 4, 0),
        "{s}"
    );

    // The directory changes.
    ldap.apply(CHANGES);
    let s = sync(&app, &ldap).await;
    assert_eq!(s.users_created, 1, "{s}");
    assert_eq!(s.users_updated, 2, "{s}");
    assert_eq!(s.users_deactivated, 1, "{s}");
    assert_eq!(s.departments_moved, 1, "{s}");
    assert_eq!(s.departments_created, 0, "{s}");
    let all = departments(&app, &admin).await;
    assert_eq!(
        dept(&all, "Sales")["id"],
        sales["id"],
        "the OU kept its department"
    );
    assert_eq!(dept(&all, "Sales")["parent_id"], people["id"]);
    let lisi = profile_of(&app, &admin, "lisi").await;
    assert_eq!(lisi["title"], "Senior Recruiter");
    assert_eq!(lisi["email"], "lisi.new@example.com");
    assert_eq!(lisi["display_name"], "李思");
    let alice = profile_of(&app, &admin, "alice").await;
    assert_eq!(alice["primary_department_id"], sales["id"]);
    let wangwu = profile_of(&app, &admin, "wangwu").await;
    assert_eq!(wangwu["status"], "deactivated");
    let zhaoliu = profile_of(&app, &admin, "zhaoliu").await;
    assert_eq!(zhaoliu["primary_department_id"], hr["id"]);
    assert!(zhaoliu["email"].is_null());
    let (status, me) = app.get(Some(&local.token), "/api/v1/users/me").await;
    assert_eq!(status, StatusCode::OK, "local people keep working: {me}");

    // A re-created entry with a known username takes the person back.
    ldap.apply(RETURN);
    let s = sync(&app, &ldap).await;
    assert_eq!((s.users_created, s.users_reactivated), (0, 1), "{s}");
    let wangwu = profile_of(&app, &admin, "wangwu").await;
    assert_eq!(wangwu["status"], "active");
    assert_eq!(wangwu["primary_department_id"], sales["id"]);

    // The runs and every change are audited.
    let (_, audit) = app
        .get(Some(&admin.token), "/api/v1/audit?action=ldap.&limit=200")
        .await;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "ldap.sync").count(),
        4,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "ldap.user.create").count(),
        5,
        "{actions:?}"
    );
    assert!(actions.contains(&"ldap.department.update"), "{actions:?}");
    let run = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "ldap.sync")
        .unwrap();
    assert_eq!(run["after"]["users_reactivated"], 1);
}

#[tokio::test]
async fn ldap_import_refuses_to_deactivate_everyone_on_an_empty_result() {
    let Some((slapd, modify)) = tools() else {
        return;
    };
    let ldap = Slapd::start(&slapd, &modify);
    ldap.apply(INITIAL);
    let app = spawn_app().await;
    sync(&app, &ldap).await;
    let mut config = ldap.config();
    config.user_filter = "(objectClass=nothingLikeThis)".into();
    let e = sync_ldap(&app.services, &config).await.unwrap_err();
    assert!(e.contains("refusing to deactivate"), "{e}");
    config.bind_password = Some("wrong".into());
    let e = sync_ldap(&app.services, &config).await.unwrap_err();
    assert!(e.contains("cannot bind"), "{e}");
}

#[test]
fn sync_ldap_command_prints_a_summary() {
    let Some((slapd, modify)) = tools() else {
        return;
    };
    let ldap = Slapd::start(&slapd, &modify);
    ldap.apply(INITIAL);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_concord"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CONCORD_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "directory",
            "sync-ldap",
        ])
        .env("CONCORD_LDAP__URL", &ldap.url)
        .env("CONCORD_LDAP__BASE_DN", BASE)
        .env("CONCORD_LDAP__BIND_DN", ROOT_DN)
        .env("CONCORD_LDAP__BIND_PASSWORD", ROOT_PW)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("LDAP sync: users 5 created"), "{stdout}");
    assert!(stdout.contains("departments 3 created"), "{stdout}");
    // Without [ldap] settings the command says what to set.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_concord"));
    for (key, _) in std::env::vars() {
        if key.starts_with("CONCORD_") {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "directory",
            "sync-ldap",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ldap.url"));
}
