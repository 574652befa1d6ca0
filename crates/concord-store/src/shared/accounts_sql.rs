// Included by both backends: the statements behind sign-in security (session details, TOTP
// second factors, recovery codes, lockout counters, second-factor challenges) and their
// reads. `$n` parameters are numbered in order of first appearance (see org_sql.rs), so the
// SQLite writer can bind them positionally.

use concord_core::store::{
    LoginFailures, MfaChallenge, MfaChange, MfaRecord, SESSION_ID_LEN, SessionDetail, SessionMeta,
    SessionSelector,
};

const SQL_INSERT_SESSION_META: &str = "INSERT INTO sessions \
     (token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent, enrol_only) \
     VALUES ($1, $2, $3, $3, $4, $5, $6, $7)";
const SQL_DELETE_CHALLENGE: &str = "DELETE FROM mfa_challenges WHERE token_hash = $1";
const SQL_END_ALL: &str = "DELETE FROM sessions WHERE user_id = $1";
const SQL_END_ALL_BUT: &str = "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2";
const SQL_END_ONE: &str = "DELETE FROM sessions WHERE user_id = $1 AND substr(token_hash, 1, 16) = $2";
const SQL_MFA_BEGIN: &str = "INSERT INTO user_mfa (user_id, secret, enabled, last_step, created_at) \
     VALUES ($1, $2, $3, 0, $4) ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, \
     enabled = excluded.enabled, last_step = 0, created_at = excluded.created_at";
const SQL_MFA_ENABLE: &str = "UPDATE user_mfa SET enabled = $1, last_step = $2 WHERE user_id = $3";
const SQL_MFA_DELETE: &str = "DELETE FROM user_mfa WHERE user_id = $1";
const SQL_DELETE_CODES: &str = "DELETE FROM mfa_recovery_codes WHERE user_id = $1";
const SQL_INSERT_CODE: &str = "INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES ($1, $2)";
const SQL_USE_STEP: &str = "UPDATE user_mfa SET last_step = $1 WHERE user_id = $2 AND enabled = $3 AND last_step < $1";
const SQL_USE_CODE: &str = "UPDATE mfa_recovery_codes SET used_at = $1 \
     WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL";
const SQL_COUNT_FAILURE: &str = "INSERT INTO login_failures (user_id, failures) VALUES ($1, 1) \
     ON CONFLICT (user_id) DO UPDATE SET failures = login_failures.failures + 1";
const SQL_GET_FAILURES: &str = "SELECT failures, locked_until FROM login_failures WHERE user_id = $1";
const SQL_GET_FAILURE_COUNT: &str = "SELECT failures FROM login_failures WHERE user_id = $1";
/// Locking starts the count afresh: after the cool-down the account gets `max` tries again.
const SQL_LOCK: &str = "UPDATE login_failures SET failures = 0, locked_until = $1 WHERE user_id = $2";
const SQL_CLEAR_FAILURES: &str = "DELETE FROM login_failures WHERE user_id = $1";
const SQL_INSERT_CHALLENGE: &str = "INSERT INTO mfa_challenges (token_hash, user_id, expires_at, ip, user_agent) \
     VALUES ($1, $2, $3, $4, $5)";
const SQL_PURGE_CHALLENGES: &str = "DELETE FROM mfa_challenges WHERE expires_at < $1";

/// A TOTP secret as stored: Base32 text.
fn secret_text(secret: &[u8]) -> String {
    concord_core::credentials::totp::base32_encode(secret)
}

impl SqlStore {
    async fn load_user_sessions(&self, user: UserId) -> Result<Vec<SessionDetail>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT token_hash, created_at, last_seen_at, expires_at, ip, user_agent, enrol_only \
             FROM sessions WHERE user_id = $1 ORDER BY created_at DESC, token_hash",
        )
        .bind(user.0)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let hash: String = r.try_get("token_hash")?;
                Ok(SessionDetail {
                    id: hash.chars().take(SESSION_ID_LEN).collect(),
                    created_at: ts(r.try_get("created_at")?),
                    last_seen_at: ts(r.try_get("last_seen_at")?),
                    expires_at: ts(r.try_get("expires_at")?),
                    meta: SessionMeta {
                        ip: r.try_get("ip")?,
                        user_agent: r.try_get("user_agent")?,
                        enrol_only: r.try_get("enrol_only")?,
                    },
                })
            })
            .collect()
    }

    async fn load_mfa(&self, user: UserId) -> Result<Option<MfaRecord>, StoreError> {
        let row = sqlx::query("SELECT secret, enabled, last_step, created_at FROM user_mfa WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        let Some(r) = row else { return Ok(None) };
        let mut secret: String = r.try_get("secret").map_err(map_err)?;
        // Sealed at rest when encryption is on (`at_rest.rs`).
        self.open_in_place(&mut secret).await?;
        Ok(Some(MfaRecord {
            secret: concord_core::credentials::totp::base32_decode(&secret)
                .ok_or_else(|| StoreError::Unavailable("TOTP secret is not Base32".into()))?,
            enabled: r.try_get("enabled").map_err(map_err)?,
            last_step: r.try_get("last_step").map_err(map_err)?,
            created_at: ts(r.try_get("created_at").map_err(map_err)?),
        }))
    }

    async fn count_recovery_codes(&self, user: UserId) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL")
            .bind(user.0)
            .fetch_one(&self.read)
            .await
    }

    async fn load_login_failures(&self, user: UserId) -> Result<LoginFailures, sqlx::Error> {
        let row = sqlx::query(SQL_GET_FAILURES).bind(user.0).fetch_optional(&self.read).await?;
        let Some(r) = row else { return Ok(LoginFailures::default()) };
        let count: i64 = r.try_get("failures")?;
        let locked: Option<i64> = r.try_get("locked_until")?;
        Ok(LoginFailures { count: u32::try_from(count).unwrap_or(u32::MAX), locked_until: locked.map(ts) })
    }

    async fn load_mfa_challenge(&self, token_hash: &str) -> Result<Option<MfaChallenge>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT token_hash, user_id, expires_at, ip, user_agent FROM mfa_challenges WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.read)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(MfaChallenge {
            token_hash: r.try_get("token_hash")?,
            user_id: UserId(r.try_get("user_id")?),
            expires_at: ts(r.try_get("expires_at")?),
            meta: SessionMeta { ip: r.try_get("ip")?, user_agent: r.try_get("user_agent")?, enrol_only: false },
        }))
    }
}
