//! Sign-in security: the account policy (second factor, lockout, passwords), the two-step
//! login, and TOTP enrolment with recovery codes.

use super::Services;
use crate::authz::Actor;
use crate::credentials::{self, totp};
use crate::error::DomainError;
use crate::org::perm;
use crate::store::{LoginFailures, MfaChallenge, MfaChange, NewAudit, NewSession, SessionMeta};
use concord_proto::{LoginResponse, UserId};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Who must use a second factor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MfaRequirement {
    #[default]
    Off,
    /// Holders of org.manage, user.manage, role.manage or security.manage, at any scope.
    Admins,
    Everyone,
}

/// The sign-in policy, from configuration (`[security]`).
#[derive(Clone, Debug)]
pub struct AccountPolicy {
    pub require_mfa: MfaRequirement,
    /// Failed logins in a row that lock the account; 0: never.
    pub max_failed_logins: u32,
    pub lockout: jiff::SignedDuration,
    pub password_min_length: usize,
    /// Of lower case, upper case, digits and others.
    pub password_min_classes: u8,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        Self {
            require_mfa: MfaRequirement::Off,
            max_failed_logins: 10,
            lockout: jiff::SignedDuration::from_secs(900),
            password_min_length: 8,
            password_min_classes: 1,
        }
    }
}

/// Where a login comes from, for the session list and the audit log.
#[derive(Clone, Debug, Default)]
pub struct LoginContext {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// What a correct password leads to.
#[derive(Debug)]
pub enum LoginOutcome {
    /// A full session.
    Session(concord_proto::LoginResponse),
    /// The account has a second factor: send the code with this token to `/auth/login/mfa`.
    MfaRequired {
        mfa_token: String,
        expires_at: jiff::Timestamp,
    },
    /// Policy requires a second factor the account has not set up: an enrol-only session.
    EnrolmentRequired(concord_proto::LoginResponse),
}

/// A TOTP secret being set up.
#[derive(Clone, Debug)]
pub struct MfaEnrolment {
    /// Base32, for typing into an authenticator.
    pub secret: String,
    /// `otpauth://totp/...`, for a QR code.
    pub otpauth_uri: String,
}

/// How long the token from the first step of a two-step login stays valid.
const MFA_CHALLENGE_TTL: SignedDuration = SignedDuration::from_mins(5);
/// Recovery codes given when a second factor is enabled.
pub const RECOVERY_CODES: usize = 10;
/// Token prefix of enrol-only sessions (full sessions use `cct_`), so that authenticating
/// needs no extra read to tell them apart; a changed prefix hashes to no session.
pub const ENROL_ONLY_PREFIX: &str = "cce_";
/// Token prefix of second-factor challenges.
const CHALLENGE_PREFIX: &str = "ccm_";
/// The issuer authenticator apps show.
const ISSUER: &str = "Concord";

/// Permissions that make someone an administrator for `require_mfa = "admins"`.
const ADMIN_PERMISSIONS: &[&str] = &[
    perm::ORG_MANAGE,
    perm::USER_MANAGE,
    perm::ROLE_MANAGE,
    perm::SECURITY_MANAGE,
];

/// Checks a new password against the policy: length, character classes, not the username.
pub fn check_password(
    policy: &AccountPolicy,
    username: &str,
    password: &str,
) -> Result<(), DomainError> {
    crate::validate::password(password)?;
    if password.chars().count() < policy.password_min_length {
        return Err(DomainError::invalid(
            "password",
            format!("must be at least {} characters", policy.password_min_length),
        ));
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if classes < usize::from(policy.password_min_classes) {
        return Err(DomainError::invalid(
            "password",
            format!(
                "must mix at least {} of: lower case, upper case, digits, other characters",
                policy.password_min_classes
            ),
        ));
    }
    if password.trim().eq_ignore_ascii_case(username.trim()) {
        return Err(DomainError::invalid("password", "must not be the username"));
    }
    Ok(())
}

/// A new recovery code: 16 Base32 characters (80 bits) in four groups, lower case.
fn new_recovery_code() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 10];
    rand::rng().fill_bytes(&mut bytes);
    let text = totp::base32_encode(&bytes).to_lowercase();
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// What is stored of a recovery code: SHA-256 of its canonical form (no dashes, lower case).
fn recovery_code_hash(code: &str) -> String {
    let canonical: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    credentials::token_hash(&canonical)
}

impl Services {
    /// An audit entry for sign-in events, which may have no actor but have an address.
    pub(super) fn account_audit(
        &self,
        actor: Option<UserId>,
        ip: Option<String>,
        action: &str,
        target: String,
        after: Option<serde_json::Value>,
    ) -> NewAudit {
        let mut entry = self.audit_entry(None, action, target, None, after);
        entry.actor_id = actor;
        entry.ip = ip;
        entry
    }

