// Dynamic membership's writes for the sqlx writer (PostgreSQL); SQLite's are in
// `sqlite_dynamic_writer.rs`, with the same statements (`shared/dynamic_sql.rs`).

async fn op_set_channel_policy(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    channel: ChannelId,
    kind: PolicyKind,
    body: Option<String>,
    audit: NewAudit,
) -> Result<(), StoreError> {
    match body {
        Some(body) => {
            let q = sqlx::query(SQL_UPSERT_POLICY).bind(channel.0).bind(kind.as_str()).bind(body).bind(ms(audit.at));
            exec_sql(conn, q).await?;
        }
        None => {
            exec_sql(conn, sqlx::query(SQL_DELETE_POLICY).bind(channel.0).bind(kind.as_str())).await?;
        }
    }
    op_append_audit(conn, events, audit).await
}

async fn op_sync_membership(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    s: MembershipSync,
) -> Result<(Vec<UserId>, Vec<UserId>), StoreError> {
    let (mut joined, mut left) = (Vec::new(), Vec::new());
    for user in s.joins {
        let q = sqlx::query(SQL_INSERT_MEMBER_FROM).bind(s.channel.0).bind(user.0).bind(ms(s.at)).bind(s.source.as_str());
        if exec_sql(conn, q).await? == 1 {
            let event = Event::MemberJoined { channel_id: s.channel, user_id: user, actor_id: s.actor };
            append_event(conn, events, Audience::Channel(s.channel), s.at, event).await?;
            joined.push(user);
        }
    }
    for user in s.leaves {
        let q = sqlx::query(SQL_DELETE_MEMBER_FROM).bind(s.channel.0).bind(user.0).bind(s.source.as_str());
        if exec_sql(conn, q).await? == 1 {
            let event = Event::MemberLeft { channel_id: s.channel, user_id: user, actor_id: s.actor };
            append_event(conn, events, Audience::ChannelAndUser(s.channel, user), s.at, event).await?;
            left.push(user);
        }
    }
    Ok((joined, left))
}

async fn op_set_location_sharing(
    conn: &mut DbConn,
    _events: &mut Vec<CommittedEvent>,
    user: UserId,
    enabled: bool,
) -> Result<(), StoreError> {
    exec_sql(conn, sqlx::query(SQL_SET_LOCATION_SHARING).bind(enabled).bind(user.0)).await?;
    if !enabled {
        exec_sql(conn, sqlx::query(SQL_FORGET_LOCATION).bind(user.0)).await?;
    }
    Ok(())
}

async fn op_record_location(
    conn: &mut DbConn,
    _events: &mut Vec<CommittedEvent>,
    user: UserId,
    (latitude, longitude, accuracy_m): (f64, f64, f64),
    at: Timestamp,
) -> Result<(), StoreError> {
    let q = sqlx::query(SQL_UPSERT_LOCATION).bind(user.0).bind(latitude).bind(longitude).bind(accuracy_m).bind(ms(at));
    exec_sql(conn, q).await?;
    Ok(())
}

async fn op_save_geofence_state(
    conn: &mut DbConn,
    _events: &mut Vec<CommittedEvent>,
    user: UserId,
    channel: ChannelId,
    state: Option<String>,
) -> Result<(), StoreError> {
    match state {
        Some(state) => exec_sql(conn, sqlx::query(SQL_UPSERT_PRESENCE).bind(user.0).bind(channel.0).bind(state)).await?,
        None => exec_sql(conn, sqlx::query(SQL_DELETE_PRESENCE).bind(user.0).bind(channel.0)).await?,
    };
    Ok(())
}

async fn op_purge_locations(conn: &mut DbConn, _events: &mut Vec<CommittedEvent>, before: Timestamp) -> Result<u64, StoreError> {
    exec_sql(conn, sqlx::query(SQL_PURGE_LOCATIONS).bind(ms(before))).await
}
