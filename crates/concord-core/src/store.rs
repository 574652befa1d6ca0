//! The store interface: everything Concord persists, behind one trait with SQLite and
//! PostgreSQL implementations (in `concord-store`).
//!
//! Every write appends the events it causes to the durable event log in the same transaction
//! (an outbox), so followers of the log (WebSocket resume, later webhooks, search, a NATS bus)
//! never see a change without its event or an event without its change.

pub use crate::org::{DepartmentNode, OrgData, UserPlacement};
pub use accounts::{
    LoginFailures, MfaChallenge, MfaChange, MfaRecord, SESSION_ID_LEN, SessionDetail, SessionMeta,
    SessionSelector,
};

mod accounts;
mod files;
// Apps and bot tokens: records and the `AppStore` sub-trait.
mod apps;
pub use apps::{AppRecord, AppStore, AppTokenGrant, NewApp};
mod retention;
// Compliance and personal exports: paged reads, the `ExportStore` sub-trait.
mod export;
// File search: the reads a rebuild of the index needs (`FileSearchStore`).
mod file_search;
use async_trait::async_trait;
use concord_proto::{
    AssignmentId, AuditEntry, Channel, ChannelId, ChannelKind, DepartmentId, Member, MemberRole,
    Message, MessageId, MessageVersion, MyChannel, Position, RoleId, StoredEvent, Subject, User,
    UserId, UserStatus,
};
pub use export::{
    ExportFileVersion, ExportMessage, ExportReaction, ExportScope, ExportStore, ExportVersion,
    ReactionKey,
};
pub use file_search::FileSearchStore;
pub use files::{FileStore, FileUpdate, NewFile, NewFileComment, NewFileVersion};
use jiff::Timestamp;
pub use retention::{
    ChannelPruneCount, HoldTarget, LegalHoldRecord, NewLegalHold, PrunePlan, PruneReport,
    RetentionPolicyRecord,
};
use std::sync::Arc;
use tokio::sync::broadcast;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Who may see an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Every user (e.g. a public channel was created).
    Everyone,
    /// Current members of the channel.
    Channel(ChannelId),
    /// One user's sessions only (e.g. their read position moved).
    User(UserId),
    /// Members of the channel and one more user (e.g. the user just removed from it).
    ChannelAndUser(ChannelId, UserId),
}

impl Audience {
    pub fn channel(self) -> Option<ChannelId> {
        match self {
            Audience::Channel(c) | Audience::ChannelAndUser(c, _) => Some(c),
            _ => None,
        }
    }

    pub fn user(self) -> Option<UserId> {
        match self {
            Audience::User(u) | Audience::ChannelAndUser(_, u) => Some(u),
            _ => None,
        }
    }

    pub fn from_columns(channel: Option<ChannelId>, user: Option<UserId>) -> Self {
        match (channel, user) {
            (Some(c), Some(u)) => Audience::ChannelAndUser(c, u),
            (Some(c), None) => Audience::Channel(c),
            (None, Some(u)) => Audience::User(u),
            (None, None) => Audience::Everyone,
        }
    }
}

/// An event that has been committed, with who may see it.
#[derive(Clone, Debug)]
pub struct CommittedEvent {
    pub stored: StoredEvent,
    pub audience: Audience,
}

/// The events of one group commit, in log order.
pub type CommittedBatch = Arc<Vec<CommittedEvent>>;

#[derive(Clone, Debug)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: String,
    pub active: bool,
}

#[derive(Clone, Debug)]
pub struct NewUser {
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub password_hash: String,
    /// Also give the built-in org admin role (at org scope).
    pub is_admin: bool,
    /// A guest: holds the built-in guest role instead of member.
    pub guest: bool,
    /// Lower-case text people search matches against (names, pinyin, employee number).
    pub search_key: String,
    pub created_at: Timestamp,
    /// Written in the same transaction (`{id}` in its target becomes the new user's id), so
    /// a user is never created unaudited.
    pub audit: Option<NewAudit>,
}

/// A person's organisational attributes as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserAttributes {
    pub title: Option<String>,
    pub region: Option<String>,
    pub employee_no: Option<String>,
    pub phone: Option<String>,
    pub time_zone: Option<String>,
    pub locale: Option<String>,
    pub manager_id: Option<UserId>,
    pub project_tags: Vec<String>,
}

