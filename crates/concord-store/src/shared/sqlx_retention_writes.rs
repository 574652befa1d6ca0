// Retention, legal hold and the message chain for the sqlx writer (PostgreSQL); SQLite's are
// in `sqlite_retention_writer.rs`, with the same statements (`shared/retention_sql.rs`).

use concord_core::crypto::Suite;
use concord_core::message_chain::{link_hash, pruned_digest, sign_checkpoint};

/// Appends a link to `channel`'s chain whose number and predecessor `advanced` returned.
async fn chain_link(
    conn: &mut DbConn,
    suite: Suite,
    channel: i64,
    (link_no, prev): (i64, String),
    kind: LinkKind,
    (message_id, seq, version): (i64, i64, i64),
    canonical: &str,
) -> Result<(), StoreError> {
    let hash = link_hash(suite, &prev, canonical);
    let q = sqlx::query(SQL_INSERT_LINK)
        .bind(channel)
        .bind(link_no)
        .bind(kind.as_str())
        .bind(message_id)
        .bind(seq)
        .bind(version)
        .bind(prev)
        .bind(&hash)
        .bind(false);
    exec_sql(conn, q).await?;
    exec_sql(conn, sqlx::query(SQL_CHAIN_SET_HEAD).bind(hash).bind(channel)).await?;
    Ok(())
}

/// For an edit or a deletion: the next link's number and its predecessor's hash.
async fn chain_advance(conn: &mut DbConn, channel: i64) -> Result<(i64, String), StoreError> {
    let row = sqlx::query(SQL_CHAIN_ADVANCE).bind(channel).fetch_one(&mut *conn).await.map_err(map_err)?;
    Ok((row.try_get(0).map_err(map_err)?, row.try_get(1).map_err(map_err)?))
}

async fn op_set_retention_policy(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    scope: String,
    keep_days: Option<Option<i64>>,
    at: Timestamp,
    audit: NewAudit,
) -> Result<(), StoreError> {
    op_append_audit(conn, events, audit).await?;
    match keep_days {
        Some(days) => exec_sql(conn, sqlx::query(SQL_UPSERT_RETENTION).bind(scope).bind(days).bind(ms(at))).await?,
        None => exec_sql(conn, sqlx::query(SQL_DELETE_RETENTION).bind(scope)).await?,
    };
    Ok(())
}

async fn op_create_legal_hold(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    hold: NewLegalHold,
    mut audit: NewAudit,
) -> Result<i64, StoreError> {
    let (user, channel) = hold_columns(hold.target);
    let id: i64 = sqlx::query_scalar(SQL_INSERT_HOLD)
        .bind(user)
        .bind(channel)
        .bind(&hold.reason)
        .bind(hold.created_by.0)
        .bind(ms(hold.created_at))
        .bind(hold.ends_at.map(ms))
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    audit.target = audit.target.replace("{id}", &id.to_string());
    op_append_audit(conn, events, audit).await?;
    Ok(id)
}

async fn op_release_legal_hold(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    id: i64,
    by: UserId,
    at: Timestamp,
    audit: NewAudit,
) -> Result<bool, StoreError> {
    if exec_sql(conn, sqlx::query(SQL_RELEASE_HOLD).bind(ms(at)).bind(by.0).bind(id)).await? == 0 {
        return Ok(false);
    }
    op_append_audit(conn, events, audit).await?;
    Ok(true)
}

async fn count_of(conn: &mut DbConn, sql: &'static str, id: i64) -> Result<i64, StoreError> {
    sqlx::query_scalar(sql).bind(id).fetch_one(&mut *conn).await.map_err(map_err)
}

