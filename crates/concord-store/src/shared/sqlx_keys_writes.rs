// The PostgreSQL writer's jobs for encryption at rest: storing a new wrapped data key,
// rewrapping keys after a master key rotation (with its audit entry), and sealing legacy
// plaintext. Included by `postgres.rs` after `shared/at_rest.rs`; mirrors
// `sqlite_keys_writer.rs`.

async fn op_insert_data_key(
    conn: &mut DbConn,
    _events: &mut Vec<CommittedEvent>,
    scope: String,
    suite: Suite,
    master_key_id: String,
    wrapped: Vec<u8>,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(SQL_INSERT_DATA_KEY)
        .bind(scope)
        .bind(suite.as_str())
        .bind(master_key_id)
        .bind(wrapped)
        .bind(ms(at))
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

async fn op_rewrap_data_keys(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    keys: Vec<DataKeyRecord>,
    audit: NewAudit,
) -> Result<(), StoreError> {
    for key in keys {
        let done = sqlx::query(SQL_REWRAP_DATA_KEY)
            .bind(key.master_key_id)
            .bind(key.wrapped)
            .bind(ms(audit.at))
            .bind(key.id)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::NotFound("data key"));
        }
    }
    op_append_audit(conn, events, audit).await
}

async fn op_apply_seal_updates(
    conn: &mut DbConn,
    _events: &mut Vec<CommittedEvent>,
    updates: Vec<SealUpdate>,
) -> Result<u64, StoreError> {
    let mut n = 0;
    for update in updates {
        let q = match update {
            SealUpdate::Message { id, old, new } => sqlx::query(SQL_SEAL_MESSAGE).bind(new).bind(id).bind(old),
            SealUpdate::Version { message_id, version, old, new } => {
                sqlx::query(SQL_SEAL_VERSION).bind(new).bind(message_id).bind(version).bind(old)
            }
            SealUpdate::Event { id, old, new } => sqlx::query(SQL_SEAL_EVENT).bind(new).bind(id).bind(old),
            SealUpdate::Mfa { user_id, old, new } => sqlx::query(SQL_SEAL_MFA).bind(new).bind(user_id).bind(old),
        };
        n += q.execute(&mut *conn).await.map_err(map_err)?.rows_affected();
    }
    Ok(n)
}