    /// Whether the policy requires `user` to have a second factor.
    pub fn mfa_required_for(&self, user: UserId) -> bool {
        match self.limits.accounts.require_mfa {
            MfaRequirement::Off => false,
            MfaRequirement::Everyone => true,
            MfaRequirement::Admins => {
                let org = self.org();
                let (at_org, scoped) = org.permissions_of(user);
                ADMIN_PERMISSIONS.iter().any(|p| {
                    org.allows(user, p, None)
                        || at_org.contains(*p)
                        || scoped.iter().any(|(_, set)| set.contains(*p))
                })
            }
        }
    }

    /// Step one of signing in: the password. Counts failures towards the lockout; answers a
    /// session, a second-factor challenge, or an enrol-only session.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        ctx: LoginContext,
    ) -> Result<LoginOutcome, DomainError> {
        if login.len() > 254 || password.len() > 1024 {
            return Err(DomainError::BadCredentials);
        }
        let now = self.clock.now();
        let record = self.store.user_by_login(login.trim()).await?;
        let active = record.as_ref().filter(|r| r.active);
        if let Some(r) = active {
            self.refuse_if_locked(r.user.id, now, &ctx).await?;
        }
        let stored = record.as_ref().map(|r| r.password_hash.clone());
        let password = password.to_string();
        let ok = self
            .hash_job(move || {
                credentials::verify_password(
                    &password,
                    stored.as_deref().unwrap_or(credentials::decoy_hash()),
                )
            })
            .await?;
        let record = match active {
            Some(r) if ok => r.clone(),
            Some(r) => {
                return Err(self.login_failed(r.user.id, "password", &ctx).await);
            }
            None => {
                let target = format!("login:{}", login.trim().to_lowercase());
                let after = serde_json::json!({"reason": "unknown or inactive account"});
                let entry = self.account_audit(
                    None,
                    ctx.ip.clone(),
                    "auth.login_failed",
                    target,
                    Some(after),
                );
                self.store.append_audit(entry).await?;
                return Err(DomainError::BadCredentials);
            }
        };
        let user = record.user;
        let mfa = self.store.mfa(user.id).await?.filter(|m| m.enabled);
        if mfa.is_some() {
            let token = format!("{CHALLENGE_PREFIX}{}", &credentials::new_token()[4..]);
            let expires_at = now.checked_add(MFA_CHALLENGE_TTL).unwrap_or(now);
            let meta = SessionMeta {
                ip: ctx.ip.clone(),
                user_agent: ctx.user_agent.clone(),
                enrol_only: false,
            };
            let challenge = MfaChallenge {
                token_hash: credentials::token_hash(&token),
                user_id: user.id,
                expires_at,
                meta,
            };
            self.store.create_mfa_challenge(challenge, now).await?;
            return Ok(LoginOutcome::MfaRequired {
                mfa_token: token,
                expires_at,
            });
        }
        self.clear_failures(user.id).await?;
        if self.mfa_required_for(user.id) {
            let response = self
                .open_session(user, &ctx, true, None, "auth.login")
                .await?;
            return Ok(LoginOutcome::EnrolmentRequired(response));
        }
        Ok(LoginOutcome::Session(
            self.open_session(user, &ctx, false, None, "auth.login")
                .await?,
        ))
    }

    /// Step two: the code from the authenticator (or a recovery code) for a challenge.
    pub async fn login_mfa(
        &self,
        mfa_token: &str,
        code: &str,
        ctx: LoginContext,
    ) -> Result<LoginResponse, DomainError> {
        if mfa_token.len() > 256 || code.len() > 64 {
            return Err(DomainError::BadCredentials);
        }
        let now = self.clock.now();
        let hash = credentials::token_hash(mfa_token);
        let challenge = self
            .store
            .mfa_challenge(&hash)
            .await?
            .ok_or(DomainError::Unauthenticated)?;
        if now >= challenge.expires_at {
            self.store.delete_mfa_challenge(&hash).await?;
            return Err(DomainError::Unauthenticated);
        }
        let user_id = challenge.user_id;
        if let Err(e) = self.refuse_if_locked(user_id, now, &ctx).await {
            self.store.delete_mfa_challenge(&hash).await?;
            return Err(e);
        }
        let how = match self.check_code(user_id, code).await? {
            Some(how) => how,
            None => {
                let err = self.login_failed(user_id, "second factor", &ctx).await;
                if matches!(err, DomainError::AccountLocked { .. }) {
                    self.store.delete_mfa_challenge(&hash).await?;
                }
                return Err(err);
            }
        };
        self.clear_failures(user_id).await?;
        let user = self
            .store
            .user(user_id)
            .await?
            .ok_or(DomainError::Unauthenticated)?;
        let ctx = LoginContext {
            ip: ctx.ip.or(challenge.meta.ip),
            user_agent: ctx.user_agent.or(challenge.meta.user_agent),
        };
        let action = if how == "recovery_code" {
            "auth.login_recovery_code"
        } else {
            "auth.login"
        };
        self.open_session(user, &ctx, false, Some(hash), action)
            .await
    }

