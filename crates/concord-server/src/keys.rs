//! The server's keys on disk. The audit signing key lives in `<data_dir>/keys/`, created on
//! first start with mode 0600 in a 0700 directory. (Master keys for encryption at rest will
//! sit beside it, or in an HSM.)

use concord_core::crypto::{SigningKey, Suite};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize)]
struct KeyFile {
    suite: Suite,
    /// Hex: PKCS#8 (Ed25519) or the SM2 scalar.
    secret: String,
}

pub fn signing_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("audit-signing.key")
}

/// Loads the audit signing key, creating it on first use.
pub fn load_or_create_signing_key(data_dir: &Path, suite: Suite) -> anyhow::Result<SigningKey> {
    let path = signing_key_path(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let file: KeyFile = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!("{} is not a Concord key file: {e}", path.display())
            })?;
            if file.suite != suite {
                anyhow::bail!(
                    "{} holds a {} key but crypto.suite is {}; a deployment keeps one suite",
                    path.display(),
                    file.suite.as_str(),
                    suite.as_str()
                );
            }
            let secret = hex::decode(file.secret.trim())
                .map_err(|_| anyhow::anyhow!("{}: the secret is not hex", path.display()))?;
            Ok(SigningKey::from_bytes(suite, &secret)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate(suite);
            let dir = path.parent().expect("the key path has a parent");
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
            let body = serde_json::to_string(&KeyFile {
                suite,
                secret: hex::encode(key.to_bytes()),
            })?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
            f.write_all(body.as_bytes())?;
            f.sync_all()?;
            Ok(key)
        }
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// A 32-byte secret for HMACs (e.g. `link-signing.key`, which signs expiring file links),
/// created on first use like the signing key. Every node of a cluster needs the same one.
pub fn load_or_create_secret(data_dir: &Path, name: &str) -> anyhow::Result<[u8; 32]> {
    let path = data_dir.join("keys").join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim())
                .map_err(|_| anyhow::anyhow!("{}: the secret is not hex", path.display()))?;
            bytes
                .try_into()
                .map_err(|_| anyhow::anyhow!("{}: the secret is not 32 bytes", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
            let dir = path.parent().expect("the key path has a parent");
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
            f.write_all(hex::encode(secret).as_bytes())?;
            f.sync_all()?;
            Ok(secret)
        }
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_key_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_signing_key(dir.path(), Suite::Gm).unwrap();
        let mode = std::fs::metadata(signing_key_path(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = load_or_create_signing_key(dir.path(), Suite::Gm).unwrap();
        assert_eq!(first.public_key(), again.public_key());
        let err = load_or_create_signing_key(dir.path(), Suite::Standard).unwrap_err();
        assert!(err.to_string().contains("crypto.suite"), "{err}");
    }
}
