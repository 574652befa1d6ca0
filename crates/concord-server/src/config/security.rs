//! The `[tls]` and `[security]` sections: HTTPS/WSS, and the account policy (second factor,
//! lockout, passwords) handed to the services as [`concord_core::AccountPolicy`].

use concord_core::service::MfaRequirement;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// HTTPS and WSS with rustls (TLS 1.2 and 1.3 only). Both files or neither.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first (`--tls-cert`, `CONCORD_TLS__CERT`).
    pub cert: Option<PathBuf>,
    /// PEM private key: PKCS#8, PKCS#1 or SEC1 (`--tls-key`, `CONCORD_TLS__KEY`).
    pub key: Option<PathBuf>,
}

impl TlsConfig {
    /// Whether the server serves HTTPS (and sends HSTS).
    pub fn enabled(&self) -> bool {
        self.cert.is_some() && self.key.is_some()
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        if self.cert.is_some() != self.key.is_some() {
            return Err(
                "tls.cert and tls.key must be set together (--tls-cert and --tls-key)".into(),
            );
        }
        for (name, path) in [("tls.cert", &self.cert), ("tls.key", &self.key)] {
            if let Some(p) = path
                && !p.is_file()
            {
                return Err(format!("{name}: {} is not a readable file", p.display()));
            }
        }
        Ok(())
    }
}

/// Sign-in security: the second factor, lockout and the password policy.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Who must use a TOTP second factor: `off`, `admins` (holders of org.manage, user.manage,
    /// role.manage or security.manage anywhere) or `everyone`.
    pub require_mfa: MfaRequirement,
    /// Failed logins in a row that lock an account; 0 turns lockout off.
    pub max_failed_logins: u32,
    /// How long a locked account stays locked (seconds).
    pub lockout_secs: u64,
    /// Shortest password accepted (characters).
    pub password_min_length: usize,
    /// How many of the four classes (lower case, upper case, digits, others) a password needs.
    pub password_min_classes: u8,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            require_mfa: MfaRequirement::Off,
            max_failed_logins: 10,
            lockout_secs: 900,
            password_min_length: 8,
            password_min_classes: 1,
        }
    }
}

impl SecurityConfig {
    pub(super) fn validate(&self) -> Result<(), String> {
        if self.max_failed_logins > 0 && !(1..=86_400).contains(&self.lockout_secs) {
            return Err("security.lockout_secs must be 1 to 86400".into());
        }
        if !(8..=256).contains(&self.password_min_length) {
            return Err("security.password_min_length must be 8 to 256".into());
        }
        if !(1..=4).contains(&self.password_min_classes) {
            return Err("security.password_min_classes must be 1 to 4".into());
        }
        Ok(())
    }

    pub fn policy(&self) -> concord_core::service::AccountPolicy {
        concord_core::service::AccountPolicy {
            require_mfa: self.require_mfa,
            max_failed_logins: self.max_failed_logins,
            lockout: jiff::SignedDuration::from_secs(self.lockout_secs as i64),
            password_min_length: self.password_min_length,
            password_min_classes: self.password_min_classes,
        }
    }
}
