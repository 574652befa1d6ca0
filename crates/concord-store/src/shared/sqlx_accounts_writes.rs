// Sign-in security's writes for the sqlx writer (PostgreSQL); SQLite's are in
// `sqlite_accounts_writer.rs`, with the same statements (`shared/accounts_sql.rs`).

async fn op_open_session(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    s: NewSession,
    meta: SessionMeta,
    challenge: Option<String>,
    audit: NewAudit,
) -> Result<(), StoreError> {
    // The audit entry first: if it cannot be written, no session opens.
    op_append_audit(conn, events, audit).await?;
    if let Some(hash) = challenge
        && exec_sql(conn, sqlx::query(SQL_DELETE_CHALLENGE).bind(hash)).await? == 0
    {
        // Already answered (or expired and purged): one challenge, one session.
        return Err(StoreError::NotFound("challenge"));
    }
    let q = sqlx::query(SQL_INSERT_SESSION_META)
        .bind(s.token_hash)
        .bind(s.user_id.0)
        .bind(ms(s.created_at))
        .bind(ms(s.expires_at))
        .bind(meta.ip)
        .bind(meta.user_agent)
        .bind(meta.enrol_only);
    exec_sql(conn, q).await?;
    Ok(())
}

async fn op_end_sessions(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    user: UserId,
    which: SessionSelector,
    audit: NewAudit,
) -> Result<u64, StoreError> {
    op_append_audit(conn, events, audit).await?;
    match which {
        SessionSelector::All => exec_sql(conn, sqlx::query(SQL_END_ALL).bind(user.0)).await,
        SessionSelector::AllBut(keep) => exec_sql(conn, sqlx::query(SQL_END_ALL_BUT).bind(user.0).bind(keep)).await,
        SessionSelector::One(id) => exec_sql(conn, sqlx::query(SQL_END_ONE).bind(user.0).bind(id)).await,
    }
}

async fn op_change_mfa(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    user: UserId,
    change: MfaChange,
    sealed_secret: Option<String>,
    audit: NewAudit,
) -> Result<(), StoreError> {
    op_append_audit(conn, events, audit).await?;
    match change {
        MfaChange::Begin { secret, at } => {
            let stored = sealed_secret.unwrap_or_else(|| secret_text(&secret));
            let q = sqlx::query(SQL_MFA_BEGIN).bind(user.0).bind(stored).bind(false).bind(ms(at));
            exec_sql(conn, q).await?;
            exec_sql(conn, sqlx::query(SQL_DELETE_CODES).bind(user.0)).await?;
        }
        MfaChange::Enable { step, recovery_code_hashes } => {
            if exec_sql(conn, sqlx::query(SQL_MFA_ENABLE).bind(true).bind(step).bind(user.0)).await? == 0 {
                return Err(StoreError::NotFound("second factor"));
            }
            exec_sql(conn, sqlx::query(SQL_DELETE_CODES).bind(user.0)).await?;
            for hash in recovery_code_hashes {
                exec_sql(conn, sqlx::query(SQL_INSERT_CODE).bind(user.0).bind(hash)).await?;
            }
        }
        MfaChange::Disable => {
            exec_sql(conn, sqlx::query(SQL_DELETE_CODES).bind(user.0)).await?;
            exec_sql(conn, sqlx::query(SQL_MFA_DELETE).bind(user.0)).await?;
        }
    }
    Ok(())
}

async fn op_use_mfa_step(conn: &mut DbConn, _events: &mut Vec<CommittedEvent>, user: UserId, step: i64) -> Result<bool, StoreError> {
    Ok(exec_sql(conn, sqlx::query(SQL_USE_STEP).bind(step).bind(user.0).bind(true)).await? == 1)
}

async fn op_use_recovery_code(
    conn: &mut DbConn,
    _events: &mut Vec<CommittedEvent>,
    user: UserId,
    hash: String,
    at: Timestamp,
) -> Result<bool, StoreError> {
    Ok(exec_sql(conn, sqlx::query(SQL_USE_CODE).bind(ms(at)).bind(user.0).bind(hash)).await? == 1)
}

async fn op_record_login_failure(
    conn: &mut DbConn,
    _events: &mut Vec<CommittedEvent>,
    user: UserId,
    max: u32,
    lock_until: Timestamp,
) -> Result<LoginFailures, StoreError> {
    exec_sql(conn, sqlx::query(SQL_COUNT_FAILURE).bind(user.0)).await?;
    let count: i64 = sqlx::query_scalar(SQL_GET_FAILURE_COUNT)
        .bind(user.0)
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    if max > 0 && count >= max {
        exec_sql(conn, sqlx::query(SQL_LOCK).bind(ms(lock_until)).bind(user.0)).await?;
        return Ok(LoginFailures { count, locked_until: Some(lock_until) });
    }
    Ok(LoginFailures { count, locked_until: None })
}

async fn op_clear_login_failures(conn: &mut DbConn, _events: &mut Vec<CommittedEvent>, user: UserId) -> Result<(), StoreError> {
    exec_sql(conn, sqlx::query(SQL_CLEAR_FAILURES).bind(user.0)).await?;
    Ok(())
}

async fn op_create_mfa_challenge(
    conn: &mut DbConn,
    _events: &mut Vec<CommittedEvent>,
    c: MfaChallenge,
    now: Timestamp,
) -> Result<(), StoreError> {
    exec_sql(conn, sqlx::query(SQL_PURGE_CHALLENGES).bind(ms(now))).await?;
    let q = sqlx::query(SQL_INSERT_CHALLENGE)
        .bind(c.token_hash)
        .bind(c.user_id.0)
        .bind(ms(c.expires_at))
        .bind(c.meta.ip)
        .bind(c.meta.user_agent);
    exec_sql(conn, q).await?;
    Ok(())
}

async fn op_delete_mfa_challenge(conn: &mut DbConn, _events: &mut Vec<CommittedEvent>, hash: String) -> Result<(), StoreError> {
    exec_sql(conn, sqlx::query(SQL_DELETE_CHALLENGE).bind(hash)).await?;
    Ok(())
}
