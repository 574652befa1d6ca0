//! Compliance and personal exports: who may export what. The service checks the permission
//! and the criteria and says what the export covers; the server writes the archive (it knows
//! the blob store and the zip format) and records the audit entry with the archive's hash
//! and counts through [`Services::audit`].

use super::Services;
use crate::authz::Actor;
use crate::error::DomainError;
use crate::org::perm;
use crate::store::ExportScope;
use concord_proto::{ChannelId, ComplianceExportRequest, UserId};
use std::collections::BTreeSet;

/// Most channels, and most people, one compliance export may name.
pub const MAX_EXPORT_IDS: usize = 500;

/// What an export covers, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportPlan {
    pub scope: ExportScope,
    pub include_files: bool,
}

impl Services {
    /// Checks a compliance export (`compliance.export`): at least one channel or person, each
    /// existing, at most [`MAX_EXPORT_IDS`] of each, and `from` before `to`.
    pub async fn plan_compliance_export(
        &self,
        actor: &Actor,
        req: ComplianceExportRequest,
    ) -> Result<ExportPlan, DomainError> {
        actor.require(perm::COMPLIANCE_EXPORT, None)?;
        self.check_export_criteria(req).await
    }

    /// The same checks without an actor, for `concord compliance export` (whoever runs the
    /// binary on the server already holds its data).
    pub async fn check_export_criteria(
        &self,
        req: ComplianceExportRequest,
    ) -> Result<ExportPlan, DomainError> {
        if req.channel_ids.is_empty() && req.user_ids.is_empty() {
            return Err(DomainError::invalid(
                "channel_ids",
                "name at least one channel or one user",
            ));
        }
        if req.channel_ids.len() > MAX_EXPORT_IDS {
            return Err(DomainError::invalid(
                "channel_ids",
                format!("at most {MAX_EXPORT_IDS} channels per export"),
            ));
        }
        if req.user_ids.len() > MAX_EXPORT_IDS {
            return Err(DomainError::invalid(
                "user_ids",
                format!("at most {MAX_EXPORT_IDS} users per export"),
            ));
        }
        if let (Some(from), Some(to)) = (req.from, req.to)
            && from >= to
        {
            return Err(DomainError::invalid("to", "must be after from"));
        }
        let channels: BTreeSet<i64> = req.channel_ids.iter().copied().collect();
        let users: BTreeSet<i64> = req.user_ids.iter().copied().collect();
        for &id in &channels {
            if self.store.channel(ChannelId(id)).await?.is_none() {
                return Err(DomainError::NotFound("channel"));
            }
        }
        for &id in &users {
            if self.store.user(UserId(id)).await?.is_none() {
                return Err(DomainError::NotFound("user"));
            }
        }
        Ok(ExportPlan {
            scope: ExportScope {
                channels: channels.into_iter().map(ChannelId).collect(),
                users: users.into_iter().map(UserId).collect(),
                from: req.from,
                to: req.to,
            },
            include_files: req.include_files,
        })
    }

    /// What a person's own export covers: everything they sent or uploaded, files included.
    /// People only (app tokens never reach it: it is not in the app scope table).
    pub fn plan_personal_export(&self, actor: &Actor) -> ExportPlan {
        ExportPlan {
            scope: ExportScope {
                users: vec![actor.user_id],
                ..ExportScope::default()
            },
            include_files: true,
        }
    }
}
