//! Services: the domain operations behind every entry point. Each takes the [`Actor`], checks
//! input, asks [`crate::authz`] and calls the store.

mod accounts;
mod apps;
mod audit;
mod channels;
mod directory;
mod dynamic;
// Compliance and personal exports.
mod export;
pub use export::{ExportPlan, MAX_EXPORT_IDS};
mod files;
mod messages;
mod org;
mod retention;
mod roles;
mod security;
mod sessions;

use crate::authz::{Actor, ChannelAction, authorize_channel};
use crate::clock::Clock;
use crate::error::DomainError;
use crate::store::{Membership, Store};
use concord_proto::{Channel, ChannelId, UserId};
use jiff::SignedDuration;
use std::sync::Arc;

pub use apps::APP_TOKEN_PREFIX;
pub use audit::AuditVerdict;
pub use directory::{DirectoryPerson, DirectoryRecord, SOURCE_LDAP, SOURCE_SCIM};
pub use files::{MAX_FILE_NAME_CHARS, UploadedContent};
pub use messages::{MAX_FILES_PER_MESSAGE, SendInput};
pub use org::{OrgState, search_key};
pub use retention::RetentionRun;
pub use roles::AuditExport;
pub use security::{AccountPolicy, LoginContext, LoginOutcome, MfaEnrolment, MfaRequirement};
pub use sessions::SessionView;

/// Whether a user has a live connection; the gateway implements it.
pub trait PresenceView: Send + Sync + 'static {
    fn is_online(&self, user: UserId) -> bool;
    /// Closes the user's live connections (their account was suspended or deactivated).
    fn disconnect(&self, _user: UserId) {}
}

/// For contexts without a gateway (CLI, tests): nobody is online.
pub struct NobodyOnline;

impl PresenceView for NobodyOnline {
    fn is_online(&self, _: UserId) -> bool {
        false
    }
}

/// Domain limits, from configuration.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_message_chars: usize,
    pub history_page_max: i64,
    pub session_idle_timeout: SignedDuration,
    pub session_lifetime: SignedDuration,
    pub max_group_dm_members: usize,
    pub max_invite_batch: usize,
    pub geofence: crate::geofence::GeofencePolicy,
    pub max_geofence_vertices: usize,
    /// How long the latest reported location is kept.
    pub location_retention: SignedDuration,
    /// Hashes and signatures: standard (SHA-256, Ed25519) or GM (SM3, SM2).
    pub crypto_suite: crate::crypto::Suite,
    /// The org-wide data-loss prevention policy applied to sent and edited messages.
    pub dlp: crate::dlp::DlpPolicy,
    /// Sign-in security: second factor, lockout, password policy.
    pub accounts: AccountPolicy,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_chars: 16_000,
            history_page_max: 200,
            session_idle_timeout: SignedDuration::from_hours(24 * 7),
            session_lifetime: SignedDuration::from_hours(24 * 30),
            max_group_dm_members: 8,
            max_invite_batch: 100,
            geofence: crate::geofence::GeofencePolicy::default(),
            max_geofence_vertices: crate::geofence::DEFAULT_MAX_VERTICES,
            location_retention: SignedDuration::from_hours(1),
            crypto_suite: crate::crypto::Suite::Standard,
            dlp: crate::dlp::DlpPolicy::default(),
            accounts: AccountPolicy::default(),
        }
    }
}

#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub presence: Arc<dyn PresenceView>,
    pub limits: Limits,
    /// Password hashing is CPU- and memory-heavy (Argon2id, 19 MiB each): at most one per core
    /// at a time, so a login flood queues instead of growing the blocking pool and the heap.
    hashing: Arc<tokio::sync::Semaphore>,
    /// Channels and memberships for authorising the hot path (sends, typing).
    access: Arc<crate::access::AccessCache>,
    /// The organisation snapshot every request is authorised against.
    org: Arc<OrgState>,
    /// Membership rules and geofences in force.
    dynamic: Arc<dynamic::DynamicState>,
    /// Signs audit checkpoints; `None` until the server has loaded its key.
    signing_key: Option<Arc<crate::crypto::SigningKey>>,
}

impl Services {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        presence: Arc<dyn PresenceView>,
        limits: Limits,
    ) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let hashing = Arc::new(tokio::sync::Semaphore::new(cores));
        let access = crate::access::AccessCache::following(store.subscribe());
        // Each channel's message chain hashes with the deployment's suite.
        store.set_message_chain_suite(limits.crypto_suite);
        Self {
            store,
            clock,
            presence,
            limits,
            hashing,
            access,
            org: Arc::new(OrgState::default()),
            dynamic: Arc::default(),
            signing_key: None,
        }
    }

    /// The key that signs audit checkpoints (the server's, from its data dir).
    pub fn with_signing_key(mut self, key: Arc<crate::crypto::SigningKey>) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// Runs password hashing or verification on a blocking thread, bounded by `hashing`.
    async fn hash_job<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| DomainError::Unavailable(e.to_string()))?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| DomainError::Unavailable(e.to_string()))
    }

    /// As [`Services::channel_for`], from the access cache: for actions that need only the
    /// channel's kind and the membership (the returned channel's other fields may be stale).
    async fn authorize_fast(
        &self,
        actor: &Actor,
        id: ChannelId,
        action: ChannelAction,
    ) -> Result<(), DomainError> {
        let (channel, membership) = self
            .access
            .lookup(self.store.as_ref(), id, actor.user_id)
            .await?;
        let channel = channel.ok_or(DomainError::NotFound("channel"))?;
        authorize_channel(actor, action, &channel, membership.as_ref())
    }

    /// Loads a channel and the actor's membership and authorises `action` on it.
    async fn channel_for(
        &self,
        actor: &Actor,
        id: ChannelId,
        action: ChannelAction,
    ) -> Result<(Channel, Option<Membership>), DomainError> {
        let channel = self
            .store
            .channel(id)
            .await?
            .ok_or(DomainError::NotFound("channel"))?;
        let membership = self.store.membership(id, actor.user_id).await?;
        authorize_channel(actor, action, &channel, membership.as_ref())?;
        Ok((channel, membership))
    }
}
