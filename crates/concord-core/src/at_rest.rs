//! Encryption at rest: the sealed format, data keys, master keys and the keyring that caches
//! unwrapped data keys.
//!
//! Data is sealed with a *data key* (one per scope: a channel, or the accounts' second-factor
//! secrets) under AES-256-GCM (`standard` suite) or SM4-GCM (`gm`). Data keys are stored
//! wrapped by a *master key* held by a [`MasterKeys`] provider (a key file or an HSM); the
//! [`Keyring`] keeps unwrapped data keys in memory so sealing a message costs one AEAD call.
//! Rotating the master key rewraps data keys only: sealed data names its data key, not the
//! master key, so it stays readable.
//!
//! Sealed bytes: `version (1) | algorithm (1) | data key id (8, big endian) | nonce (12) |
//! ciphertext and tag`; the first 10 bytes are the associated data, so a sealed value cannot
//! be relabelled to another key. Sealed text (for TEXT columns): [`SEALED_TEXT_PREFIX`]
//! followed by the sealed bytes in unpadded base64url. Text without the prefix is plaintext
//! written before encryption was turned on (see `concord keys encrypt-existing`).

pub mod stream;

use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm};
use base64::Engine as _;
use rand::RngCore;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use zeroize::Zeroizing;

use crate::crypto::Suite;

/// SM4 in GCM mode (RFC 8998), built from aes-gcm's generic GCM.
pub type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// The current sealed format.
pub const FORMAT_V1: u8 = 1;
/// Marks sealed text. It starts with a control character that validated message text, TOTP
/// Base32 and JSON never begin with, so legacy plaintext is never mistaken for it.
pub const SEALED_TEXT_PREFIX: &str = "\u{1}cc1:";
/// Nonce length for both AEADs.
pub const NONCE_LEN: usize = 12;
/// GCM tag length.
pub const TAG_LEN: usize = 16;
/// `version | algorithm | key id`: the associated data of every sealed value.
const HEADER_LEN: usize = 10;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AtRestError {
    #[error("sealed data is malformed: {0}")]
    Malformed(&'static str),
    #[error("sealed data failed authentication (wrong key or tampered)")]
    Authentication,
    #[error("unknown master key {0}")]
    UnknownMasterKey(String),
    #[error("master key provider: {0}")]
    Provider(String),
    #[error("a {0} key must be {1} bytes")]
    KeyLength(&'static str, usize),
}

/// The data-encryption algorithm, as recorded in sealed bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Aes256Gcm = 1,
    Sm4Gcm = 2,
}

impl Algorithm {
    pub fn for_suite(suite: Suite) -> Self {
        match suite {
            Suite::Standard => Algorithm::Aes256Gcm,
            Suite::Gm => Algorithm::Sm4Gcm,
        }
    }

    pub fn key_len(self) -> usize {
        match self {
            Algorithm::Aes256Gcm => 32,
            Algorithm::Sm4Gcm => 16,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Algorithm::Aes256Gcm),
            2 => Some(Algorithm::Sm4Gcm),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Aes256Gcm => "AES-256-GCM",
            Algorithm::Sm4Gcm => "SM4-GCM",
        }
    }
}

/// An AEAD keyed once; encrypts and decrypts with explicit nonces.
#[derive(Clone)]
pub enum Aead12 {
    Aes256(Box<Aes256Gcm>),
    Sm4(Box<Sm4Gcm>),
}

impl Aead12 {
    pub fn new(algorithm: Algorithm, key: &[u8]) -> Result<Self, AtRestError> {
        if key.len() != algorithm.key_len() {
            return Err(AtRestError::KeyLength(
                algorithm.as_str(),
                algorithm.key_len(),
            ));
        }
        Ok(match algorithm {
            Algorithm::Aes256Gcm => Aead12::Aes256(Box::new(
                Aes256Gcm::new_from_slice(key)
                    .map_err(|_| AtRestError::KeyLength("AES-256-GCM", 32))?,
            )),
            Algorithm::Sm4Gcm => Aead12::Sm4(Box::new(
                Sm4Gcm::new_from_slice(key).map_err(|_| AtRestError::KeyLength("SM4-GCM", 16))?,
            )),
        })
    }

    pub fn encrypt(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        let result = match self {
            Aead12::Aes256(c) => c.encrypt(nonce.into(), payload),
            Aead12::Sm4(c) => c.encrypt(nonce.into(), payload),
        };
        // Encryption fails only past GCM's length limit (64 GiB), far above any input here.
        result.expect("AEAD input within GCM's length limit")
    }

