// Retention, legal hold and the message chain on SQLite's writer thread (rusqlite), running
// the statements of `shared/retention_sql.rs`. Included by `sqlite.rs` after that file.

use concord_core::crypto::Suite;
use concord_core::message_chain::{link_hash, pruned_digest, sign_checkpoint};

/// Appends a link to `channel`'s chain whose number and predecessor `advanced` returned.
fn r_chain_link(
    conn: &rusqlite::Connection,
    suite: Suite,
    channel: i64,
    (link_no, prev): (i64, String),
    kind: LinkKind,
    (message_id, seq, version): (i64, i64, i64),
    canonical: &str,
) -> Result<(), StoreError> {
    let hash = link_hash(suite, &prev, canonical);
    exec(
        conn,
        SQL_INSERT_LINK,
        params![channel, link_no, kind.as_str(), message_id, seq, version, prev, hash, false],
    )?;
    exec(conn, SQL_CHAIN_SET_HEAD, params![hash, channel])?;
    Ok(())
}

/// For an edit or a deletion: the next link's number and its predecessor's hash.
fn r_chain_advance(conn: &rusqlite::Connection, channel: i64) -> Result<(i64, String), StoreError> {
    conn.prepare_cached(SQL_CHAIN_ADVANCE)
        .and_then(|mut st| st.query_row([channel], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(map_rerr)
}

fn op_set_retention_policy(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    scope: String,
    keep_days: Option<Option<i64>>,
    at: Timestamp,
    audit: NewAudit,
) -> Result<(), StoreError> {
    op_append_audit(conn, events, audit)?;
    match keep_days {
        Some(days) => exec(conn, SQL_UPSERT_RETENTION, params![scope, days, ms(at)])?,
        None => exec(conn, SQL_DELETE_RETENTION, params![scope])?,
    };
    Ok(())
}

fn op_create_legal_hold(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    hold: NewLegalHold,
    mut audit: NewAudit,
) -> Result<i64, StoreError> {
    let (user, channel) = hold_columns(hold.target);
    let id = r_insert_returning(
        conn,
        SQL_INSERT_HOLD,
        params![user, channel, hold.reason, hold.created_by.0, ms(hold.created_at), hold.ends_at.map(ms)],
    )?;
    audit.target = audit.target.replace("{id}", &id.to_string());
    op_append_audit(conn, events, audit)?;
    Ok(id)
}

fn op_release_legal_hold(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    id: i64,
    by: UserId,
    at: Timestamp,
    audit: NewAudit,
) -> Result<bool, StoreError> {
    if exec(conn, SQL_RELEASE_HOLD, params![ms(at), by.0, id])? == 0 {
        return Ok(false);
    }
    op_append_audit(conn, events, audit)?;
    Ok(true)
}

fn r_count(conn: &rusqlite::Connection, sql: &str, id: i64) -> Result<i64, StoreError> {
    conn.prepare_cached(sql).and_then(|mut st| st.query_row([id], |r| r.get(0))).map_err(map_rerr)
}

fn op_prune_messages(conn: &rusqlite::Connection, events: &mut Vec<CommittedEvent>, plan: PrunePlan) -> Result<PruneReport, StoreError> {
    let held: std::collections::HashSet<i64> = plan.held_users.iter().map(|u| u.0).collect();
    let mut report = PruneReport { dry_run: plan.dry_run, ..Default::default() };
    for (channel, cutoff) in &plan.channels {
        let channel = channel.0;
        let budget = plan.max_messages.saturating_sub(report.messages as usize);
        let candidates = conn
            .prepare_cached(SQL_PRUNE_CANDIDATES)
            .and_then(|mut st| {
                st.query_map(params![channel, ms(*cutoff)], |r| {
                    Ok(PruneCandidate {
                        id: r.get(0)?,
                        sender: r.get(1)?,
                        root: r.get(2)?,
                        pinned: r.get::<_, Option<i64>>(3)?.is_some(),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(map_rerr)?;
        if candidates.is_empty() {
            continue;
        }
        let live_roots = conn
            .prepare_cached(SQL_LIVE_ROOTS)
            .and_then(|mut st| st.query_map(params![channel, ms(*cutoff)], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>())
            .map_err(map_rerr)?;
        let (chosen, more) = choose_prunable(candidates, &live_roots, &held, budget);
        report.more_remaining |= more;
        if chosen.is_empty() {
            continue;
        }
        let pruning: std::collections::HashSet<i64> = chosen.iter().map(|m| m.id).collect();
        let files = r_prunable_files(conn, channel, *cutoff, &pruning, &held)?;
        report.files += files.len() as u64;
        for m in &chosen {
            let versions = r_count(conn, SQL_COUNT_VERSIONS, m.id)?;
            let reactions = r_count(conn, SQL_COUNT_REACTIONS, m.id)?;
            let mentions = r_count(conn, SQL_COUNT_MENTIONS, m.id)?;
            count_into(&mut report, channel, versions, reactions, mentions, m.pinned);
            report.pruned_message_ids.push(MessageId(m.id));
            if plan.dry_run {
                continue;
            }
            exec(conn, SQL_DELETE_VERSIONS, [m.id])?;
            exec(conn, SQL_DELETE_REACTIONS, [m.id])?;
            exec(conn, SQL_DELETE_MENTIONS, [m.id])?;
            exec(conn, SQL_MARK_LINKS_PRUNED, params![true, m.id])?;
            exec(conn, SQL_DELETE_MESSAGE_FILES, [m.id])?;
            exec(conn, SQL_DELETE_MESSAGE, [m.id])?;
        }
        if plan.dry_run {
            continue;
        }
        r_purge_files(conn, events, ChannelId(channel), &files, plan.at)?;
        let ids: Vec<MessageId> = chosen.iter().map(|m| MessageId(m.id)).collect();
        for chunk in ids.chunks(PRUNED_IDS_PER_EVENT) {
            let event = Event::MessagesPruned { channel_id: ChannelId(channel), message_ids: chunk.to_vec() };
            r_append_event(conn, events, Audience::Channel(ChannelId(channel)), plan.at, event)?;
        }
        r_chain_checkpoint(conn, &plan, channel)?;
    }
    if report.messages > 0 || plan.audit_when_empty {
        op_append_audit(conn, events, run_audit(plan.audit, &report))?;
    }
    Ok(report)
}

/// Drops the fully pruned prefix of the channel's links and signs where verification now
/// starts, with the digest of the pruned links after it.
fn r_chain_checkpoint(conn: &rusqlite::Connection, plan: &PrunePlan, channel: i64) -> Result<(), StoreError> {
    let key = plan.signing_key.as_deref().ok_or_else(|| StoreError::Unavailable("no signing key for the chain checkpoint".into()))?;
    let (mut through, mut hash): (i64, String) = conn
        .prepare_cached(SQL_LATEST_CHECKPOINT)
        .and_then(|mut st| st.query_row([channel], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(map_rerr)?
        .unwrap_or((0, String::new()));
    let first_kept: Option<i64> = conn
        .prepare_cached(SQL_FIRST_KEPT_LINK)
        .and_then(|mut st| st.query_row(params![channel, false], |r| r.get(0)))
        .map_err(map_rerr)?;
    let prefix_end = match first_kept {
        Some(n) => n - 1,
        None => conn
            .prepare_cached(SQL_CHAIN_STATE)
            .and_then(|mut st| st.query_row([channel], |r| r.get::<_, i64>(0)))
            .map_err(map_rerr)?,
    };
    if prefix_end > through {
        hash = conn
            .prepare_cached(SQL_LINK_HASH)
            .and_then(|mut st| st.query_row([channel, prefix_end], |r| r.get(0)))
            .map_err(map_rerr)?;
        through = prefix_end;
        exec(conn, SQL_DROP_LINKS, [channel, through])?;
    }
    let pruned: Vec<i64> = conn
        .prepare_cached(SQL_PRUNED_LINKS)
        .and_then(|mut st| st.query_map(params![channel, true], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>())
        .map_err(map_rerr)?;
    let digest = pruned_digest(key.suite(), &pruned);
    let (public, signature) = sign_checkpoint(key, channel, through, &hash, &digest);
    exec(
        conn,
        SQL_INSERT_CHAIN_CHECKPOINT,
        params![channel, through, hash, digest, key.suite().as_str(), public, signature, ms(plan.at)],
    )?;
    Ok(())
}