/// A person with everything the directory knows about them (any status).
#[derive(Clone, Debug)]
pub struct StoredProfile {
    pub user: User,
    pub status: UserStatus,
    pub attributes: UserAttributes,
    pub placement: UserPlacement,
    pub location_sharing: bool,
}

/// One entry for the audit log, written in the same transaction as the change it records.
#[derive(Clone, Debug)]
pub struct NewAudit {
    pub at: Timestamp,
    pub actor_id: Option<UserId>,
    pub ip: Option<String>,
    pub action: String,
    /// E.g. `department:12`. For a change that creates something, `{id}` is replaced with
    /// the new id.
    pub target: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// Which hash chains the entry to the one before it.
    pub suite: crate::crypto::Suite,
}

#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor_id: Option<UserId>,
    pub action: Option<String>,
    pub action_prefix: bool,
    pub target: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// A change to the organisation. The service has checked it against the current snapshot
/// (and holds the organisation lock); the store applies it with its audit entry atomically.
// Few of these exist at a time (one per admin action), so the size of `UpdateUser` costs
// nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum OrgChange {
    CreateDepartment {
        name: String,
        parent_id: Option<DepartmentId>,
        at: Timestamp,
    },
    UpdateDepartment {
        id: DepartmentId,
        name: String,
        parent_id: Option<DepartmentId>,
    },
    DeleteDepartment {
        id: DepartmentId,
    },
    /// Replaces the person's names, attributes, status and departments. A status other than
    /// active also ends their sessions.
    UpdateUser {
        id: UserId,
        display_name: String,
        email: Option<String>,
        search_key: String,
        status: UserStatus,
        attributes: UserAttributes,
        primary_department: Option<DepartmentId>,
        secondary_departments: Vec<DepartmentId>,
    },
    RegisterPermission {
        name: String,
        description: String,
        at: Timestamp,
    },
    CreateRole {
        name: String,
        description: String,
        permissions: Vec<String>,
        at: Timestamp,
    },
    UpdateRole {
        id: RoleId,
        name: String,
        description: String,
        permissions: Vec<String>,
    },
    /// Also removes the role's assignments.
    DeleteRole {
        id: RoleId,
    },
    Assign {
        role_id: RoleId,
        subject: Subject,
        scope: Option<DepartmentId>,
        at: Timestamp,
    },
    Unassign {
        id: AssignmentId,
    },
    /// Directory sync (SCIM, LDAP): see [`DirectoryChange`].
    Directory(DirectoryChange),
}

#[derive(Clone, Debug)]
pub struct NewSession {
    pub token_hash: String,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug)]
pub struct Membership {
    pub role: MemberRole,
    pub last_read_seq: i64,
    pub joined_at: Timestamp,
}

#[derive(Clone, Debug)]
pub struct NewChannel {
    pub kind: ChannelKind,
    pub name: String,
    pub topic: String,
    pub purpose: String,
    pub created_by: UserId,
    pub created_at: Timestamp,
    /// For DMs and group DMs: the sorted member ids, so the same set maps to one channel.
    pub dm_key: Option<String>,
    pub members: Vec<(UserId, MemberRole)>,
}

#[derive(Clone, Debug, Default)]
pub struct ChannelUpdate {
    pub name: Option<String>,
    pub topic: Option<String>,
    pub purpose: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewMessage {
    pub channel_id: ChannelId,
    pub sender_id: UserId,
    pub text: String,
    pub client_msg_id: Option<String>,
    pub thread_root_id: Option<MessageId>,
    /// Users mentioned by name (or by @here while online), who are members.
    pub mentions: Vec<UserId>,
    /// `@channel`: counts as a mention for every member.
    pub mention_all: bool,
    pub created_at: Timestamp,
    /// Files of the same channel to attach, in order.
    pub files: Vec<concord_proto::FileId>,
}

#[derive(Clone, Debug)]
pub enum SendOutcome {
    /// A new message, at this log position.
    Created(Message),
    /// The sender already sent a message with this `client_msg_id`: the original.
    Existing(Message),
}

/// How someone became a channel member. Rules and geofences remove only the members they
/// added; people added by hand stay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberSource {
    Manual,
    Rule,
    Geofence,
}

