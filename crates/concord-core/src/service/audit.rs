//! The audit log's checkpoints and verification (see [`crate::audit`]).

use super::Services;
use crate::audit::{Checkpoint, Tamper, Verified, checkpoint_message, verify_chain};
use crate::error::DomainError;

/// The outcome of checking the audit log.
#[derive(Debug)]
pub enum AuditVerdict {
    Intact(Verified),
    Tampered(Tamper),
}

impl Services {
    fn key(&self) -> Result<&crate::crypto::SigningKey, DomainError> {
        self.signing_key
            .as_deref()
            .ok_or_else(|| DomainError::Unavailable("no audit signing key is loaded".into()))
    }

    /// Signs the newest entry's hash unless the latest checkpoint already covers it.
    /// Returns the id of the entry now covered.
    pub async fn checkpoint_audit(&self) -> Result<Option<i64>, DomainError> {
        let key = self.key()?;
        let Some((through_id, hash)) = self.store.audit_head().await? else {
            return Ok(None);
        };
        let latest = self
            .store
            .audit_checkpoints()
            .await?
            .into_iter()
            .map(|c| c.through_id)
            .max();
        if latest == Some(through_id) {
            return Ok(Some(through_id));
        }
        let signature = key.sign(&checkpoint_message(through_id, &hash));
        self.store
            .append_audit_checkpoint(Checkpoint {
                id: 0,
                through_id,
                hash,
                suite: key.suite(),
                public_key: hex::encode(key.public_key()),
                signature: hex::encode(signature),
                at_ms: self.clock.now().as_millisecond(),
            })
            .await?;
        Ok(Some(through_id))
    }

    /// Walks the whole chain and every checkpoint.
    pub async fn verify_audit(&self) -> Result<AuditVerdict, DomainError> {
        let key = self.key()?;
        let entries = self.store.audit_chain().await?;
        let checkpoints = self.store.audit_checkpoints().await?;
        Ok(
            match verify_chain(
                key.suite(),
                &entries,
                &checkpoints,
                &hex::encode(key.public_key()),
            ) {
                Ok(v) => AuditVerdict::Intact(v),
                Err(t) => AuditVerdict::Tampered(t),
            },
        )
    }
}