    pub fn decrypt(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, AtRestError> {
        let payload = Payload {
            msg: ciphertext,
            aad,
        };
        match self {
            Aead12::Aes256(c) => c.decrypt(nonce.into(), payload),
            Aead12::Sm4(c) => c.decrypt(nonce.into(), payload),
        }
        .map_err(|_| AtRestError::Authentication)
    }
}

/// Fresh random bytes from the thread's CSPRNG (seeded by the OS).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    rand::rng().fill_bytes(&mut out);
    out
}

/// An unwrapped data key, ready to seal and open.
pub struct DataKey {
    id: i64,
    algorithm: Algorithm,
    aead: Aead12,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("id", &self.id)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl DataKey {
    pub fn new(id: i64, algorithm: Algorithm, secret: &[u8]) -> Result<Self, AtRestError> {
        Ok(Self {
            id,
            algorithm,
            aead: Aead12::new(algorithm, secret)?,
        })
    }

    pub fn id(&self) -> i64 {
        self.id
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn aead(&self) -> &Aead12 {
        &self.aead
    }

    fn header(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0] = FORMAT_V1;
        h[1] = self.algorithm as u8;
        h[2..].copy_from_slice(&self.id.to_be_bytes());
        h
    }

    /// Seals with a random nonce (96 bits: collisions stay negligible far beyond 2^32 values
    /// per key).
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        self.seal_with_nonce(&random_bytes::<NONCE_LEN>(), plaintext)
    }

    /// Seals with the given nonce; only tests pin one, to check the format byte for byte.
    pub fn seal_with_nonce(&self, nonce: &[u8; NONCE_LEN], plaintext: &[u8]) -> Vec<u8> {
        let header = self.header();
        let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&header);
        out.extend_from_slice(nonce);
        out.extend_from_slice(&self.aead.encrypt(nonce, &header, plaintext));
        out
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, AtRestError> {
        let parsed = parse_sealed(sealed)?;
        if parsed.key_id != self.id || parsed.algorithm != self.algorithm {
            return Err(AtRestError::Malformed("sealed under another key"));
        }
        self.aead
            .decrypt(&parsed.nonce, &sealed[..HEADER_LEN], parsed.ciphertext)
    }

    /// Seals text for a TEXT column.
    pub fn seal_text(&self, plaintext: &str) -> String {
        let sealed = self.seal(plaintext.as_bytes());
        let mut out = String::with_capacity(SEALED_TEXT_PREFIX.len() + sealed.len() * 4 / 3 + 4);
        out.push_str(SEALED_TEXT_PREFIX);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(&sealed, &mut out);
        out
    }

    /// Opens text made by [`DataKey::seal_text`].
    pub fn open_text(&self, sealed: &str) -> Result<String, AtRestError> {
        let bytes = sealed_text_bytes(sealed)?.ok_or(AtRestError::Malformed("not sealed text"))?;
        String::from_utf8(self.open(&bytes)?)
            .map_err(|_| AtRestError::Malformed("sealed text is not UTF-8"))
    }
}

/// The parts of sealed bytes.
struct Parsed<'a> {
    algorithm: Algorithm,
    key_id: i64,
    nonce: [u8; NONCE_LEN],
    ciphertext: &'a [u8],
}

fn parse_sealed(sealed: &[u8]) -> Result<Parsed<'_>, AtRestError> {
    if sealed.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
        return Err(AtRestError::Malformed("too short"));
    }
    if sealed[0] != FORMAT_V1 {
        return Err(AtRestError::Malformed("unknown format version"));
    }
    let algorithm =
        Algorithm::from_byte(sealed[1]).ok_or(AtRestError::Malformed("unknown algorithm"))?;
    let key_id = i64::from_be_bytes(sealed[2..HEADER_LEN].try_into().expect("8 bytes"));
    let nonce = sealed[HEADER_LEN..HEADER_LEN + NONCE_LEN]
        .try_into()
        .expect("12 bytes");
    Ok(Parsed {
        algorithm,
        key_id,
        nonce,
        ciphertext: &sealed[HEADER_LEN + NONCE_LEN..],
    })
}

/// Whether stored text is sealed (else it is legacy plaintext).
pub fn is_sealed_text(text: &str) -> bool {
    text.starts_with(SEALED_TEXT_PREFIX)
}

