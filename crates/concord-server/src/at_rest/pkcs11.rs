//! The HSM master key provider, through PKCS#11 (`cryptoki`): master keys are AES-256 keys
//! generated inside the token (sensitive, not extractable) and data keys are wrapped with
//! `CKM_AES_GCM` there, so the master key never leaves the HSM. Keys are named by label:
//! `<key_label>` first, then `<key_label>.2`, `<key_label>.3`, ... after rotations; the highest
//! is active. The user PIN comes from an environment variable or a file, never the config.
//!
//! Whatever the suite, the wrapping is AES-GCM: common HSMs (and SoftHSM2, which the tests
//! use) have no SM4 mechanism. Data themselves are sealed with the suite's cipher.

use super::Provider;
use crate::config::Pkcs11Config;
use concord_core::at_rest::{AtRestError, MasterKeys, NONCE_LEN, WrappedDataKey, random_bytes};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use std::sync::Mutex;
use zeroize::Zeroizing;

/// The token's master keys, and one logged-in session (sessions are not shareable across
/// threads, hence the lock; it is taken only when a data key is made or first loaded).
pub struct HsmMasterKeys {
    _context: Pkcs11,
    session: Mutex<Session>,
    base_label: String,
    token_label: String,
    /// `(generation, label, handle)`, oldest first.
    keys: Vec<(u32, String, ObjectHandle)>,
}

fn hsm_err(what: &str, e: impl std::fmt::Display) -> String {
    format!("PKCS#11 {what}: {e}")
}

fn generation_of(base: &str, label: &str) -> Option<u32> {
    if label == base {
        return Some(1);
    }
    label
        .strip_prefix(base)?
        .strip_prefix('.')?
        .parse()
        .ok()
        .filter(|n| *n >= 2)
}

fn label_for(base: &str, generation: u32) -> String {
    if generation == 1 {
        base.to_string()
    } else {
        format!("{base}.{generation}")
    }
}

fn read_pin(config: &Pkcs11Config) -> Result<Zeroizing<String>, String> {
    if let Some(path) = &config.pin_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the HSM PIN file {}: {e}", path.display()))?;
        return Ok(Zeroizing::new(
            text.trim_end_matches(['\r', '\n']).to_string(),
        ));
    }
    let var = config.pin_env.as_deref().unwrap_or("CONCORD_HSM_PIN");
    std::env::var(var)
        .map(Zeroizing::new)
        .map_err(|_| format!("the HSM PIN is missing: set {var} or crypto.at_rest.pkcs11.pin_file"))
}

impl HsmMasterKeys {
    /// Logs in to the token and finds its master keys, generating the first if none exists.
    pub fn open(config: &Pkcs11Config) -> Result<Self, String> {
        let module = config
            .module
            .as_ref()
            .ok_or("crypto.at_rest.pkcs11.module is not set")?;
        let context = Pkcs11::new(module).map_err(|e| hsm_err("module", e))?;
        context
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(|e| hsm_err("initialise", e))?;
        let mut slot = None;
        for s in context
            .get_slots_with_token()
            .map_err(|e| hsm_err("slots", e))?
        {
            let info = context
                .get_token_info(s)
                .map_err(|e| hsm_err("token info", e))?;
            if info.label().trim_end() == config.token_label {
                slot = Some(s);
                break;
            }
        }
        let slot =
            slot.ok_or_else(|| format!("no PKCS#11 token is labelled {:?}", config.token_label))?;
        let session = context
            .open_rw_session(slot)
            .map_err(|e| hsm_err("session", e))?;
        let pin = read_pin(config)?;
        session
            .login(UserType::User, Some(&AuthPin::from(pin.as_str())))
            .map_err(|e| hsm_err("login", e))?;
        let mut this = Self {
            _context: context,
            session: Mutex::new(session),
            base_label: config.key_label.clone(),
            token_label: config.token_label.clone(),
            keys: Vec::new(),
        };
        this.reload()?;
        if this.keys.is_empty() {
            this.generate(1)?;
            this.reload()?;
        }
        Ok(this)
    }

    fn reload(&mut self) -> Result<(), String> {
        let session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let handles = session
            .find_objects(&[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
            ])
            .map_err(|e| hsm_err("find keys", e))?;
        let mut keys = Vec::new();
        for handle in handles {
            let attrs = session
                .get_attributes(handle, &[AttributeType::Label])
                .map_err(|e| hsm_err("label", e))?;
            for attr in attrs {
                if let Attribute::Label(bytes) = attr {
                    let label = String::from_utf8_lossy(&bytes).to_string();
                    if let Some(generation) = generation_of(&self.base_label, &label) {
                        keys.push((generation, label, handle));
                    }
                }
            }
        }
        keys.sort_by_key(|(g, _, _)| *g);
        drop(session);
        self.keys = keys;
        Ok(())
    }