impl MemberSource {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberSource::Manual => "manual",
            MemberSource::Rule => "rule",
            MemberSource::Geofence => "geofence",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "manual" => MemberSource::Manual,
            "rule" => MemberSource::Rule,
            "geofence" => MemberSource::Geofence,
            _ => return None,
        })
    }
}

/// What drives a channel's dynamic membership.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    Rule,
    Geofence,
    /// The channel's DLP action, overriding the org default.
    Dlp,
    /// The channel's file policy (`ChannelFilePolicy`: all its files sensitive).
    Files,
}

impl PolicyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::Rule => "rule",
            PolicyKind::Geofence => "geofence",
            PolicyKind::Dlp => "dlp",
            PolicyKind::Files => "files",
        }
    }
}

/// A channel's rule or geofence as stored (JSON).
#[derive(Clone, Debug)]
pub struct ChannelPolicyRecord {
    pub channel_id: ChannelId,
    pub kind: PolicyKind,
    pub body: String,
}

/// The attributes membership rules read that the organisation snapshot does not hold.
#[derive(Clone, Debug)]
pub struct RuleSubjectRecord {
    pub user_id: UserId,
    pub title: Option<String>,
    pub region: Option<String>,
    pub project_tags: Vec<String>,
}

/// Members to add (with `source`) and to remove (only if they came from `source`).
#[derive(Clone, Debug)]
pub struct MembershipSync {
    pub channel: ChannelId,
    pub joins: Vec<UserId>,
    pub leaves: Vec<UserId>,
    pub source: MemberSource,
    pub actor: UserId,
    pub at: Timestamp,
}

