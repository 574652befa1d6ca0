// Dynamic membership's writes on SQLite's writer thread (rusqlite), running the statements of
// `shared/dynamic_sql.rs`. Included by `sqlite.rs` after `sqlite_writer.rs`.

fn op_set_channel_policy(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    channel: ChannelId,
    kind: PolicyKind,
    body: Option<String>,
    audit: NewAudit,
) -> Result<(), StoreError> {
    match body {
        Some(body) => exec(conn, SQL_UPSERT_POLICY, params![channel.0, kind.as_str(), body, ms(audit.at)])?,
        None => exec(conn, SQL_DELETE_POLICY, params![channel.0, kind.as_str()])?,
    };
    op_append_audit(conn, events, audit)
}

fn op_sync_membership(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    s: MembershipSync,
) -> Result<(Vec<UserId>, Vec<UserId>), StoreError> {
    let (mut joined, mut left) = (Vec::new(), Vec::new());
    for user in s.joins {
        if exec(conn, SQL_INSERT_MEMBER_FROM, params![s.channel.0, user.0, ms(s.at), s.source.as_str()])? == 1 {
            let event = Event::MemberJoined { channel_id: s.channel, user_id: user, actor_id: s.actor };
            r_append_event(conn, events, Audience::Channel(s.channel), s.at, event)?;
            joined.push(user);
        }
    }
    for user in s.leaves {
        if exec(conn, SQL_DELETE_MEMBER_FROM, params![s.channel.0, user.0, s.source.as_str()])? == 1 {
            let event = Event::MemberLeft { channel_id: s.channel, user_id: user, actor_id: s.actor };
            r_append_event(conn, events, Audience::ChannelAndUser(s.channel, user), s.at, event)?;
            left.push(user);
        }
    }
    Ok((joined, left))
}

fn op_set_location_sharing(
    conn: &rusqlite::Connection,
    _events: &mut Vec<CommittedEvent>,
    user: UserId,
    enabled: bool,
) -> Result<(), StoreError> {
    exec(conn, SQL_SET_LOCATION_SHARING, params![enabled, user.0])?;
    if !enabled {
        exec(conn, SQL_FORGET_LOCATION, params![user.0])?;
    }
    Ok(())
}

fn op_record_location(
    conn: &rusqlite::Connection,
    _events: &mut Vec<CommittedEvent>,
    user: UserId,
    (latitude, longitude, accuracy_m): (f64, f64, f64),
    at: Timestamp,
) -> Result<(), StoreError> {
    exec(conn, SQL_UPSERT_LOCATION, params![user.0, latitude, longitude, accuracy_m, ms(at)])?;
    Ok(())
}

fn op_save_geofence_state(
    conn: &rusqlite::Connection,
    _events: &mut Vec<CommittedEvent>,
    user: UserId,
    channel: ChannelId,
    state: Option<String>,
) -> Result<(), StoreError> {
    match state {
        Some(state) => exec(conn, SQL_UPSERT_PRESENCE, params![user.0, channel.0, state])?,
        None => exec(conn, SQL_DELETE_PRESENCE, params![user.0, channel.0])?,
    };
    Ok(())
}

fn op_purge_locations(conn: &rusqlite::Connection, _events: &mut Vec<CommittedEvent>, before: Timestamp) -> Result<u64, StoreError> {
    Ok(exec(conn, SQL_PURGE_LOCATIONS, params![ms(before)])? as u64)
}
