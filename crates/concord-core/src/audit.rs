//! The audit log's tamper evidence: each entry's hash chains to the one before it
//! (`hash = H(prev_hash "\n" canonical entry)`, SHA-256 or SM3 per suite), and checkpoints
//! sign the hash of an entry with the server's key. [`verify_chain`] walks the log and names
//! the first entry that was edited, deleted, inserted or moved, or the checkpoint that no
//! longer matches (a chain rewritten from some point on, hashes and all, still disagrees
//! with every signed checkpoint after that point).

use crate::crypto::{self, Suite};

/// One stored entry with its chain fields, as the verifier reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainedEntry {
    pub id: i64,
    pub at_ms: i64,
    pub actor_id: Option<i64>,
    pub ip: Option<String>,
    pub action: String,
    pub target: String,
    /// The stored JSON text, hashed as stored.
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// A signed statement: "entry `through_id` had hash `hash`".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub id: i64,
    pub through_id: i64,
    pub hash: String,
    pub suite: Suite,
    /// Hex.
    pub public_key: String,
    /// Hex.
    pub signature: String,
    pub at_ms: i64,
}

/// The entry's fields in a fixed order, as JSON: what the chain hashes.
#[allow(clippy::too_many_arguments)]
pub fn canonical(
    id: i64,
    at_ms: i64,
    actor_id: Option<i64>,
    ip: Option<&str>,
    action: &str,
    target: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    serde_json::json!([id, at_ms, actor_id, ip, action, target, before, after]).to_string()
}

/// The hex chain hash of an entry given its predecessor's.
pub fn chain_hash(suite: Suite, prev_hash: &str, canonical: &str) -> String {
    let mut input = Vec::with_capacity(prev_hash.len() + 1 + canonical.len());
    input.extend_from_slice(prev_hash.as_bytes());
    input.push(b'\n');
    input.extend_from_slice(canonical.as_bytes());
    hex::encode(suite.hash(&input))
}

/// What a checkpoint signs.
pub fn checkpoint_message(through_id: i64, hash: &str) -> Vec<u8> {
    format!("concord audit checkpoint\n{through_id}\n{hash}").into_bytes()
}

impl ChainedEntry {
    fn recomputed(&self, suite: Suite) -> String {
        let canon = canonical(
            self.id,
            self.at_ms,
            self.actor_id,
            self.ip.as_deref(),
            &self.action,
            &self.target,
            self.before.as_deref(),
            self.after.as_deref(),
        );
        chain_hash(suite, &self.prev_hash, &canon)
    }
}

/// The first sign of tampering found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Tamper {
    #[error("audit entry {id} was edited: its content no longer matches its hash")]
    Edited { id: i64 },
    #[error(
        "an audit entry between {before} and {after} was deleted: entry {after} does not follow entry {before}"
    )]
    Deleted { before: i64, after: i64 },
    #[error(
        "audit entry {id} was inserted: it is not part of the chain (the next entry follows the one before it)"
    )]
    Inserted { id: i64 },
    #[error("audit entry {id} is out of order: it follows a later entry")]
    Reordered { id: i64 },
    #[error("checkpoint {checkpoint} names entry {through_id}, which is missing")]
    CheckpointEntryMissing { checkpoint: i64, through_id: i64 },
    #[error(
        "the log was rewritten: entry {through_id} no longer has the hash signed in checkpoint {checkpoint}"
    )]
    CheckpointMismatch { checkpoint: i64, through_id: i64 },
    #[error(
        "checkpoint {checkpoint} has a bad signature or was signed by a key that is not this server's"
    )]
    BadSignature { checkpoint: i64 },
}

/// What a successful verification covered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub entries: usize,
    pub checkpoints: usize,
    pub last_checkpoint_through: Option<i64>,
}