async fn op_prune_messages(conn: &mut DbConn, events: &mut Vec<CommittedEvent>, plan: PrunePlan) -> Result<PruneReport, StoreError> {
    let held: std::collections::HashSet<i64> = plan.held_users.iter().map(|u| u.0).collect();
    let mut report = PruneReport { dry_run: plan.dry_run, ..Default::default() };
    for (channel, cutoff) in &plan.channels {
        let channel = channel.0;
        let budget = plan.max_messages.saturating_sub(report.messages as usize);
        let candidates = sqlx::query(SQL_PRUNE_CANDIDATES)
            .bind(channel)
            .bind(ms(*cutoff))
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?
            .iter()
            .map(|r| {
                Ok(PruneCandidate {
                    id: r.try_get(0)?,
                    sender: r.try_get(1)?,
                    root: r.try_get(2)?,
                    pinned: r.try_get::<Option<i64>, _>(3)?.is_some(),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(map_err)?;
        if candidates.is_empty() {
            continue;
        }
        let live_roots: Vec<i64> = sqlx::query_scalar(SQL_LIVE_ROOTS)
            .bind(channel)
            .bind(ms(*cutoff))
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        let (chosen, more) = choose_prunable(candidates, &live_roots, &held, budget);
        report.more_remaining |= more;
        if chosen.is_empty() {
            continue;
        }
        let pruning: std::collections::HashSet<i64> = chosen.iter().map(|m| m.id).collect();
        let files = sx_prunable_files(conn, channel, *cutoff, &pruning, &held).await?;
        report.files += files.len() as u64;
        for m in &chosen {
            let versions = count_of(conn, SQL_COUNT_VERSIONS, m.id).await?;
            let reactions = count_of(conn, SQL_COUNT_REACTIONS, m.id).await?;
            let mentions = count_of(conn, SQL_COUNT_MENTIONS, m.id).await?;
            count_into(&mut report, channel, versions, reactions, mentions, m.pinned);
            report.pruned_message_ids.push(MessageId(m.id));
            if plan.dry_run {
                continue;
            }
            for sql in [SQL_DELETE_VERSIONS, SQL_DELETE_REACTIONS, SQL_DELETE_MENTIONS] {
                exec_sql(conn, sqlx::query(sql).bind(m.id)).await?;
            }
            exec_sql(conn, sqlx::query(SQL_MARK_LINKS_PRUNED).bind(true).bind(m.id)).await?;
            exec_sql(conn, sqlx::query(SQL_DELETE_MESSAGE_FILES).bind(m.id)).await?;
            exec_sql(conn, sqlx::query(SQL_DELETE_MESSAGE).bind(m.id)).await?;
        }
        if plan.dry_run {
            continue;
        }
        sx_purge_files(conn, events, ChannelId(channel), &files, plan.at).await?;
        let ids: Vec<MessageId> = chosen.iter().map(|m| MessageId(m.id)).collect();
        for chunk in ids.chunks(PRUNED_IDS_PER_EVENT) {
            let event = Event::MessagesPruned { channel_id: ChannelId(channel), message_ids: chunk.to_vec() };
            append_event(conn, events, Audience::Channel(ChannelId(channel)), plan.at, event).await?;
        }
        chain_checkpoint(conn, &plan, channel).await?;
    }
    if report.messages > 0 || plan.audit_when_empty {
        op_append_audit(conn, events, run_audit(plan.audit, &report)).await?;
    }
    Ok(report)
}

/// Drops the fully pruned prefix of the channel's links and signs where verification now
/// starts, with the digest of the pruned links after it.
async fn chain_checkpoint(conn: &mut DbConn, plan: &PrunePlan, channel: i64) -> Result<(), StoreError> {
    let key = plan.signing_key.as_deref().ok_or_else(|| StoreError::Unavailable("no signing key for the chain checkpoint".into()))?;
    let latest = sqlx::query(SQL_LATEST_CHECKPOINT).bind(channel).fetch_optional(&mut *conn).await.map_err(map_err)?;
    let (mut through, mut hash): (i64, String) = match latest {
        Some(r) => (r.try_get(0).map_err(map_err)?, r.try_get(1).map_err(map_err)?),
        None => (0, String::new()),
    };
    let first_kept: Option<i64> = sqlx::query_scalar(SQL_FIRST_KEPT_LINK)
        .bind(channel)
        .bind(false)
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    let prefix_end = match first_kept {
        Some(n) => n - 1,
        None => {
            let r = sqlx::query(SQL_CHAIN_STATE).bind(channel).fetch_one(&mut *conn).await.map_err(map_err)?;
            r.try_get::<i64, _>(0).map_err(map_err)?
        }
    };
    if prefix_end > through {
        hash = sqlx::query_scalar(SQL_LINK_HASH)
            .bind(channel)
            .bind(prefix_end)
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?;
        through = prefix_end;
        exec_sql(conn, sqlx::query(SQL_DROP_LINKS).bind(channel).bind(through)).await?;
    }
    let pruned: Vec<i64> = sqlx::query_scalar(SQL_PRUNED_LINKS)
        .bind(channel)
        .bind(true)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
    let digest = pruned_digest(key.suite(), &pruned);
    let (public, signature) = sign_checkpoint(key, channel, through, &hash, &digest);
    let q = sqlx::query(SQL_INSERT_CHAIN_CHECKPOINT)
        .bind(channel)
        .bind(through)
        .bind(hash)
        .bind(digest)
        .bind(key.suite().as_str())
        .bind(public)
        .bind(signature)
        .bind(ms(plan.at));
    exec_sql(conn, q).await?;
    Ok(())
}
