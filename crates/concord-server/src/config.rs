//! Configuration: one typed struct built from defaults, then a TOML file, then `CONCORD_*`
//! environment variables (`__` between nested keys), then command-line flags; validated
//! before anything starts. `concord.example.toml` documents every field.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

mod at_rest;
mod files;
mod retention;
mod search;
mod security;
mod web;
pub use at_rest::{AtRestConfig, MasterKeyProvider, Pkcs11Config};
pub use files::{FilesConfig, S3Config};
pub use retention::RetentionConfig;
pub use search::SearchConfig;
pub use security::{SecurityConfig, TlsConfig};
pub use web::WebConfig;

#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to serve HTTP and WebSocket on.
    pub listen: SocketAddr,
    /// Where the SQLite database (and later files and keys) live.
    pub data_dir: PathBuf,
    /// `postgres://...` to use PostgreSQL instead of SQLite in `data_dir`.
    pub database_url: Option<String>,
    pub log: LogConfig,
    pub limits: LimitsConfig,
    pub sessions: SessionConfig,
    pub rate_limits: RateLimitConfig,
    pub events: EventLogConfig,
    pub postgres: PostgresConfig,
    pub scim: ScimConfig,
    pub ldap: LdapConfig,
    pub geofence: GeofenceConfig,
    pub crypto: CryptoConfig,
    pub dlp: DlpConfig,
    pub tls: TlsConfig,
    pub security: SecurityConfig,
    pub search: SearchConfig,
    pub files: FilesConfig,
    pub retention: RetentionConfig,
    /// The web client's org-wide settings (`[web]`).
    pub web: WebConfig,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A `tracing` filter, e.g. `info` or `concord=debug,info`. `RUST_LOG` wins when set.
    pub filter: String,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    pub max_body_bytes: usize,
    pub max_message_chars: usize,
    pub max_ws_message_bytes: usize,
    pub max_ws_connections: usize,
    pub history_page_max: i64,
    pub max_group_dm_members: usize,
    pub request_timeout_secs: u64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    pub idle_timeout_secs: u64,
    pub lifetime_secs: u64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    pub sends_per_second: u32,
    pub send_burst: u32,
    pub logins_per_minute_per_ip: u32,
    pub logins_per_minute_per_account: u32,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventLogConfig {
    /// How long the event log keeps events for clients to resume from.
    pub retention_hours: u64,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresConfig {
    pub max_connections: u32,
}

/// Algorithms for hashes and signatures (the audit chain and its checkpoints).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CryptoConfig {
    /// `standard` (SHA-256, Ed25519) or `gm` (SM3, SM2). Chosen once per deployment: the
    /// signing key in `data_dir/keys` is made for it.
    pub suite: concord_core::crypto::Suite,
    /// Encryption at rest and its master keys (`[crypto.at_rest]`).
    pub at_rest: AtRestConfig,
}

/// Data-loss prevention: the org-wide policy for message text (sends and edits, over REST and
/// WebSocket alike). Per-channel policies will override it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DlpConfig {
    /// `off` (the default), `mask` (store and deliver the text with values masked) or `block`
    /// (refuse it with 422 `dlp_blocked`, naming the detectors).
    pub action: concord_core::dlp::DlpAction,
    /// Extra detectors besides the built-in ones: `{ name, regex }`, e.g. a medical record
    /// number. Names are `[a-z0-9_-]`; expressions use Rust `regex` syntax.
    pub custom_patterns: Vec<concord_core::dlp::CustomPattern>,
}

/// Channels whose members follow a geofence, and the locations people report (opt-in).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeofenceConfig {
    /// How long someone must stay outside before leaving, so GPS jitter at the edge does
    /// not make them flap in and out.
    pub dwell_secs: u64,
    /// A report older than this no longer keeps anyone inside.
    pub max_location_age_secs: u64,
    /// Reports less accurate than this (metres) cannot bring anyone in.
    pub max_accuracy_m: f64,
    /// How long the latest reported location is kept before it is forgotten.
    pub location_retention_secs: u64,
    /// Most positions in one channel's geofence.
    pub max_vertices: usize,
}

