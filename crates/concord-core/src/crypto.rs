//! The crypto suites: `standard` (SHA-256, Ed25519) and `gm` (SM3, SM2) for government
//! deployments, chosen once in configuration. Hashing chains the audit log; signing seals its
//! checkpoints. Keys are plain bytes here; where they live (a key file, later an HSM) is the
//! caller's business.

use serde::{Deserialize, Serialize};

/// Which algorithms the deployment uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Suite {
    /// SHA-256 and Ed25519.
    #[default]
    Standard,
    /// SM3 and SM2 (GB/T 32905, GB/T 32918).
    Gm,
}

/// SM2's default distinguishing identifier (GM/T 0009).
const SM2_DISTID: &str = "1234567812345678";

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the key is not a valid {0} key")]
    BadKey(&'static str),
}

impl Suite {
    pub fn as_str(self) -> &'static str {
        match self {
            Suite::Standard => "standard",
            Suite::Gm => "gm",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "standard" => Some(Suite::Standard),
            "gm" => Some(Suite::Gm),
            _ => None,
        }
    }

    /// SHA-256 or SM3.
    pub fn hash(self, data: &[u8]) -> [u8; 32] {
        match self {
            Suite::Standard => {
                use sha2::Digest;
                sha2::Sha256::digest(data).into()
            }
            Suite::Gm => {
                use sm3::Digest;
                sm3::Sm3::digest(data).into()
            }
        }
    }
}

enum KeyPair {
    Ed25519(ring::signature::Ed25519KeyPair),
    Sm2(Box<sm2::dsa::SigningKey>),
}

/// A private signing key of the suite: Ed25519 or SM2.
pub struct SigningKey {
    suite: Suite,
    secret: Vec<u8>,
    pair: KeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key.
    pub fn generate(suite: Suite) -> Self {
        let secret = match suite {
            Suite::Standard => {
                let rng = ring::rand::SystemRandom::new();
                ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
                    .expect("the system random number generator works")
                    .as_ref()
                    .to_vec()
            }
            Suite::Gm => {
                use sm2::elliptic_curve::Generate;
                sm2::SecretKey::generate().to_bytes().to_vec()
            }
        };
        Self::from_bytes(suite, &secret).expect("a freshly generated key is valid")
    }

    /// From [`SigningKey::to_bytes`]: PKCS#8 for Ed25519, the 32-byte scalar for SM2.
    pub fn from_bytes(suite: Suite, secret: &[u8]) -> Result<Self, CryptoError> {
        let pair = match suite {
            Suite::Standard => KeyPair::Ed25519(
                ring::signature::Ed25519KeyPair::from_pkcs8(secret)
                    .map_err(|_| CryptoError::BadKey("Ed25519"))?,
            ),
            Suite::Gm => {
                let key =
                    sm2::SecretKey::from_slice(secret).map_err(|_| CryptoError::BadKey("SM2"))?;
                KeyPair::Sm2(Box::new(
                    sm2::dsa::SigningKey::new(SM2_DISTID, &key)
                        .map_err(|_| CryptoError::BadKey("SM2"))?,
                ))
            }
        };
        Ok(Self {
            suite,
            secret: secret.to_vec(),
            pair,
        })
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    pub fn to_bytes(&self) -> &[u8] {
        &self.secret
    }

    /// The public key: 32 bytes (Ed25519) or an uncompressed SEC1 point (SM2).
    pub fn public_key(&self) -> Vec<u8> {
        match &self.pair {
            KeyPair::Ed25519(pair) => {
                use ring::signature::KeyPair as _;
                pair.public_key().as_ref().to_vec()
            }
            KeyPair::Sm2(key) => key.verifying_key().to_sec1_bytes().to_vec(),
        }
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.pair {
            KeyPair::Ed25519(pair) => pair.sign(message).as_ref().to_vec(),
            KeyPair::Sm2(key) => {
                use sm2::dsa::signature::Signer;
                let signature: sm2::dsa::Signature = key.sign(message);
                signature.to_bytes().to_vec()
            }
        }
    }
}

/// Whether `signature` over `message` was made by the holder of `public_key`.
pub fn verify(suite: Suite, public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    match suite {
        Suite::Standard => {
            ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public_key)
                .verify(message, signature)
                .is_ok()
        }
        Suite::Gm => {
            use sm2::dsa::signature::Verifier;
            let Ok(key) = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTID, public_key) else {
                return false;
            };
            let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
                return false;
            };
            let Ok(sig) = sm2::dsa::Signature::from_bytes(&bytes.into()) else {
                return false;
            };
            key.verify(message, &sig).is_ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn sm3_published_vector() {
        // GB/T 32905-2016, example 1.
        assert_eq!(
            Suite::Gm.hash(b"abc").to_vec(),
            unhex("66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0")
        );
    }

