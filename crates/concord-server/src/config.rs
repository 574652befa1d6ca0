//! Configuration: one typed struct built from defaults, then a TOML file, then `CONCORD_*`
//! environment variables (`__` between nested keys), then command-line flags; validated
//! before anything starts. `concord.example.toml` documents every field.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
            .finish()
    }
}

/// Environment variables with the `CONCORD_` prefix that are not configuration.
const NOT_CONFIG: &[&str] = &[
    "CONCORD_CONFIG",
    "CONCORD_TEST_POSTGRES_URL",
    "CONCORD_TEST_SLOW",
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
        Ok(())
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
    }

    #[test]
    fn debug_redacts_the_database_url() {
        let c = Config {
            database_url: Some("postgres://u:secret@h/db".into()),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("secret"));
    }
}
