//! The key-file master key provider (the default): `data_dir/keys/master-NNNN.key`, one file
//! per master key, created with mode 0600 in a 0700 directory. The highest number is active;
//! older files stay so data keys wrapped by them can be unwrapped until `concord keys rotate`
//! has rewrapped them (then `concord keys status` shows none left on them and they may be
//! archived offline).

use super::Provider;
use concord_core::at_rest::{
    Algorithm, AtRestError, LocalMasterKeys, MasterKeys, WrappedDataKey, random_bytes,
};
use concord_core::crypto::Suite;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

#[derive(Serialize, Deserialize)]
struct KeyFile {
    suite: Suite,
    /// Hex: 32 bytes (AES-256-GCM wrapping) or 16 (SM4-GCM).
    secret: String,
}

pub struct FileMasterKeys {
    dir: PathBuf,
    suite: Suite,
    /// `(number, id)` oldest first.
    numbers: Vec<(u32, String)>,
    keys: LocalMasterKeys,
}

fn id_for(number: u32) -> String {
    format!("master-{number:04}")
}

fn number_of(name: &str) -> Option<u32> {
    name.strip_prefix("master-")?
        .strip_suffix(".key")?
        .parse()
        .ok()
}

impl FileMasterKeys {
    /// Loads every master key file in `dir`, creating `master-0001.key` if there is none.
    pub fn load_or_create(dir: &Path, suite: Suite) -> Result<Self, String> {
        if Self::numbers_in(dir)?.is_empty() {
            Self::write_new(dir, suite, 1)?;
        }
        Self::load(dir, suite)
    }

    fn numbers_in(dir: &Path) -> Result<Vec<u32>, String> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
        };
        let mut numbers: Vec<u32> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| number_of(&e.file_name().to_string_lossy()))
            .collect();
        numbers.sort_unstable();
        Ok(numbers)
    }

    fn load(dir: &Path, suite: Suite) -> Result<Self, String> {
        let mut keys = Vec::new();
        let mut numbers = Vec::new();
        for number in Self::numbers_in(dir)? {
            let path = dir.join(format!("{}.key", id_for(number)));
            let text = Zeroizing::new(
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
            );
            let file: KeyFile = serde_json::from_str(&text)
                .map_err(|e| format!("{} is not a Concord master key file: {e}", path.display()))?;
            if file.suite != suite {
                return Err(format!(
                    "{} holds a {} key but crypto.suite is {}; a deployment keeps one suite",
                    path.display(),
                    file.suite.as_str(),
                    suite.as_str()
                ));
            }
            let secret = Zeroizing::new(
                hex::decode(file.secret.trim())
                    .map_err(|_| format!("{}: the secret is not hex", path.display()))?,
            );
            keys.push((id_for(number), secret));
            numbers.push((number, id_for(number)));
        }
        let description = format!("key files in {}", dir.display());
        let keys = LocalMasterKeys::new(suite, keys, description).map_err(|e| e.to_string())?;
        Ok(Self {
            dir: dir.to_path_buf(),
            suite,
            numbers,
            keys,
        })
    }

    fn write_new(dir: &Path, suite: Suite, number: u32) -> Result<(), String> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let secret: Zeroizing<Vec<u8>> = Zeroizing::new(match Algorithm::for_suite(suite) {
            Algorithm::Aes256Gcm => random_bytes::<32>().to_vec(),
            Algorithm::Sm4Gcm => random_bytes::<16>().to_vec(),
        });
        let body = Zeroizing::new(
            serde_json::to_string(&KeyFile {
                suite,
                secret: hex::encode(&*secret),
            })
            .map_err(|e| e.to_string())?,
        );
        let path = dir.join(format!("{}.key", id_for(number)));
        // create_new: never overwrite a key that may still wrap data keys.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        f.write_all(body.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(())
    }

    pub fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.key"))
    }
}

impl MasterKeys for FileMasterKeys {
    fn active_id(&self) -> String {
        self.keys.active_id()
    }

    fn wrap(&self, data_key: &[u8]) -> Result<WrappedDataKey, AtRestError> {
        self.keys.wrap(data_key)
    }

    fn unwrap(
        &self,
        master_key_id: &str,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, AtRestError> {
        match self.keys.unwrap(master_key_id, wrapped) {
            // A key made by `concord keys rotate` while this server runs: read it from disk.
            Err(AtRestError::UnknownMasterKey(id))
                if number_of(&format!("{id}.key")).is_some() && self.path_of(&id).is_file() =>
            {
                let fresh = Self::load(&self.dir, self.suite).map_err(AtRestError::Provider)?;
                fresh.keys.unwrap(master_key_id, wrapped)
            }
            other => other,
        }
    }

    fn describe(&self) -> String {
        self.keys.describe()
    }
}

impl Provider for FileMasterKeys {
    fn create_next(&mut self) -> Result<String, String> {
        let next = self.numbers.last().map_or(1, |(n, _)| n + 1);
        Self::write_new(&self.dir, self.suite, next)?;
        *self = Self::load(&self.dir, self.suite)?;
        Ok(id_for(next))
    }

    fn ids(&self) -> Vec<String> {
        self.numbers.iter().map(|(_, id)| id.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn master_key_files_are_private_and_rotate() {
        let dir = tempfile::tempdir().unwrap();
        let keys_dir = dir.path().join("keys");
        let mut keys = FileMasterKeys::load_or_create(&keys_dir, Suite::Gm).unwrap();
        assert_eq!(keys.active_id(), "master-0001");
        let mode = std::fs::metadata(keys.path_of("master-0001"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = std::fs::metadata(&keys_dir).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);

        let wrapped = keys.wrap(&[7u8; 16]).unwrap();
        let running = FileMasterKeys::load_or_create(&keys_dir, Suite::Gm).unwrap();
        assert_eq!(keys.create_next().unwrap(), "master-0002");
        // A server started before the rotation unwraps keys wrapped by the new master.
        let rewrapped = keys.wrap(&[8u8; 16]).unwrap();
        assert_eq!(rewrapped.master_key_id, "master-0002");
        assert_eq!(
            *running.unwrap("master-0002", &rewrapped.wrapped).unwrap(),
            vec![8u8; 16]
        );
        assert_eq!(keys.active_id(), "master-0002");
        assert_eq!(keys.ids(), ["master-0001", "master-0002"]);
        // Reloaded from disk, the old key still unwraps what it wrapped.
        let again = FileMasterKeys::load_or_create(&keys_dir, Suite::Gm).unwrap();
        assert_eq!(again.active_id(), "master-0002");
        assert_eq!(
            *again.unwrap("master-0001", &wrapped.wrapped).unwrap(),
            vec![7u8; 16]
        );
        assert!(FileMasterKeys::load_or_create(&keys_dir, Suite::Standard).is_err());
    }
}