    #[test]
    fn sha256_published_vector() {
        assert_eq!(
            Suite::Standard.hash(b"abc").to_vec(),
            unhex("ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad")
        );
    }

    #[test]
    fn sm4_published_vector() {
        // GB/T 32907-2016, example 1: key = plaintext = 0123456789abcdeffedcba9876543210.
        use sm4::cipher::{BlockCipherEncrypt, KeyInit};
        let key = unhex("0123456789abcdeffedcba9876543210");
        let cipher = sm4::Sm4::new_from_slice(&key).unwrap();
        let mut block = sm4::cipher::Array::try_from(key.as_slice()).unwrap();
        cipher.encrypt_block(&mut block);
        assert_eq!(block.to_vec(), unhex("681edf34d206965e86b3e94f536e4246"));
    }

    #[test]
    fn sm2_verifies_a_signature_made_by_openssl() {
        // Interoperability known answer: a signature made with OpenSSL (`pkeyutl -digest sm3
        // -pkeyopt distid:example@rustcrypto.org`) over "testing", as published with the
        // RustCrypto sm2 crate's tests.
        use sm2::dsa::signature::Verifier;
        let public = unhex(
            "0408D77AE04C01CC4C1104360DD8AF6B6F7DF334283D7C1A6AFD5652407B87BEE5014E2A57C36C150D16324DC664E31E6432359609C4E79847A5B161C8C7364C8A",
        );
        let sig = unhex(
            "d1dcccedd9fb785e0f67c16b7c52901625c0b69de9bca2144acc7be713cad2fcf7d1eae6e3a157b36c65f672f738ca8b46298bf149a6510072c431b49cd88b1c",
        );
        let key =
            sm2::dsa::VerifyingKey::from_sec1_bytes("example@rustcrypto.org", &public).unwrap();
        let sig =
            sm2::dsa::Signature::from_bytes(&<[u8; 64]>::try_from(sig.as_slice()).unwrap().into())
                .unwrap();
        assert!(key.verify(b"testing", &sig).is_ok());
        assert!(key.verify(b"testinG", &sig).is_err());
    }

    #[test]
    fn sign_and_verify_round_trips_in_both_suites() {
        for suite in [Suite::Standard, Suite::Gm] {
            let key = SigningKey::generate(suite);
            let again = SigningKey::from_bytes(suite, key.to_bytes()).unwrap();
            assert_eq!(key.public_key(), again.public_key());
            let sig = again.sign(b"checkpoint 42");
            assert!(
                verify(suite, &key.public_key(), b"checkpoint 42", &sig),
                "{suite:?}"
            );
            assert!(
                !verify(suite, &key.public_key(), b"checkpoint 43", &sig),
                "{suite:?}"
            );
            let other = SigningKey::generate(suite);
            assert!(
                !verify(suite, &other.public_key(), b"checkpoint 42", &sig),
                "{suite:?}"
            );
        }
        assert!(SigningKey::from_bytes(Suite::Gm, &[0u8; 5]).is_err());
        assert!(SigningKey::from_bytes(Suite::Standard, &[1u8; 48]).is_err());
    }
}