/// The sealed bytes inside sealed text; `None` for plaintext.
pub fn sealed_text_bytes(text: &str) -> Result<Option<Vec<u8>>, AtRestError> {
    let Some(body) = text.strip_prefix(SEALED_TEXT_PREFIX) else {
        return Ok(None);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .map(Some)
        .map_err(|_| AtRestError::Malformed("sealed text is not base64url"))
}

/// Which data key sealed these bytes.
pub fn sealed_key_id(sealed: &[u8]) -> Result<i64, AtRestError> {
    parse_sealed(sealed).map(|p| p.key_id)
}

/// A data key freshly generated and wrapped, to be stored.
pub struct WrappedDataKey {
    pub master_key_id: String,
    pub wrapped: Vec<u8>,
}

/// Who holds the master keys: wraps and unwraps data keys. Implementations do I/O (a key file
/// read at start, an HSM session); the domain only calls them.
pub trait MasterKeys: Send + Sync {
    /// The key new data keys are wrapped with.
    fn active_id(&self) -> String;
    /// Wraps `data_key` with the active master key.
    fn wrap(&self, data_key: &[u8]) -> Result<WrappedDataKey, AtRestError>;
    /// Unwraps with the master key that wrapped it (any key the provider still holds).
    fn unwrap(
        &self,
        master_key_id: &str,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, AtRestError>;
    /// A short description for `concord keys status` (provider and where the keys are).
    fn describe(&self) -> String;
}

/// Wraps data keys with a local AEAD key (the key-file provider, and tests): `nonce |
/// ciphertext and tag`, the master key's id as associated data.
pub fn wrap_with(aead: &Aead12, master_key_id: &str, data_key: &[u8]) -> Vec<u8> {
    let nonce = random_bytes::<NONCE_LEN>();
    let mut out = nonce.to_vec();
    out.extend_from_slice(&aead.encrypt(&nonce, master_key_id.as_bytes(), data_key));
    out
}

/// Reverses [`wrap_with`].
pub fn unwrap_with(
    aead: &Aead12,
    master_key_id: &str,
    wrapped: &[u8],
) -> Result<Zeroizing<Vec<u8>>, AtRestError> {
    if wrapped.len() < NONCE_LEN + TAG_LEN {
        return Err(AtRestError::Malformed("wrapped key too short"));
    }
    let nonce: [u8; NONCE_LEN] = wrapped[..NONCE_LEN].try_into().expect("12 bytes");
    aead.decrypt(&nonce, master_key_id.as_bytes(), &wrapped[NONCE_LEN..])
        .map(Zeroizing::new)
}

/// A stored data key, as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataKeyRecord {
    pub id: i64,
    /// What it protects: `channel:<id>`, `accounts`, `files`.
    pub scope: String,
    /// `standard` or `gm`: the suite it was made for.
    pub suite: Suite,
    pub master_key_id: String,
    pub wrapped: Vec<u8>,
}

/// Sealed and plaintext values in the store, for `concord keys status`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AtRestCounts {
    pub data_keys: u64,
    /// Data keys per master key id.
    pub by_master: Vec<(String, u64)>,
    pub sealed: u64,
    /// Values written before encryption was on (messages, versions, message events, TOTP).
    pub plaintext: u64,
}

/// Scope names for data keys.
pub mod scope {
    use concord_proto::ChannelId;

    pub fn channel(id: ChannelId) -> String {
        format!("channel:{}", id.0)
    }

    /// TOTP secrets of every account.
    pub const ACCOUNTS: &str = "accounts";
}

/// Unwrapped data keys by id and by scope, and the master keys to unwrap more.
pub struct Keyring {
    suite: Suite,
    masters: Arc<dyn MasterKeys>,
    by_id: RwLock<HashMap<i64, Arc<DataKey>>>,
    by_scope: RwLock<HashMap<String, Arc<DataKey>>>,
    max_cached: usize,
}

/// Unwrapped data keys kept by default (about 1 KiB each with their cipher state): every
/// channel active at once in a large deployment; past it, some are dropped and unwrapped
/// again on their next use.
pub const DEFAULT_MAX_CACHED_KEYS: usize = 100_000;

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("suite", &self.suite)
            .field("master", &self.masters.active_id())
            .finish()
    }
}

impl Keyring {
    pub fn new(suite: Suite, masters: Arc<dyn MasterKeys>) -> Self {
        Self {
            suite,
            masters,
            by_id: RwLock::default(),
            by_scope: RwLock::default(),
            max_cached: DEFAULT_MAX_CACHED_KEYS,
        }
    }

    /// Bounds the cache of unwrapped data keys (at least 1).
    pub fn with_max_cached(mut self, max: usize) -> Self {
        self.max_cached = max.max(1);
        self
    }