impl Default for GeofenceConfig {
    fn default() -> Self {
        Self {
            dwell_secs: 600,
            max_location_age_secs: 1800,
            max_accuracy_m: 500.0,
            location_retention_secs: 3600,
            max_vertices: 10_000,
        }
    }
}

/// SCIM 2.0 provisioning at `/scim/v2` (see `routes/scim.rs`).
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScimConfig {
    pub enabled: bool,
    /// The bearer token the identity provider sends; the server keeps only its SHA-256.
    pub bearer_token: Option<String>,
}

impl fmt::Debug for ScimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimConfig")
            .field("enabled", &self.enabled)
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// LDAP import (`concord directory sync-ldap`, and every `sync_interval_secs` in the server).
#[derive(Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LdapConfig {
    /// `ldap://host:389` or `ldaps://host:636`.
    pub url: Option<String>,
    /// Upgrade an `ldap://` connection with StartTLS.
    pub starttls: bool,
    /// Bind as this DN (anonymous when unset).
    pub bind_dn: Option<String>,
    pub bind_password: Option<String>,
    /// The subtree to import: its OUs become departments, its people users.
    pub base_dn: Option<String>,
    pub user_filter: String,
    pub department_filter: String,
    /// Run the import in the server this often; 0 turns it off.
    pub sync_interval_secs: u64,
    pub timeout_secs: u64,
    pub attributes: LdapAttributes,
}

/// Which LDAP attribute fills which field; an empty name leaves that field alone.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LdapAttributes {
    /// A stable id that survives renames and moves (OpenLDAP `entryUUID`, AD `objectGUID`).
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub title: String,
    pub employee_no: String,
    pub phone: String,
    /// The department's name, on the OU entries.
    pub department_name: String,
}

impl Default for LdapConfig {
    fn default() -> Self {
        Self {
            url: None,
            starttls: false,
            bind_dn: None,
            bind_password: None,
            base_dn: None,
            user_filter: "(objectClass=inetOrgPerson)".into(),
            department_filter: "(objectClass=organizationalUnit)".into(),
            sync_interval_secs: 0,
            timeout_secs: 30,
            attributes: LdapAttributes::default(),
        }
    }
}

impl Default for LdapAttributes {
    fn default() -> Self {
        Self {
            id: "entryUUID".into(),
            username: "uid".into(),
            display_name: "cn".into(),
            email: "mail".into(),
            title: "title".into(),
            employee_no: "employeeNumber".into(),
            phone: "telephoneNumber".into(),
            department_name: "ou".into(),
        }
    }
}

impl fmt::Debug for LdapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdapConfig")
            .field("url", &self.url)
            .field("starttls", &self.starttls)
            .field("bind_dn", &self.bind_dn)
            .field(
                "bind_password",
                &self.bind_password.as_ref().map(|_| "<redacted>"),
            )
            .field("base_dn", &self.base_dn)
            .field("user_filter", &self.user_filter)
            .field("department_filter", &self.department_filter)
            .field("sync_interval_secs", &self.sync_interval_secs)
            .field("timeout_secs", &self.timeout_secs)
            .field("attributes", &self.attributes)
            .finish()
    }
}

impl LdapConfig {
    /// Whether enough is set to connect and import.
    pub fn configured(&self) -> bool {
        self.url.is_some() && self.base_dn.is_some()
    }