    /// Refuses (and audits) an attempt on a locked account.
    async fn refuse_if_locked(
        &self,
        user: UserId,
        now: Timestamp,
        ctx: &LoginContext,
    ) -> Result<(), DomainError> {
        let LoginFailures { locked_until, .. } = self.store.login_failures(user).await?;
        match locked_until {
            Some(until) if until > now => {
                let secs = now.duration_until(until).as_secs().max(1) as u64;
                let after =
                    serde_json::json!({"reason": "locked", "locked_until": until.to_string()});
                let entry = self.account_audit(
                    Some(user),
                    ctx.ip.clone(),
                    "auth.login_failed",
                    format!("user:{}", user.0),
                    Some(after),
                );
                self.store.append_audit(entry).await?;
                Err(DomainError::AccountLocked {
                    retry_after_secs: secs,
                })
            }
            _ => Ok(()),
        }
    }

    /// Audits a failed attempt (and the lockout it may cause, before locking), counts it, and
    /// returns the error to answer.
    async fn login_failed(&self, user: UserId, what: &str, ctx: &LoginContext) -> DomainError {
        let result: Result<DomainError, DomainError> = async {
            let policy = &self.limits.accounts;
            let now = self.clock.now();
            let before = self.store.login_failures(user).await?;
            let target = format!("user:{}", user.0);
            let after = serde_json::json!({"reason": format!("wrong {what}"), "failures": before.count + 1});
            let entry = self.account_audit(Some(user), ctx.ip.clone(), "auth.login_failed", target.clone(), Some(after));
            self.store.append_audit(entry).await?;
            let locking = policy.max_failed_logins > 0 && before.count + 1 >= policy.max_failed_logins;
            let until = now.checked_add(policy.lockout).unwrap_or(now);
            if locking {
                let after = serde_json::json!({"failures": before.count + 1, "locked_until": until.to_string()});
                let entry = self.account_audit(None, ctx.ip.clone(), "auth.lockout", target, Some(after));
                self.store.append_audit(entry).await?;
            }
            let state = self.store.record_login_failure(user, policy.max_failed_logins, until).await?;
            Ok(match state.locked_until {
                Some(until) => DomainError::AccountLocked {
                    retry_after_secs: now.duration_until(until).as_secs().max(1) as u64,
                },
                None => DomainError::BadCredentials,
            })
        }
        .await;
        result.unwrap_or_else(|e| e)
    }

    async fn clear_failures(&self, user: UserId) -> Result<(), DomainError> {
        if self.store.login_failures(user).await?.count > 0 {
            self.store.clear_login_failures(user).await?;
        }
        Ok(())
    }

    /// Opens a session (with its audit entry, in one transaction).
    async fn open_session(
        &self,
        user: concord_proto::User,
        ctx: &LoginContext,
        enrol_only: bool,
        challenge: Option<String>,
        action: &str,
    ) -> Result<LoginResponse, DomainError> {
        let mut token = credentials::new_token();
        if enrol_only {
            token = format!("{ENROL_ONLY_PREFIX}{}", &token[4..]);
        }
        let now = self.clock.now();
        let expires_at = now.checked_add(self.limits.session_lifetime).unwrap_or(now);
        let token_hash = credentials::token_hash(&token);
        let after = serde_json::json!({
            "session": &token_hash[..crate::store::SESSION_ID_LEN],
            "enrol_only": enrol_only,
            "second_factor": challenge.is_some(),
        });
        let audit = self.account_audit(
            Some(user.id),
            ctx.ip.clone(),
            action,
            format!("user:{}", user.id.0),
            Some(after),
        );
        let meta = SessionMeta {
            ip: ctx.ip.clone(),
            user_agent: ctx.user_agent.clone(),
            enrol_only,
        };
        let session = NewSession {
            token_hash,
            user_id: user.id,
            created_at: now,
            expires_at,
        };
        self.store
            .open_session(session, meta, challenge, audit)
            .await
            .map_err(|e| match e {
                crate::store::StoreError::NotFound("challenge") => DomainError::Unauthenticated,
                other => other.into(),
            })?;
        Ok(LoginResponse {
            token,
            user,
            expires_at,
        })
    }

