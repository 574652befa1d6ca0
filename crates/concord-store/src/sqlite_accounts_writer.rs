// Sign-in security's writes on SQLite's writer thread (rusqlite), running the statements of
// `shared/accounts_sql.rs`. Included by `sqlite.rs` after `sqlite_org_writer.rs`.

fn op_open_session(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    s: NewSession,
    meta: SessionMeta,
    challenge: Option<String>,
    audit: NewAudit,
) -> Result<(), StoreError> {
    // The audit entry first: if it cannot be written, no session opens.
    op_append_audit(conn, events, audit)?;
    if let Some(hash) = challenge
        && exec(conn, SQL_DELETE_CHALLENGE, params![hash])? == 0
    {
        // Already answered (or expired and purged): one challenge, one session.
        return Err(StoreError::NotFound("challenge"));
    }
    exec(
        conn,
        SQL_INSERT_SESSION_META,
        params![s.token_hash, s.user_id.0, ms(s.created_at), ms(s.expires_at), meta.ip, meta.user_agent, meta.enrol_only],
    )?;
    Ok(())
}

fn op_end_sessions(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    user: UserId,
    which: SessionSelector,
    audit: NewAudit,
) -> Result<u64, StoreError> {
    op_append_audit(conn, events, audit)?;
    let n = match which {
        SessionSelector::All => exec(conn, SQL_END_ALL, params![user.0])?,
        SessionSelector::AllBut(keep) => exec(conn, SQL_END_ALL_BUT, params![user.0, keep])?,
        SessionSelector::One(id) => exec(conn, SQL_END_ONE, params![user.0, id])?,
    };
    Ok(n as u64)
}

fn op_change_mfa(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    user: UserId,
    change: MfaChange,
    sealed_secret: Option<String>,
    audit: NewAudit,
) -> Result<(), StoreError> {
    op_append_audit(conn, events, audit)?;
    match change {
        MfaChange::Begin { secret, at } => {
            let stored = sealed_secret.unwrap_or_else(|| secret_text(&secret));
            exec(conn, SQL_MFA_BEGIN, params![user.0, stored, false, ms(at)])?;
            exec(conn, SQL_DELETE_CODES, params![user.0])?;
        }
        MfaChange::Enable { step, recovery_code_hashes } => {
            if exec(conn, SQL_MFA_ENABLE, params![true, step, user.0])? == 0 {
                return Err(StoreError::NotFound("second factor"));
            }
            exec(conn, SQL_DELETE_CODES, params![user.0])?;
            for hash in recovery_code_hashes {
                exec(conn, SQL_INSERT_CODE, params![user.0, hash])?;
            }
        }
        MfaChange::Disable => {
            exec(conn, SQL_DELETE_CODES, params![user.0])?;
            exec(conn, SQL_MFA_DELETE, params![user.0])?;
        }
    }
    Ok(())
}

fn op_use_mfa_step(conn: &rusqlite::Connection, _events: &mut Vec<CommittedEvent>, user: UserId, step: i64) -> Result<bool, StoreError> {
    Ok(exec(conn, SQL_USE_STEP, params![step, user.0, true])? == 1)
}

fn op_use_recovery_code(
    conn: &rusqlite::Connection,
    _events: &mut Vec<CommittedEvent>,
    user: UserId,
    hash: String,
    at: Timestamp,
) -> Result<bool, StoreError> {
    Ok(exec(conn, SQL_USE_CODE, params![ms(at), user.0, hash])? == 1)
}

fn op_record_login_failure(
    conn: &rusqlite::Connection,
    _events: &mut Vec<CommittedEvent>,
    user: UserId,
    max: u32,
    lock_until: Timestamp,
) -> Result<LoginFailures, StoreError> {
    exec(conn, SQL_COUNT_FAILURE, params![user.0])?;
    let count: i64 = conn
        .prepare_cached(SQL_GET_FAILURE_COUNT)
        .and_then(|mut st| st.query_row(params![user.0], |r| r.get(0)))
        .map_err(map_rerr)?;
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    if max > 0 && count >= max {
        exec(conn, SQL_LOCK, params![ms(lock_until), user.0])?;
        return Ok(LoginFailures { count, locked_until: Some(lock_until) });
    }
    Ok(LoginFailures { count, locked_until: None })
}

fn op_clear_login_failures(conn: &rusqlite::Connection, _events: &mut Vec<CommittedEvent>, user: UserId) -> Result<(), StoreError> {
    exec(conn, SQL_CLEAR_FAILURES, params![user.0])?;
    Ok(())
}

fn op_create_mfa_challenge(
    conn: &rusqlite::Connection,
    _events: &mut Vec<CommittedEvent>,
    c: MfaChallenge,
    now: Timestamp,
) -> Result<(), StoreError> {
    exec(conn, SQL_PURGE_CHALLENGES, params![ms(now)])?;
    exec(
        conn,
        SQL_INSERT_CHALLENGE,
        params![c.token_hash, c.user_id.0, ms(c.expires_at), c.meta.ip, c.meta.user_agent],
    )?;
    Ok(())
}

fn op_delete_mfa_challenge(conn: &rusqlite::Connection, _events: &mut Vec<CommittedEvent>, hash: String) -> Result<(), StoreError> {
    exec(conn, SQL_DELETE_CHALLENGE, params![hash])?;
    Ok(())
}