/// Checks the whole chain (entries in id order) and every checkpoint against
/// `trusted_public_key` (hex), the server's own.
pub fn verify_chain(
    suite: Suite,
    entries: &[ChainedEntry],
    checkpoints: &[Checkpoint],
    trusted_public_key: &str,
) -> Result<Verified, Tamper> {
    let mut expected_prev = String::new();
    let mut previous_id: Option<i64> = None;
    for (i, e) in entries.iter().enumerate() {
        let self_consistent = e.recomputed(suite) == e.hash;
        if e.prev_hash == expected_prev {
            if !self_consistent {
                return Err(Tamper::Edited { id: e.id });
            }
        } else if !self_consistent {
            return Err(Tamper::Edited { id: e.id });
        } else if let Some(j) = entries[..i]
            .iter()
            .rposition(|earlier| earlier.hash == e.prev_hash)
        {
            // It follows an earlier entry: whatever stands between was slipped in.
            return Err(Tamper::Inserted {
                id: entries[j + 1].id,
            });
        } else if e.prev_hash.is_empty() {
            // It claims to start the log, yet entries stand before it.
            return Err(Tamper::Inserted { id: entries[0].id });
        } else if entries[i + 1..]
            .iter()
            .any(|later| later.hash == e.prev_hash)
        {
            return Err(Tamper::Reordered { id: e.id });
        } else if entries
            .get(i + 1)
            .is_some_and(|next| next.prev_hash == expected_prev)
        {
            return Err(Tamper::Inserted { id: e.id });
        } else {
            return Err(Tamper::Deleted {
                before: previous_id.unwrap_or(0),
                after: e.id,
            });
        }
        expected_prev = e.hash.clone();
        previous_id = Some(e.id);
    }
    for cp in checkpoints {
        let signed = hex::decode(&cp.signature).unwrap_or_default();
        let key = hex::decode(&cp.public_key).unwrap_or_default();
        if cp.public_key != trusted_public_key
            || cp.suite != suite
            || !crypto::verify(
                suite,
                &key,
                &checkpoint_message(cp.through_id, &cp.hash),
                &signed,
            )
        {
            return Err(Tamper::BadSignature { checkpoint: cp.id });
        }
        match entries.iter().find(|e| e.id == cp.through_id) {
            None => {
                return Err(Tamper::CheckpointEntryMissing {
                    checkpoint: cp.id,
                    through_id: cp.through_id,
                });
            }
            Some(e) if e.hash != cp.hash => {
                return Err(Tamper::CheckpointMismatch {
                    checkpoint: cp.id,
                    through_id: cp.through_id,
                });
            }
            Some(_) => {}
        }
    }
    Ok(Verified {
        entries: entries.len(),
        checkpoints: checkpoints.len(),
        last_checkpoint_through: checkpoints.iter().map(|c| c.through_id).max(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;

    fn chain(suite: Suite, n: i64) -> Vec<ChainedEntry> {
        let mut prev = String::new();
        (1..=n)
            .map(|id| {
                let mut e = ChainedEntry {
                    id,
                    at_ms: 1_700_000_000_000 + id,
                    actor_id: Some(1),
                    ip: Some("127.0.0.1".into()),
                    action: "role.assign".into(),
                    target: format!("user:{id}"),
                    before: None,
                    after: Some(format!("{{\"n\":{id}}}")),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.recomputed(suite);
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn checkpoint(key: &SigningKey, e: &ChainedEntry) -> Checkpoint {
        Checkpoint {
            id: 1,
            through_id: e.id,
            hash: e.hash.clone(),
            suite: key.suite(),
            public_key: hex::encode(key.public_key()),
            signature: hex::encode(key.sign(&checkpoint_message(e.id, &e.hash))),
            at_ms: 0,
        }
    }

    #[test]
    fn an_intact_chain_verifies_in_both_suites() {
        for suite in [Suite::Standard, Suite::Gm] {
            let key = SigningKey::generate(suite);
            let entries = chain(suite, 10);
            let cps = vec![checkpoint(&key, &entries[6])];
            let ok = verify_chain(suite, &entries, &cps, &hex::encode(key.public_key())).unwrap();
            assert_eq!(ok.entries, 10);
            assert_eq!(ok.last_checkpoint_through, Some(7));
        }
    }

    #[test]
    fn edits_deletions_insertions_and_reorders_are_named() {
        let suite = Suite::Standard;
        let key = hex::encode(SigningKey::generate(suite).public_key());
        let mut edited = chain(suite, 6);
        edited[3].target = "user:999".into();
        assert_eq!(
            verify_chain(suite, &edited, &[], &key),
            Err(Tamper::Edited { id: 4 })
        );

        let mut deleted = chain(suite, 6);
        deleted.remove(2);
        assert_eq!(
            verify_chain(suite, &deleted, &[], &key),
            Err(Tamper::Deleted {
                before: 2,
                after: 4
            })
        );

        let mut inserted = chain(suite, 6);
        let mut forged = inserted[2].clone();
        forged.id = 100;
        forged.prev_hash = inserted[2].hash.clone();
        forged.hash = forged.recomputed(suite);
        inserted.insert(3, forged);
        assert_eq!(
            verify_chain(suite, &inserted, &[], &key),
            Err(Tamper::Inserted { id: 100 })
        );

        let mut reordered = chain(suite, 6);
        reordered.swap(2, 3);
        assert_eq!(
            verify_chain(suite, &reordered, &[], &key),
            Err(Tamper::Reordered { id: 4 })
        );
    }

    #[test]
    fn a_rewritten_chain_fails_its_signed_checkpoint() {
        let suite = Suite::Gm;
        let key = SigningKey::generate(suite);
        let entries = chain(suite, 5);
        let cps = vec![checkpoint(&key, &entries[3])];
        // Rewrite entry 2 and recompute every hash after it: the chain is consistent again,
        // but not with what was signed.
        let mut rewritten = entries.clone();
        rewritten[1].action = "nothing.happened".into();
        for i in 1..rewritten.len() {
            rewritten[i].prev_hash = rewritten[i - 1].hash.clone();
            rewritten[i].hash = rewritten[i].recomputed(suite);
        }
        let public = hex::encode(key.public_key());
        assert_eq!(
            verify_chain(suite, &rewritten, &cps, &public),
            Err(Tamper::CheckpointMismatch {
                checkpoint: 1,
                through_id: 4
            })
        );
        let stranger = SigningKey::generate(suite);
        let forged = vec![checkpoint(&stranger, &rewritten[3])];
        assert_eq!(
            verify_chain(suite, &rewritten, &forged, &public),
            Err(Tamper::BadSignature { checkpoint: 1 })
        );
    }
}
