// The SQLite writer's jobs for encryption at rest: storing a new wrapped data key, rewrapping
// keys after a master key rotation (with its audit entry), and sealing legacy plaintext.
// Included by `sqlite.rs` after `shared/at_rest.rs`; mirrors `shared/sqlx_keys_writes.rs`.

fn op_insert_data_key(
    conn: &rusqlite::Connection,
    _events: &mut Vec<CommittedEvent>,
    scope: String,
    suite: Suite,
    master_key_id: String,
    wrapped: Vec<u8>,
    at: Timestamp,
) -> Result<(), StoreError> {
    exec(conn, SQL_INSERT_DATA_KEY, params![scope, suite.as_str(), master_key_id, wrapped, ms(at)])?;
    Ok(())
}

fn op_rewrap_data_keys(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    keys: Vec<DataKeyRecord>,
    audit: NewAudit,
) -> Result<(), StoreError> {
    for key in keys {
        let n = exec(conn, SQL_REWRAP_DATA_KEY, params![key.master_key_id, key.wrapped, ms(audit.at), key.id])?;
        if n != 1 {
            return Err(StoreError::NotFound("data key"));
        }
    }
    op_append_audit(conn, events, audit)
}

fn op_apply_seal_updates(
    conn: &rusqlite::Connection,
    _events: &mut Vec<CommittedEvent>,
    updates: Vec<SealUpdate>,
) -> Result<u64, StoreError> {
    // Zero the space the plaintext leaves behind, or it would linger in free page space
    // (new writes never put plaintext on disk, so this is needed only here).
    conn.pragma_update(None, "secure_delete", "ON").map_err(map_rerr)?;
    let result = apply_seal_updates(conn, updates);
    conn.pragma_update(None, "secure_delete", "OFF").map_err(map_rerr)?;
    result
}

fn apply_seal_updates(conn: &rusqlite::Connection, updates: Vec<SealUpdate>) -> Result<u64, StoreError> {
    let mut n = 0;
    for update in updates {
        n += match update {
            SealUpdate::Message { id, old, new } => exec(conn, SQL_SEAL_MESSAGE, params![new, id, old])?,
            SealUpdate::Version { message_id, version, old, new } => {
                exec(conn, SQL_SEAL_VERSION, params![new, message_id, version, old])?
            }
            SealUpdate::Event { id, old, new } => exec(conn, SQL_SEAL_EVENT, params![new, id, old])?,
            SealUpdate::Mfa { user_id, old, new } => exec(conn, SQL_SEAL_MFA, params![new, user_id, old])?,
        } as u64;
    }
    Ok(n)
}