    fn generate(&self, generation: u32) -> Result<(), String> {
        let label = label_for(&self.base_label, generation);
        let session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        session
            .generate_key(
                &Mechanism::AesKeyGen,
                &[
                    Attribute::Class(ObjectClass::SECRET_KEY),
                    Attribute::KeyType(KeyType::AES),
                    Attribute::ValueLen(32u64.into()),
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Sensitive(true),
                    Attribute::Extractable(false),
                    Attribute::Encrypt(true),
                    Attribute::Decrypt(true),
                    Attribute::Label(label.into_bytes()),
                ],
            )
            .map_err(|e| hsm_err("generate key", e))?;
        Ok(())
    }

    fn handle(&self, id: &str) -> Option<ObjectHandle> {
        let known = self.keys.iter().find(|(_, label, _)| label == id);
        if let Some((_, _, handle)) = known {
            return Some(*handle);
        }
        // A key made by `concord keys rotate` while this server runs: look it up by label.
        generation_of(&self.base_label, id)?;
        let session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let found = session.find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Label(id.as_bytes().to_vec()),
        ]);
        found.ok()?.first().copied()
    }
}

impl MasterKeys for HsmMasterKeys {
    fn active_id(&self) -> String {
        self.keys
            .last()
            .map(|(_, label, _)| label.clone())
            .unwrap_or_default()
    }

    fn wrap(&self, data_key: &[u8]) -> Result<WrappedDataKey, AtRestError> {
        let (_, label, handle) = self
            .keys
            .last()
            .ok_or_else(|| AtRestError::Provider("no master key".into()))?;
        let mut iv = random_bytes::<NONCE_LEN>();
        let params = GcmParams::new(&mut iv, label.as_bytes(), 128u64.into())
            .map_err(|e| AtRestError::Provider(e.to_string()))?;
        let session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let sealed = session
            .encrypt(&Mechanism::AesGcm(params), *handle, data_key)
            .map_err(|e| AtRestError::Provider(hsm_err("wrap", e)))?;
        let mut wrapped = iv.to_vec();
        wrapped.extend_from_slice(&sealed);
        Ok(WrappedDataKey {
            master_key_id: label.clone(),
            wrapped,
        })
    }

    fn unwrap(
        &self,
        master_key_id: &str,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, AtRestError> {
        let handle = self
            .handle(master_key_id)
            .ok_or_else(|| AtRestError::UnknownMasterKey(master_key_id.into()))?;
        if wrapped.len() <= NONCE_LEN {
            return Err(AtRestError::Malformed("wrapped key too short"));
        }
        let mut iv: [u8; NONCE_LEN] = wrapped[..NONCE_LEN].try_into().expect("12 bytes");
        let params = GcmParams::new(&mut iv, master_key_id.as_bytes(), 128u64.into())
            .map_err(|e| AtRestError::Provider(e.to_string()))?;
        let session = self.session.lock().unwrap_or_else(|e| e.into_inner());
        session
            .decrypt(&Mechanism::AesGcm(params), handle, &wrapped[NONCE_LEN..])
            .map(Zeroizing::new)
            .map_err(|_| AtRestError::Authentication)
    }

    fn describe(&self) -> String {
        format!(
            "PKCS#11 token {:?}, keys labelled {:?}",
            self.token_label, self.base_label
        )
    }
}

impl Provider for HsmMasterKeys {
    fn create_next(&mut self) -> Result<String, String> {
        let next = self.keys.last().map_or(1, |(g, _, _)| g + 1);
        self.generate(next)?;
        self.reload()?;
        Ok(label_for(&self.base_label, next))
    }

    fn ids(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|(_, label, _)| label.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_generations() {
        assert_eq!(generation_of("concord", "concord"), Some(1));
        assert_eq!(generation_of("concord", "concord.2"), Some(2));
        assert_eq!(generation_of("concord", "concord.1"), None);
        assert_eq!(generation_of("concord", "concordx"), None);
        assert_eq!(generation_of("concord", "other.2"), None);
        assert_eq!(label_for("concord", 1), "concord");
        assert_eq!(label_for("concord", 3), "concord.3");
    }
}