    fn validate(&self) -> Result<(), String> {
        if let Some(url) = &self.url
            && !(url.starts_with("ldap://") || url.starts_with("ldaps://"))
        {
            return Err("ldap.url must be an ldap:// or ldaps:// URL".into());
        }
        if self.sync_interval_secs > 0 {
            if !self.configured() {
                return Err("ldap.sync_interval_secs needs ldap.url and ldap.base_dn".into());
            }
            if self.sync_interval_secs < 60 {
                return Err("ldap.sync_interval_secs must be 0 (off) or at least 60".into());
            }
        }
        if !(1..=600).contains(&self.timeout_secs) {
            return Err("ldap.timeout_secs must be 1 to 600".into());
        }
        for (name, filter) in [
            ("user_filter", &self.user_filter),
            ("department_filter", &self.department_filter),
        ] {
            if !(filter.starts_with('(') && filter.ends_with(')')) {
                return Err(format!(
                    "ldap.{name} must be an LDAP filter in parentheses, e.g. (objectClass=inetOrgPerson)"
                ));
            }
        }
        let a = &self.attributes;
        if a.id.trim().is_empty() || a.username.trim().is_empty() {
            return Err(
                "ldap.attributes.id and ldap.attributes.username must name attributes".into(),
            );
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("concord-data"),
            database_url: None,
            log: LogConfig::default(),
            limits: LimitsConfig::default(),
            sessions: SessionConfig::default(),
            rate_limits: RateLimitConfig::default(),
            events: EventLogConfig::default(),
            postgres: PostgresConfig::default(),
            scim: ScimConfig::default(),
            ldap: LdapConfig::default(),
            geofence: GeofenceConfig::default(),
            crypto: CryptoConfig::default(),
            dlp: DlpConfig::default(),
            tls: TlsConfig::default(),
            security: SecurityConfig::default(),
            search: SearchConfig::default(),
            files: FilesConfig::default(),
            retention: RetentionConfig::default(),
            web: WebConfig::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: "text".into(),
            filter: "info".into(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_message_chars: 16_000,
            max_ws_message_bytes: 128 * 1024,
            max_ws_connections: 20_000,
            history_page_max: 200,
            max_group_dm_members: 8,
            request_timeout_secs: 30,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 7 * 24 * 3600,
            lifetime_secs: 30 * 24 * 3600,
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            sends_per_second: 10,
            send_burst: 50,
            logins_per_minute_per_ip: 30,
            logins_per_minute_per_account: 10,
        }
    }
}

impl Default for EventLogConfig {
    fn default() -> Self {
        Self {
            retention_hours: 72,
        }
    }
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            max_connections: 16,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "<redacted>"),
            )
            .field("log", &self.log)
            .field("limits", &self.limits)
            .field("sessions", &self.sessions)
            .field("rate_limits", &self.rate_limits)
            .field("events", &self.events)
            .field("postgres", &self.postgres)
            .field("scim", &self.scim)
            .field("ldap", &self.ldap)
            .field("dlp", &self.dlp)
            .field("tls", &self.tls)
            .field("security", &self.security)
            .field("search", &self.search)
            .field("files", &self.files)
            .field("retention", &self.retention)
            .field("web", &self.web)
            .finish()
    }
}

/// Environment variables with the `CONCORD_` prefix that are not configuration.
const NOT_CONFIG: &[&str] = &[
    "CONCORD_CONFIG",
    "CONCORD_TEST_POSTGRES_URL",
    "CONCORD_TEST_SLOW",
    // The HSM's PIN (crypto.at_rest.pkcs11.pin_env's default): read by the provider, not a setting.
    "CONCORD_HSM_PIN",
];

/// Every setting's dotted path, e.g. `limits.max_body_bytes`.
fn known_keys() -> Vec<String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        if let serde_json::Value::Object(map) = value {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                walk(&path, v, out);
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(
        "",
        &serde_json::to_value(Config::default()).unwrap_or_default(),
        &mut out,
    );
    out
}