    /// How many unwrapped data keys are cached.
    pub fn cached_len(&self) -> usize {
        self.by_id.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    pub fn masters(&self) -> &Arc<dyn MasterKeys> {
        &self.masters
    }

    /// The cached key for a scope, if it was loaded.
    pub fn for_scope(&self, scope: &str) -> Option<Arc<DataKey>> {
        self.by_scope
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(scope)
            .cloned()
    }

    /// The cached key with this id, if it was loaded.
    pub fn by_id(&self, id: i64) -> Option<Arc<DataKey>> {
        self.by_id
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    /// A new random data key of this suite, wrapped by the active master key; the store
    /// inserts it and then [`Keyring::load`]s what it stored (another node may have won).
    pub fn generate(&self) -> Result<WrappedDataKey, AtRestError> {
        let len = Algorithm::for_suite(self.suite).key_len();
        let mut secret = Zeroizing::new(vec![0u8; len]);
        rand::rng().fill_bytes(&mut secret);
        self.masters.wrap(&secret)
    }

    /// Unwraps a stored key and caches it.
    pub fn load(&self, record: &DataKeyRecord) -> Result<Arc<DataKey>, AtRestError> {
        let secret = self
            .masters
            .unwrap(&record.master_key_id, &record.wrapped)?;
        let key = Arc::new(DataKey::new(
            record.id,
            Algorithm::for_suite(record.suite),
            &secret,
        )?);
        let mut by_id = self.by_id.write().unwrap_or_else(|e| e.into_inner());
        let mut by_scope = self.by_scope.write().unwrap_or_else(|e| e.into_inner());
        if by_id.len() >= self.max_cached && !by_id.contains_key(&record.id) {
            // Full: drop about a tenth, whichever the hash order yields (no LRU bookkeeping on
            // the send path); a dropped key is unwrapped again on its next use.
            let drop_ids: Vec<i64> = by_id
                .keys()
                .take(self.max_cached / 10 + 1)
                .copied()
                .collect();
            for id in drop_ids {
                by_id.remove(&id);
            }
            by_scope.retain(|_, key| by_id.contains_key(&key.id()));
        }
        by_id.insert(record.id, key.clone());
        by_scope.insert(record.scope.clone(), key.clone());
        Ok(key)
    }

    /// Opens sealed text whose key is cached; `Ok(None)` when the key must be loaded first
    /// (its id is in the error-free [`sealed_text_key`]).
    pub fn open_cached(&self, text: &str) -> Result<Option<String>, AtRestError> {
        let Some(bytes) = sealed_text_bytes(text)? else {
            return Ok(Some(text.to_string()));
        };
        let id = sealed_key_id(&bytes)?;
        match self.by_id(id) {
            Some(key) => key.open(&bytes).and_then(|p| {
                String::from_utf8(p)
                    .map(Some)
                    .map_err(|_| AtRestError::Malformed("sealed text is not UTF-8"))
            }),
            None => Ok(None),
        }
    }
}

/// The data key id sealed text names; `None` for plaintext.
pub fn sealed_text_key(text: &str) -> Result<Option<i64>, AtRestError> {
    match sealed_text_bytes(text)? {
        Some(bytes) => sealed_key_id(&bytes).map(Some),
        None => Ok(None),
    }
}

/// A master key provider over in-memory AEAD keys: the key-file provider's core, and tests'.
pub struct LocalMasterKeys {
    suite: Suite,
    /// Oldest first; the last is active.
    keys: Vec<(String, Aead12)>,
    description: String,
}

impl LocalMasterKeys {
    /// `keys` oldest first (id, secret); the last one is active.
    pub fn new(
        suite: Suite,
        keys: Vec<(String, Zeroizing<Vec<u8>>)>,
        description: String,
    ) -> Result<Self, AtRestError> {
        let algorithm = Algorithm::for_suite(suite);
        let keys = keys
            .into_iter()
            .map(|(id, secret)| Ok((id, Aead12::new(algorithm, &secret)?)))
            .collect::<Result<Vec<_>, AtRestError>>()?;
        if keys.is_empty() {
            return Err(AtRestError::Provider("no master key".into()));
        }
        Ok(Self {
            suite,
            keys,
            description,
        })
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }
}

impl MasterKeys for LocalMasterKeys {
    fn active_id(&self) -> String {
        self.keys.last().expect("at least one key").0.clone()
    }

    fn wrap(&self, data_key: &[u8]) -> Result<WrappedDataKey, AtRestError> {
        let (id, aead) = self.keys.last().expect("at least one key");
        Ok(WrappedDataKey {
            master_key_id: id.clone(),
            wrapped: wrap_with(aead, id, data_key),
        })
    }

    fn unwrap(
        &self,
        master_key_id: &str,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, AtRestError> {
        let (id, aead) = self
            .keys
            .iter()
            .find(|(id, _)| id == master_key_id)
            .ok_or_else(|| AtRestError::UnknownMasterKey(master_key_id.to_string()))?;
        unwrap_with(aead, id, wrapped)
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

#[cfg(test)]
mod tests;
