//! `[crypto.at_rest]`: encryption at rest and where its master keys live (a key file in
//! `data_dir/keys`, the default, or an HSM through PKCS#11).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Which provider holds the master keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MasterKeyProvider {
    /// `data_dir/keys/master-NNNN.key`, created on first start (mode 0600).
    #[default]
    File,
    /// An AES key held in a PKCS#11 token (an HSM); data keys are wrapped inside it.
    Pkcs11,
}

/// Encryption at rest of message bodies, edit history, message events and TOTP secrets.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AtRestConfig {
    /// Seal new values (on by default). Off, values are stored as plaintext; values already
    /// sealed still need the keys to be read.
    pub enabled: bool,
    pub provider: MasterKeyProvider,
    pub pkcs11: Pkcs11Config,
}

impl Default for AtRestConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            provider: MasterKeyProvider::File,
            pkcs11: Pkcs11Config::default(),
        }
    }
}

/// The HSM: which module, token and key. The PIN is never in the config itself.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Pkcs11Config {
    /// The PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: Option<PathBuf>,
    /// The token's label (the slot holding it is found by label).
    pub token_label: String,
    /// The environment variable holding the user PIN (default `CONCORD_HSM_PIN`).
    pub pin_env: Option<String>,
    /// Or a file holding the user PIN (trailing newline ignored).
    pub pin_file: Option<PathBuf>,
    /// The master key's label; rotation adds `<label>.2`, `<label>.3`, ... and the highest is
    /// active. Created in the token on first start if no key has the label.
    pub key_label: String,
}

impl AtRestConfig {
    pub(super) fn validate(&self) -> Result<(), String> {
        if self.provider != MasterKeyProvider::Pkcs11 {
            return Ok(());
        }
        let p = &self.pkcs11;
        match &p.module {
            Some(m) if m.is_file() => {}
            Some(m) => {
                return Err(format!(
                    "crypto.at_rest.pkcs11.module: {} is not a file",
                    m.display()
                ));
            }
            None => {
                return Err(
                    "crypto.at_rest.pkcs11.module must name the PKCS#11 module when provider is pkcs11"
                        .into(),
                );
            }
        }
        if p.token_label.is_empty() || p.key_label.is_empty() || p.key_label.len() > 64 {
            return Err(
                "crypto.at_rest.pkcs11.token_label and key_label (at most 64 bytes) must be set"
                    .into(),
            );
        }
        Ok(())
    }
}
