//! Records of sign-in security the store keeps: session details, second factors, recovery
//! codes, failed-login counters and pending second-factor challenges.

use concord_proto::UserId;
use jiff::Timestamp;

/// How many characters of a session's token hash name it in the API (`id`).
pub const SESSION_ID_LEN: usize = 16;

/// Where a session was opened, and whether it may only enrol a second factor.
#[derive(Clone, Debug, Default)]
pub struct SessionMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub enrol_only: bool,
}

/// A session with its details, for its owner's list.
#[derive(Clone, Debug)]
pub struct SessionDetail {
    /// The first [`SESSION_ID_LEN`] characters of the token hash.
    pub id: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub meta: SessionMeta,
}

/// Which of a user's sessions to end.
#[derive(Clone, Debug)]
pub enum SessionSelector {
    All,
    /// All but the one with this token hash.
    AllBut(String),
    /// The one with this id ([`SessionDetail::id`]).
    One(String),
}

/// A user's TOTP second factor.
#[derive(Clone, Debug)]
pub struct MfaRecord {
    /// The shared secret (raw bytes).
    pub secret: Vec<u8>,
    /// False while enrolment waits for its first code.
    pub enabled: bool,
    /// The newest step a code was accepted for: older or equal steps are replays.
    pub last_step: i64,
    pub created_at: Timestamp,
}

/// A change to a user's second factor.
#[derive(Clone, Debug)]
pub enum MfaChange {
    /// Starts (or restarts) enrolment with a new, not yet enabled secret.
    Begin { secret: Vec<u8>, at: Timestamp },
    /// Enables it, accepting `step`, and replaces the recovery codes (SHA-256 hex).
    Enable {
        step: i64,
        recovery_code_hashes: Vec<String>,
    },
    /// Removes the secret and the recovery codes.
    Disable,
}

/// Failed logins in a row and until when the account is locked.
#[derive(Clone, Debug, Default)]
pub struct LoginFailures {
    pub count: u32,
    pub locked_until: Option<Timestamp>,
}

/// A password accepted for an account with a second factor, waiting for the code.
#[derive(Clone, Debug)]
pub struct MfaChallenge {
    pub token_hash: String,
    pub user_id: UserId,
    pub expires_at: Timestamp,
    pub meta: SessionMeta,
}