    /// Checks a TOTP code (once per step) or an unused recovery code; says which matched.
    async fn check_code(
        &self,
        user: UserId,
        code: &str,
    ) -> Result<Option<&'static str>, DomainError> {
        let Some(mfa) = self.store.mfa(user).await?.filter(|m| m.enabled) else {
            return Ok(None);
        };
        let code = code.trim();
        if code.len() == totp::DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit()) {
            let now_step = totp::step_at(self.clock.now().as_second());
            return Ok(match totp::matching_step(&mfa.secret, code, now_step) {
                Some(step)
                    if step > mfa.last_step && self.store.use_mfa_step(user, step).await? =>
                {
                    Some("totp")
                }
                _ => None,
            });
        }
        let used = self
            .store
            .use_recovery_code(user, recovery_code_hash(code), self.clock.now())
            .await?;
        Ok(used.then_some("recovery_code"))
    }

    /// The actor's second factor: enabled, waiting for confirmation, recovery codes left, and
    /// whether the policy requires one.
    pub async fn mfa_status(&self, actor: &Actor) -> Result<(bool, bool, i64, bool), DomainError> {
        let mfa = self.store.mfa(actor.user_id).await?;
        let enabled = mfa.as_ref().is_some_and(|m| m.enabled);
        let pending = mfa.as_ref().is_some_and(|m| !m.enabled);
        let left = if enabled {
            self.store.recovery_codes_left(actor.user_id).await?
        } else {
            0
        };
        Ok((enabled, pending, left, self.mfa_required_for(actor.user_id)))
    }

    /// Starts TOTP enrolment: a new secret, not in force until a code confirms it.
    pub async fn begin_totp(&self, actor: &Actor) -> Result<MfaEnrolment, DomainError> {
        if self
            .store
            .mfa(actor.user_id)
            .await?
            .is_some_and(|m| m.enabled)
        {
            return Err(DomainError::Conflict(
                "a second factor is already enabled; disable it first".into(),
            ));
        }
        let user = self
            .store
            .user(actor.user_id)
            .await?
            .ok_or(DomainError::Unauthenticated)?;
        let secret = totp::new_secret();
        let audit = self.account_audit(
            Some(actor.user_id),
            actor.ip.clone(),
            "mfa.totp_enrol_started",
            format!("user:{}", actor.user_id.0),
            None,
        );
        self.store
            .change_mfa(
                actor.user_id,
                MfaChange::Begin {
                    secret: secret.clone(),
                    at: self.clock.now(),
                },
                audit,
            )
            .await?;
        Ok(MfaEnrolment {
            secret: totp::base32_encode(&secret),
            otpauth_uri: totp::otpauth_uri(ISSUER, &user.username, &secret),
        })
    }

    /// Confirms enrolment with a current code; returns the recovery codes (shown only now).
    pub async fn confirm_totp(
        &self,
        actor: &Actor,
        code: &str,
    ) -> Result<Vec<String>, DomainError> {
        let mfa = match self.store.mfa(actor.user_id).await? {
            Some(m) if !m.enabled => m,
            Some(_) => {
                return Err(DomainError::Conflict(
                    "the second factor is already enabled".into(),
                ));
            }
            None => {
                return Err(DomainError::NotFound(
                    "pending second factor (start with POST /api/v1/users/me/mfa/totp)",
                ));
            }
        };
        let now_step = totp::step_at(self.clock.now().as_second());
        let step = totp::matching_step(&mfa.secret, code, now_step).ok_or_else(|| {
            DomainError::invalid(
                "code",
                "does not match; check the authenticator's clock and try the next code",
            )
        })?;
        let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
        let hashes = codes.iter().map(|c| recovery_code_hash(c)).collect();
        let audit = self.account_audit(
            Some(actor.user_id),
            actor.ip.clone(),
            "mfa.totp_enabled",
            format!("user:{}", actor.user_id.0),
            Some(serde_json::json!({"recovery_codes": RECOVERY_CODES})),
        );
        self.store
            .change_mfa(
                actor.user_id,
                MfaChange::Enable {
                    step,
                    recovery_code_hashes: hashes,
                },
                audit,
            )
            .await?;
        Ok(codes)
    }

    /// Turns the second factor off, given a current code or a recovery code. Refused while
    /// the policy requires one for the actor.
    pub async fn disable_totp(&self, actor: &Actor, code: &str) -> Result<(), DomainError> {
        if self.mfa_required_for(actor.user_id) {
            return Err(DomainError::Forbidden(
                "your organisation requires a second factor",
            ));
        }
        let mfa = self
            .store
            .mfa(actor.user_id)
            .await?
            .ok_or(DomainError::NotFound("second factor"))?;
        if mfa.enabled && self.check_code(actor.user_id, code).await?.is_none() {
            return Err(DomainError::invalid("code", "does not match"));
        }
        let audit = self.account_audit(
            Some(actor.user_id),
            actor.ip.clone(),
            "mfa.totp_disabled",
            format!("user:{}", actor.user_id.0),
            None,
        );
        self.store
            .change_mfa(actor.user_id, MfaChange::Disable, audit)
            .await?;
        Ok(())
    }
}