#[async_trait]
pub trait Store:
    FileStore + FileSearchStore + AppStore + ExportStore + Send + Sync + 'static
{
    // Dynamic membership: rules, geofences, locations.
    async fn channel_policies(&self) -> Result<Vec<ChannelPolicyRecord>, StoreError>;
    /// Sets (`Some`) or removes a channel's rule or geofence, with its audit entry.
    async fn set_channel_policy(
        &self,
        channel: ChannelId,
        kind: PolicyKind,
        body: Option<String>,
        audit: NewAudit,
    ) -> Result<(), StoreError>;
    /// Every active person's title, region and tags (or only `only`'s).
    async fn rule_subjects(
        &self,
        only: Option<UserId>,
    ) -> Result<Vec<RuleSubjectRecord>, StoreError>;
    async fn member_sources(
        &self,
        channel: ChannelId,
    ) -> Result<Vec<(UserId, MemberSource)>, StoreError>;
    /// Returns who joined and who left.
    async fn sync_membership(
        &self,
        sync: MembershipSync,
    ) -> Result<(Vec<UserId>, Vec<UserId>), StoreError>;
    /// Turning sharing off also forgets the stored location.
    async fn set_location_sharing(&self, user: UserId, enabled: bool) -> Result<(), StoreError>;
    async fn location_sharing(&self, user: UserId) -> Result<bool, StoreError>;
    /// Keeps only the latest report.
    async fn record_location(
        &self,
        user: UserId,
        latitude: f64,
        longitude: f64,
        accuracy_m: f64,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Dwell states (JSON) of one person, or of everyone.
    async fn geofence_states(
        &self,
        user: Option<UserId>,
    ) -> Result<Vec<(UserId, ChannelId, String)>, StoreError>;
    /// Saves (`Some`) or forgets a dwell state.
    async fn save_geofence_state(
        &self,
        user: UserId,
        channel: ChannelId,
        state: Option<String>,
    ) -> Result<(), StoreError>;
    /// Forgets locations reported before `before`; returns how many.
    async fn purge_locations(&self, before: Timestamp) -> Result<u64, StoreError>;

    // The organisation.
    /// Creates the built-in roles that do not exist yet (key, name, description, permissions),
    /// keeps the org admin role holding every built-in permission, and gives it to users
    /// created as admins before roles existed.
    async fn ensure_builtin_roles(
        &self,
        roles: Vec<(String, String, String, Vec<String>)>,
        all_builtin_permissions: Vec<String>,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    async fn org_data(&self) -> Result<OrgData, StoreError>;
    /// Applies `change` and appends `audit`; returns the id of what was created (else 0).
    async fn apply_org_change(&self, change: OrgChange, audit: NewAudit)
    -> Result<i64, StoreError>;
    async fn append_audit(&self, audit: NewAudit) -> Result<(), StoreError>;
    /// The whole audit log with its chain fields, in id order (for verification).
    async fn audit_chain(&self) -> Result<Vec<crate::audit::ChainedEntry>, StoreError>;
    async fn audit_checkpoints(&self) -> Result<Vec<crate::audit::Checkpoint>, StoreError>;
    /// The newest entry's id and hash, if any.
    async fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError>;
    async fn append_audit_checkpoint(
        &self,
        checkpoint: crate::audit::Checkpoint,
    ) -> Result<(), StoreError>;
    /// Newest first.
    async fn audit_entries(&self, filter: AuditFilter) -> Result<Vec<AuditEntry>, StoreError>;
    async fn user_profile(&self, id: UserId) -> Result<Option<StoredProfile>, StoreError>;
    /// Active people whose search key contains `needle` (lower case), or all when `None`;
    /// limited to `among` when given; ordered by id after `after`.
    async fn search_users(
        &self,
        needle: Option<&str>,
        among: Option<&[UserId]>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<User>, StoreError>;

    // Users and sessions.
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError>;
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// By username or email, case-insensitively.
    async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>, StoreError>;
    async fn users_by_usernames(&self, usernames: &[String]) -> Result<Vec<User>, StoreError>;
    async fn count_users(&self) -> Result<i64, StoreError>;
    async fn create_session(&self, session: NewSession) -> Result<(), StoreError>;
    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError>;
    async fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<(), StoreError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    // Channels and membership.
    /// Creates the channel with its members; emits `channel.created`.
    async fn create_channel(&self, channel: NewChannel) -> Result<Channel, StoreError>;
    async fn channel(&self, id: ChannelId) -> Result<Option<Channel>, StoreError>;
    async fn channel_by_dm_key(&self, dm_key: &str) -> Result<Option<Channel>, StoreError>;
    async fn update_channel(
        &self,
        id: ChannelId,
        update: ChannelUpdate,
        at: Timestamp,
    ) -> Result<Channel, StoreError>;
    async fn membership(
        &self,
        channel: ChannelId,
        user: UserId,
    ) -> Result<Option<Membership>, StoreError>;
    /// Adds those not yet members; returns who was added.
    async fn add_members(
        &self,
        channel: ChannelId,
        users: Vec<UserId>,
        actor: UserId,
        at: Timestamp,
    ) -> Result<Vec<UserId>, StoreError>;
    /// Returns whether the user was a member.
    async fn remove_member(
        &self,
        channel: ChannelId,
        user: UserId,
        actor: UserId,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    async fn members(&self, channel: ChannelId) -> Result<Vec<Member>, StoreError>;
    /// Whether two people are members of a common channel.
    async fn share_a_channel(&self, a: UserId, b: UserId) -> Result<bool, StoreError>;
    async fn my_channels(&self, user: UserId) -> Result<Vec<MyChannel>, StoreError>;
    async fn public_channels(&self, after: i64, limit: i64) -> Result<Vec<Channel>, StoreError>;

    // Messages.
    async fn send_message(&self, message: NewMessage) -> Result<SendOutcome, StoreError>;
    async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError>;
    /// Messages with `lo <= seq <= hi`, ascending.
    async fn messages_by_seq(
        &self,
        channel: ChannelId,
        lo: i64,
        hi: i64,
    ) -> Result<Vec<Message>, StoreError>;
    /// The first sequence number sent at or after `at`.
    async fn seq_at_time(
        &self,
        channel: ChannelId,
        at: Timestamp,
    ) -> Result<Option<i64>, StoreError>;
    async fn thread_replies(&self, root: MessageId, limit: i64)
    -> Result<Vec<Message>, StoreError>;
    /// Keeps the previous text as a version; emits `message.edited`.
    async fn edit_message(
        &self,
        id: MessageId,
        text: String,
        at: Timestamp,
    ) -> Result<Message, StoreError>;
    /// All versions, oldest first; the last is the current text.
    async fn message_versions(&self, id: MessageId) -> Result<Vec<MessageVersion>, StoreError>;
    async fn delete_message(&self, id: MessageId, at: Timestamp) -> Result<(), StoreError>;
    /// Returns false when the reaction was already there (or, for removal, not there).
    async fn set_reaction(
        &self,
        id: MessageId,
        user: UserId,
        emoji: String,
        present: bool,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    async fn set_pinned(
        &self,
        id: MessageId,
        user: UserId,
        pinned: bool,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    async fn pinned_messages(&self, channel: ChannelId) -> Result<Vec<Message>, StoreError>;
    async fn mark_read(
        &self,
        channel: ChannelId,
        user: UserId,
        seq: i64,
        at: Timestamp,
    ) -> Result<i64, StoreError>;

    // The event log.
    /// Events after `after` and at most `upto` that `user` may see now, ascending, at most `limit`.
    async fn events_for_user(
        &self,
        user: UserId,
        after: Position,
        upto: Position,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError>;
    /// Positions at or below this have been pruned: resuming from before it is impossible.
    async fn pruned_through(&self) -> Result<Position, StoreError>;
    /// The user's channels and the log position they are exact at, read in one snapshot.
    async fn membership_snapshot(
        &self,
        user: UserId,
    ) -> Result<(Vec<ChannelId>, Position), StoreError>;
    /// Deletes events older than `before`; returns how many.
    async fn prune_events(&self, before: Timestamp) -> Result<u64, StoreError>;
    /// Committed batches in log order, as they commit.
    fn subscribe(&self) -> broadcast::Receiver<CommittedBatch>;
    /// Finishes queued writes and closes connections.
    async fn close(&self);

    // Directory sync.
    /// Where a person came from, if a directory provisioned them.
    async fn user_external_ref(&self, id: UserId) -> Result<Option<ExternalRef>, StoreError>;
    /// Every person (any status) from `source`, by id.
    async fn users_from_source(&self, source: &str) -> Result<Vec<SourcedUser>, StoreError>;
    /// People of any status matching `filter`, by id: how many in all, and the ids of the page
    /// (`offset`, at most `limit`).
    async fn directory_users(
        &self,
        filter: DirectoryUserFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<UserId>), StoreError>;
    /// The departments that came from a directory, with where from.
    async fn department_external_refs(
        &self,
    ) -> Result<Vec<(DepartmentId, ExternalRef)>, StoreError>;
    /// Everyone (any status) placed in department `id`, by id, and whether it is their primary.
    async fn department_people(&self, id: DepartmentId) -> Result<Vec<(UserId, bool)>, StoreError>;

    // Search.
    /// Every event after `after`, ascending, at most `limit`, whoever may see it: for followers
    /// of the whole log (the search indexer).
    async fn events_after(
        &self,
        after: Position,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError>;
    /// The newest position of the log (its pruned-through mark when the log is empty).
    async fn log_head(&self) -> Result<Position, StoreError>;
    /// Messages with `id > after`, ascending by id, at most `limit`, tombstones included,
    /// without reactions (with attached files): for rebuilding the search index.
    async fn messages_after(
        &self,
        after: MessageId,
        limit: i64,
    ) -> Result<Vec<Message>, StoreError>;
    /// For each of `ids` that exists: the users it mentions by name and whether it mentions
    /// the whole channel (`@channel`).
    async fn message_mentions(
        &self,
        ids: &[MessageId],
    ) -> Result<Vec<(MessageId, Vec<UserId>, bool)>, StoreError>;

    // Accounts security.
    /// Opens a session with its details and audit entry in one transaction; also deletes the
    /// second-factor challenge `challenge` (a token hash) it answers, if any.
    async fn open_session(
        &self,
        session: NewSession,
        meta: SessionMeta,
        challenge: Option<String>,
        audit: NewAudit,
    ) -> Result<(), StoreError>;
    /// The user's sessions, newest first (expired ones included until they are next used).
    async fn user_sessions(&self, user: UserId) -> Result<Vec<SessionDetail>, StoreError>;
    /// Ends the selected sessions of `user` with the audit entry; returns how many ended.
    async fn end_sessions(
        &self,
        user: UserId,
        which: SessionSelector,
        audit: NewAudit,
    ) -> Result<u64, StoreError>;
    async fn mfa(&self, user: UserId) -> Result<Option<MfaRecord>, StoreError>;
    /// Applies `change` with its audit entry in one transaction.
    async fn change_mfa(
        &self,
        user: UserId,
        change: MfaChange,
        audit: NewAudit,
    ) -> Result<(), StoreError>;
    /// Records that a code for `step` was used; false if that step (or a later one) already
    /// was, so a code cannot be replayed.
    async fn use_mfa_step(&self, user: UserId, step: i64) -> Result<bool, StoreError>;
    /// Marks an unused recovery code used; false if there is no such unused code.
    async fn use_recovery_code(
        &self,
        user: UserId,
        code_hash: String,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    async fn recovery_codes_left(&self, user: UserId) -> Result<i64, StoreError>;
    async fn login_failures(&self, user: UserId) -> Result<LoginFailures, StoreError>;
    /// Counts one more failed login, locking the account until `lock_until` when the count
    /// reaches `max` (0: never); returns the new state.
    async fn record_login_failure(
        &self,
        user: UserId,
        max: u32,
        lock_until: Timestamp,
    ) -> Result<LoginFailures, StoreError>;
    async fn clear_login_failures(&self, user: UserId) -> Result<(), StoreError>;
    /// Stores a challenge (and forgets expired ones).
    async fn create_mfa_challenge(
        &self,
        challenge: MfaChallenge,
        now: Timestamp,
    ) -> Result<(), StoreError>;
    async fn mfa_challenge(&self, token_hash: &str) -> Result<Option<MfaChallenge>, StoreError>;
    async fn delete_mfa_challenge(&self, token_hash: &str) -> Result<(), StoreError>;

    // Retention, legal hold and message tamper evidence (migration 0010).
    /// The suite the writer hashes each channel's chain with (standard until set).
    fn set_message_chain_suite(&self, suite: crate::crypto::Suite);
    async fn retention_policies(&self) -> Result<Vec<RetentionPolicyRecord>, StoreError>;
    /// Sets (`Some(keep_days)`, `None` inside meaning forever) or removes (`None`) the policy
    /// of `scope`, with its audit entry.
    async fn set_retention_policy(
        &self,
        scope: String,
        keep_days: Option<Option<i64>>,
        at: Timestamp,
        audit: NewAudit,
    ) -> Result<(), StoreError>;
    /// Every hold, newest first (released and ended ones included).
    async fn legal_holds(&self) -> Result<Vec<LegalHoldRecord>, StoreError>;
    /// Returns the new hold's id (`{id}` in the audit target becomes it).
    async fn create_legal_hold(
        &self,
        hold: NewLegalHold,
        audit: NewAudit,
    ) -> Result<i64, StoreError>;
    /// False if the hold was already released.
    async fn release_legal_hold(
        &self,
        id: i64,
        by: UserId,
        at: Timestamp,
        audit: NewAudit,
    ) -> Result<bool, StoreError>;
    /// Every channel with its kind, by id.
    async fn channel_kinds(&self) -> Result<Vec<(ChannelId, ChannelKind)>, StoreError>;
    /// Deletes expired messages with their edit history, reactions, mentions and pins, emits
    /// `messages.pruned` per channel (the search index drops them), marks their chain links
    /// pruned, writes a signed chain checkpoint per channel and the audit entry; all in one
    /// transaction. A dry run counts and changes nothing.
    async fn prune_messages(&self, plan: PrunePlan) -> Result<PruneReport, StoreError>;
    /// The lowest sequence number still stored in the channel (retention removes the oldest).
    async fn oldest_seq(&self, channel: ChannelId) -> Result<Option<i64>, StoreError>;
    /// The channel's chain and the rows it covers, read in one snapshot.
    async fn channel_chain(
        &self,
        channel: ChannelId,
    ) -> Result<Option<crate::message_chain::ChannelChainData>, StoreError>;
    // Encryption at rest (`crate::at_rest`): the store seals and opens values itself when it
    // was opened with a keyring; these manage the keys and legacy plaintext.
    /// Every stored data key, wrapped, oldest first.
    async fn data_keys(&self) -> Result<Vec<crate::at_rest::DataKeyRecord>, StoreError>;
    /// Replaces the wrapping of these data keys (by id) after a master key rotation, with its
    /// audit entry, in one transaction.
    async fn rewrap_data_keys(
        &self,
        rewrapped: Vec<crate::at_rest::DataKeyRecord>,
        audit: NewAudit,
    ) -> Result<(), StoreError>;
    /// Seals up to `limit` values still stored as plaintext (written before encryption was
    /// on); returns how many it sealed, 0 when none are left. Needs a keyring.
    async fn seal_existing(&self, limit: i64) -> Result<u64, StoreError>;
    /// How many stored values are sealed and how many are still plaintext.
    async fn at_rest_counts(&self) -> Result<crate::at_rest::AtRestCounts, StoreError>;
    /// A channel's data key (what its messages and the files uploaded into it are sealed
    /// with), created on first use; `None` when the store has no keyring (encryption off).
    async fn channel_data_key(
        &self,
        channel: ChannelId,
    ) -> Result<Option<Arc<crate::at_rest::DataKey>>, StoreError>;
    /// A data key by id, to open what was sealed under it; `None` without a keyring.
    async fn data_key(&self, id: i64) -> Result<Option<Arc<crate::at_rest::DataKey>>, StoreError>;
}

// Directory sync (SCIM, LDAP).

/// Where a person or department came from: the directory (`scim`, `ldap`) and the record's id
/// there (LDAP `entryUUID`, SCIM `externalId`, which SCIM clients may leave out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalRef {
    pub source: String,
    pub id: Option<String>,
}

/// A person's full state as a directory sets it (like [`OrgChange::UpdateUser`], plus where
/// they came from and, when the directory sent one, a password).
#[derive(Clone, Debug)]
pub struct DirectoryUserState {
    pub display_name: String,
    pub email: Option<String>,
    pub search_key: String,
    /// A status other than active also ends their sessions.
    pub status: UserStatus,
    pub attributes: UserAttributes,
    pub primary_department: Option<DepartmentId>,
    pub secondary_departments: Vec<DepartmentId>,
    /// `Some` replaces the reference (`Some(None)` clears it); `None` keeps it.
    pub external: Option<Option<ExternalRef>>,
    pub password_hash: Option<String>,
}

/// A change made by directory sync, applied through [`Store::apply_org_change`] with its
/// audit entry. Returns the id of what it created (else 0).
// One exists per provisioning request or synced entry, so its size costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum DirectoryChange {
    /// Creates the person and sets everything in `state` at once.
    CreateUser {
        user: NewUser,
        state: DirectoryUserState,
    },
    UpdateUser {
        id: UserId,
        state: DirectoryUserState,
    },
    CreateDepartment {
        name: String,
        parent_id: Option<DepartmentId>,
        at: Timestamp,
        external: Option<ExternalRef>,
    },
    UpdateDepartment {
        id: DepartmentId,
        name: String,
        parent_id: Option<DepartmentId>,
        /// As in [`DirectoryUserState::external`].
        external: Option<Option<ExternalRef>>,
    },
    /// Makes `department` the primary department of everyone in `add`, and takes it from
    /// those in `remove` whose primary department it is (they are left without one).
    SetMembers {
        department: DepartmentId,
        add: Vec<UserId>,
        remove: Vec<UserId>,
    },
    /// Several changes in one transaction, in order (not nested).
    Batch(Vec<DirectoryChange>),
}

/// Which people a directory asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectoryUserFilter {
    All,
    /// Case-insensitive.
    Username(String),
    /// The external id, whatever the source.
    ExternalId(String),
}

/// A person provisioned by a directory, as sync sees them.
#[derive(Clone, Debug)]
pub struct SourcedUser {
    pub id: UserId,
    pub username: String,
    pub external_id: Option<String>,
    pub status: UserStatus,
}