impl Config {
    /// Loads defaults, then `file` (if given), then `CONCORD_*` variables from `env`.
    /// Unknown keys in the file are errors; unknown `CONCORD_*` variables are returned as
    /// warnings (other tools may share the prefix) and otherwise ignored.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Self, Vec<String>), String> {
        let mut builder = config::Config::builder();
        if let Some(path) = file {
            if !path.exists() {
                return Err(format!("config file {} does not exist", path.display()));
            }
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
        }
        let known = known_keys();
        let mut warnings = Vec::new();
        for (key, value) in env {
            let Some(rest) = key.strip_prefix("CONCORD_") else {
                continue;
            };
            if NOT_CONFIG.contains(&key.as_str()) || key.starts_with("CONCORD_TEST_") {
                continue;
            }
            let path = rest.to_lowercase().replace("__", ".");
            if !known.contains(&path) {
                warnings.push(format!("ignoring {key}: no setting {path}"));
                continue;
            }
            builder = builder
                .set_override(path, value)
                .map_err(|e| format!("{key}: {e}"))?;
        }
        let config: Config = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| format!("invalid configuration: {e}"))?;
        config.validate()?;
        Ok((config, warnings))
    }

    /// Checks ranges and combinations, with messages that say what to change.
    pub fn validate(&self) -> Result<(), String> {
        let l = &self.limits;
        let check = |ok: bool, msg: &str| if ok { Ok(()) } else { Err(msg.to_string()) };
        check(
            !self.data_dir.as_os_str().is_empty(),
            "data_dir must not be empty",
        )?;
        if let Some(url) = &self.database_url {
            check(
                url.starts_with("postgres://") || url.starts_with("postgresql://"),
                "database_url must be a postgres:// URL (leave it unset for SQLite in data_dir)",
            )?;
        }
        check(
            matches!(self.log.format.as_str(), "text" | "json"),
            "log.format must be \"text\" or \"json\"",
        )?;
        check(
            (1024..=64 * 1024 * 1024).contains(&l.max_body_bytes),
            "limits.max_body_bytes must be 1 KiB to 64 MiB",
        )?;
        check(
            (1..=100_000).contains(&l.max_message_chars),
            "limits.max_message_chars must be 1 to 100000",
        )?;
        check(
            l.max_message_chars * 4 + 1024 <= l.max_body_bytes,
            "limits.max_body_bytes must fit a message of max_message_chars (4 bytes a character, plus 1 KiB)",
        )?;
        check(
            (1024..=16 * 1024 * 1024).contains(&l.max_ws_message_bytes),
            "limits.max_ws_message_bytes must be 1 KiB to 16 MiB",
        )?;
        check(
            l.max_ws_connections >= 1,
            "limits.max_ws_connections must be at least 1",
        )?;
        check(
            (10..=1000).contains(&l.history_page_max),
            "limits.history_page_max must be 10 to 1000",
        )?;
        check(
            (3..=64).contains(&l.max_group_dm_members),
            "limits.max_group_dm_members must be 3 to 64",
        )?;
        check(
            l.request_timeout_secs >= 1,
            "limits.request_timeout_secs must be at least 1",
        )?;
        let g = &self.geofence;
        check(
            g.dwell_secs >= 1 && g.max_location_age_secs >= 1,
            "geofence.dwell_secs and geofence.max_location_age_secs must be at least 1",
        )?;
        check(
            g.max_accuracy_m > 0.0 && g.max_accuracy_m <= 100_000.0,
            "geofence.max_accuracy_m must be above 0 and at most 100000",
        )?;
        check(
            g.location_retention_secs >= 60,
            "geofence.location_retention_secs must be at least 60",
        )?;
        check(
            (4..=100_000).contains(&g.max_vertices),
            "geofence.max_vertices must be 4 to 100000",
        )?;
        check(
            self.sessions.idle_timeout_secs >= 60,
            "sessions.idle_timeout_secs must be at least 60",
        )?;
        check(
            self.sessions.lifetime_secs >= self.sessions.idle_timeout_secs,
            "sessions.lifetime_secs must be at least sessions.idle_timeout_secs",
        )?;
        let r = &self.rate_limits;
        check(
            r.sends_per_second >= 1 && r.send_burst >= 1,
            "rate_limits.sends_per_second and send_burst must be at least 1",
        )?;
        check(
            r.logins_per_minute_per_ip >= 1 && r.logins_per_minute_per_account >= 1,
            "rate_limits.logins_per_minute_* must be at least 1",
        )?;
        check(
            self.events.retention_hours >= 1,
            "events.retention_hours must be at least 1",
        )?;
        check(
            self.postgres.max_connections >= 2,
            "postgres.max_connections must be at least 2",
        )?;
        check(
            !self.scim.enabled
                || self
                    .scim
                    .bearer_token
                    .as_ref()
                    .is_some_and(|t| t.len() >= 32),
            "scim.bearer_token must be set, at least 32 characters, when scim.enabled is true \
             (e.g. the output of `openssl rand -hex 32`; also CONCORD_SCIM__BEARER_TOKEN)",
        )?;
        self.ldap.validate()?;
        self.tls.validate()?;
        self.security.validate()?;
        self.search.validate()?;
        self.files.validate()?;
        self.retention.validate()?;
        self.crypto.at_rest.validate()?;
        concord_core::dlp::DlpScanner::new(&self.dlp.custom_patterns).map_err(|e| e.to_string())?;
        Ok(())
    }

    /// The org-wide DLP policy, its scanner built once. Patterns are checked by
    /// [`Config::validate`]; should an unvalidated config carry a bad one, the built-in
    /// detectors alone are used and the error is logged.
    pub fn dlp_policy(&self) -> concord_core::dlp::DlpPolicy {
        use concord_core::dlp::{DlpPolicy, DlpScanner};
        let scanner = DlpScanner::new(&self.dlp.custom_patterns).unwrap_or_else(|e| {
            tracing::error!(error = %e, "ignoring dlp.custom_patterns");
            DlpScanner::default()
        });
        DlpPolicy::new(self.dlp.action, std::sync::Arc::new(scanner))
    }

    pub fn store_config(&self) -> concord_store::StoreConfig {
        match &self.database_url {
            Some(url) => concord_store::StoreConfig::Postgres {
                url: url.clone(),
                schema: None,
                max_connections: self.postgres.max_connections,
            },
            None => concord_store::StoreConfig::Sqlite {
                path: self.data_dir.join("concord.db"),
            },
        }
    }

    pub fn domain_limits(&self) -> concord_core::Limits {
        concord_core::Limits {
            max_message_chars: self.limits.max_message_chars,
            history_page_max: self.limits.history_page_max,
            session_idle_timeout: jiff::SignedDuration::from_secs(
                self.sessions.idle_timeout_secs as i64,
            ),
            session_lifetime: jiff::SignedDuration::from_secs(self.sessions.lifetime_secs as i64),
            max_group_dm_members: self.limits.max_group_dm_members,
            geofence: concord_core::geofence::GeofencePolicy {
                dwell: jiff::SignedDuration::from_secs(self.geofence.dwell_secs as i64),
                max_location_age: jiff::SignedDuration::from_secs(
                    self.geofence.max_location_age_secs as i64,
                ),
                max_accuracy_m: self.geofence.max_accuracy_m,
            },
            max_geofence_vertices: self.geofence.max_vertices,
            location_retention: jiff::SignedDuration::from_secs(
                self.geofence.location_retention_secs as i64,
            ),
            crypto_suite: self.crypto.suite,
            dlp: self.dlp_policy(),
            accounts: self.security.policy(),
            ..concord_core::Limits::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        let (c, _) = Config::load(None, Vec::new()).unwrap();
        assert_eq!(c.listen.port(), 8080);
        assert_eq!(c.data_dir, PathBuf::from("concord-data"));
    }

    #[test]
    fn env_overrides_nested_keys_and_ignores_test_variables() {
        let (c, warnings) = Config::load(
            None,
            env(&[
                ("CONCORD_LISTEN", "127.0.0.1:9000"),
                ("CONCORD_LIMITS__MAX_MESSAGE_CHARS", "500"),
                ("CONCORD_TEST_POSTGRES_URL", "postgres://x"),
                ("OTHER", "1"),
                ("CONCORD_NO_SUCH_KEY", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(
            warnings,
            vec!["ignoring CONCORD_NO_SUCH_KEY: no setting no_such_key".to_string()]
        );
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.limits.max_message_chars, 500);
    }

    #[test]
    fn file_then_env() {
        let dir = std::env::temp_dir().join(format!("concord-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(
            &file,
            "data_dir = \"/tmp/x\"\n[rate_limits]\nsends_per_second = 3\n",
        )
        .unwrap();
        let (c, _) = Config::load(
            Some(&file),
            env(&[("CONCORD_RATE_LIMITS__SENDS_PER_SECOND", "7")]),
        )
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(c.rate_limits.sends_per_second, 7);
    }

    #[test]
    fn invalid_values_are_explained() {
        let e = Config::load(None, env(&[("CONCORD_DATABASE_URL", "mysql://x")])).unwrap_err();
        assert!(e.contains("postgres://"), "{e}");
        let e = Config::load(None, env(&[("CONCORD_LIMITS__HISTORY_PAGE_MAX", "5")])).unwrap_err();
        assert!(e.contains("history_page_max"), "{e}");
        std::fs::create_dir_all(std::env::temp_dir()).unwrap();
        let file =
            std::env::temp_dir().join(format!("concord-bad-key-{}.toml", std::process::id()));
        std::fs::write(&file, "no_such_key = 1\n").unwrap();
        let e = Config::load(Some(&file), Vec::new()).unwrap_err();
        assert!(e.contains("no_such_key"), "{e}");
        let e = Config::load(None, env(&[("CONCORD_LISTEN", "not an address")])).unwrap_err();
        assert!(e.contains("invalid configuration"), "{e}");
        let e = Config::load(None, env(&[("CONCORD_SCIM__ENABLED", "true")])).unwrap_err();
        assert!(e.contains("scim.bearer_token"), "{e}");
        let e =
            Config::load(None, env(&[("CONCORD_LDAP__SYNC_INTERVAL_SECS", "3600")])).unwrap_err();
        assert!(e.contains("ldap.url"), "{e}");
        let (c, _) = Config::load(
            None,
            env(&[
                ("CONCORD_SCIM__ENABLED", "true"),
                ("CONCORD_SCIM__BEARER_TOKEN", &"t".repeat(40)),
                ("CONCORD_LDAP__ATTRIBUTES__EMAIL", "userPrincipalName"),
            ]),
        )
        .unwrap();
        assert!(c.scim.enabled);
        assert_eq!(c.ldap.attributes.email, "userPrincipalName");
        let (c, _) = Config::load(None, env(&[("CONCORD_DLP__ACTION", "block")])).unwrap();
        assert_eq!(c.dlp.action, concord_core::dlp::DlpAction::Block);
        let e = Config::load(None, env(&[("CONCORD_DLP__ACTION", "warn")])).unwrap_err();
        assert!(e.contains("warn"), "{e}");
        let file = std::env::temp_dir().join(format!("concord-dlp-{}.toml", std::process::id()));
        std::fs::write(
            &file,
            "[dlp]\ncustom_patterns = [{ name = \"mrn\", regex = \"(\" }]\n",
        )
        .unwrap();
        let e = Config::load(Some(&file), Vec::new()).unwrap_err();
        assert!(
            e.contains("dlp.custom_patterns") && e.contains("mrn"),
            "{e}"
        );
    }

    #[test]
    fn debug_redacts_the_database_url() {
        let mut c = Config {
            database_url: Some("postgres://u:secret@h/db".into()),
            ..Config::default()
        };
        c.scim.bearer_token = Some("secret-scim-token".into());
        c.ldap.bind_password = Some("secret-ldap-password".into());
        c.files.s3.secret_access_key = Some("secret-s3-key".into());
        assert!(!format!("{c:?}").contains("secret"));
    }
}
