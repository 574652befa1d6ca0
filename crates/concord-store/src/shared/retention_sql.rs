// Included by both backends: the statements behind retention policies, legal holds, message
// pruning and each channel's hash chain, and their reads. `$n` parameters are numbered in
// order of first appearance (see org_sql.rs), so the SQLite writer can bind them positionally.
// Writes: `sqlite_retention_writer.rs` (rusqlite) and `sqlx_retention_writes.rs` (PostgreSQL).

use concord_core::message_chain::{
    ChainLink, ChainMessage, ChainVersion, ChannelChainData, ChannelCheckpoint, LinkKind,
};
use concord_core::store::{
    ChannelPruneCount, HoldTarget, LegalHoldRecord, NewLegalHold, PrunePlan, PruneReport,
    RetentionPolicyRecord,
};

const SQL_UPSERT_RETENTION: &str = "INSERT INTO retention_policies (scope, keep_days, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (scope) DO UPDATE SET keep_days = excluded.keep_days, updated_at = excluded.updated_at";
const SQL_DELETE_RETENTION: &str = "DELETE FROM retention_policies WHERE scope = $1";
const SQL_INSERT_HOLD: &str = "INSERT INTO legal_holds (user_id, channel_id, reason, created_by, created_at, ends_at) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
const SQL_RELEASE_HOLD: &str =
    "UPDATE legal_holds SET released_at = $1, released_by = $2 WHERE id = $3 AND released_at IS NULL";

// The chain. A send already updates its channel row for `last_seq`; it takes the chain's head
// from the same statement, so the chain costs a send no extra read.
const SQL_SEND_ADVANCE: &str = "UPDATE channels SET last_seq = last_seq + 1, chain_links = chain_links + 1 \
     WHERE id = $1 RETURNING last_seq, chain_links, chain_head";
const SQL_CHAIN_ADVANCE: &str =
    "UPDATE channels SET chain_links = chain_links + 1 WHERE id = $1 RETURNING chain_links, chain_head";
const SQL_CHAIN_SET_HEAD: &str = "UPDATE channels SET chain_head = $1 WHERE id = $2";
const SQL_INSERT_LINK: &str = "INSERT INTO message_chain \
     (channel_id, link_no, kind, message_id, msg_seq, version, prev_hash, hash, pruned) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

// Pruning.
/// Expired messages of a channel, oldest first.
const SQL_PRUNE_CANDIDATES: &str = "SELECT id, sender_id, thread_root_id, pinned_at FROM messages \
     WHERE channel_id = $1 AND created_at <= $2 ORDER BY seq";
/// Threads with a reply that has not expired: they stay whole.
const SQL_LIVE_ROOTS: &str = "SELECT DISTINCT thread_root_id FROM messages \
     WHERE channel_id = $1 AND thread_root_id IS NOT NULL AND created_at > $2";
const SQL_COUNT_VERSIONS: &str = "SELECT COUNT(*) FROM message_versions WHERE message_id = $1";
const SQL_COUNT_REACTIONS: &str = "SELECT COUNT(*) FROM reactions WHERE message_id = $1";
const SQL_COUNT_MENTIONS: &str = "SELECT COUNT(*) FROM message_mentions WHERE message_id = $1";
const SQL_DELETE_VERSIONS: &str = "DELETE FROM message_versions WHERE message_id = $1";
const SQL_DELETE_REACTIONS: &str = "DELETE FROM reactions WHERE message_id = $1";
const SQL_DELETE_MENTIONS: &str = "DELETE FROM message_mentions WHERE message_id = $1";
const SQL_DELETE_MESSAGE: &str = "DELETE FROM messages WHERE id = $1";
const SQL_MARK_LINKS_PRUNED: &str = "UPDATE message_chain SET pruned = $1 WHERE message_id = $2";
const SQL_LATEST_CHECKPOINT: &str = "SELECT through_link, hash FROM message_chain_checkpoints \
     WHERE channel_id = $1 ORDER BY id DESC LIMIT 1";
const SQL_FIRST_KEPT_LINK: &str = "SELECT MIN(link_no) FROM message_chain WHERE channel_id = $1 AND pruned = $2";
const SQL_CHAIN_STATE: &str = "SELECT chain_links, chain_head FROM channels WHERE id = $1";
const SQL_LINK_HASH: &str = "SELECT hash FROM message_chain WHERE channel_id = $1 AND link_no = $2";
const SQL_DROP_LINKS: &str = "DELETE FROM message_chain WHERE channel_id = $1 AND link_no <= $2";
const SQL_PRUNED_LINKS: &str =
    "SELECT link_no FROM message_chain WHERE channel_id = $1 AND pruned = $2 ORDER BY link_no";
const SQL_INSERT_CHAIN_CHECKPOINT: &str = "INSERT INTO message_chain_checkpoints \
     (channel_id, through_link, hash, pruned_digest, suite, public_key, signature, at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Message ids per `messages.pruned` event.
const PRUNED_IDS_PER_EVENT: usize = 1_000;

/// An expired message as pruning sees it.
struct PruneCandidate {
    id: i64,
    sender: i64,
    root: Option<i64>,
    pinned: bool,
}

/// Chooses what to prune among a channel's expired messages: a thread (root and replies) goes
/// only as a whole, when none of it is held and every reply has expired; whole units are taken
/// oldest first until `budget` is reached. Returns the chosen messages, replies before their
/// root (so the root's row is deleted last), and whether expired messages were left for later.
fn choose_prunable(
    candidates: Vec<PruneCandidate>,
    live_roots: &[i64],
    held: &std::collections::HashSet<i64>,
    budget: usize,
) -> (Vec<PruneCandidate>, bool) {
    use std::collections::HashMap;
    let live: std::collections::HashSet<i64> = live_roots.iter().copied().collect();
    let mut order: Vec<i64> = Vec::new();
    let mut units: HashMap<i64, Vec<PruneCandidate>> = HashMap::new();
    for c in candidates {
        let key = c.root.unwrap_or(c.id);
        if !units.contains_key(&key) {
            order.push(key);
        }
        units.entry(key).or_default().push(c);
    }
    let mut chosen = Vec::new();
    let mut more = false;
    for key in order {
        let unit = units.remove(&key).unwrap_or_default();
        let root_expired = unit.iter().any(|c| c.id == key);
        if live.contains(&key) || !root_expired || unit.iter().any(|c| held.contains(&c.sender)) {
            continue;
        }
        if chosen.len() >= budget {
            more = true;
            break;
        }
        let (root, replies): (Vec<_>, Vec<_>) = unit.into_iter().partition(|c| c.id == key);
        chosen.extend(replies);
        chosen.extend(root);
    }
    (chosen, more)
}

/// The audit entry of a run, its `after` the report.
fn run_audit(mut audit: NewAudit, report: &PruneReport) -> NewAudit {
    audit.after = serde_json::to_value(report).ok();
    audit
}

fn hold_columns(target: HoldTarget) -> (Option<i64>, Option<i64>) {
    match target {
        HoldTarget::User(u) => (Some(u.0), None),
        HoldTarget::Channel(c) => (None, Some(c.0)),
    }
}

impl SqlStore {
    async fn load_retention_policies(&self) -> Result<Vec<RetentionPolicyRecord>, sqlx::Error> {
        let rows = sqlx::query("SELECT scope, keep_days, updated_at FROM retention_policies ORDER BY scope")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RetentionPolicyRecord {
                    scope: r.try_get("scope")?,
                    keep_days: r.try_get("keep_days")?,
                    updated_at: ts(r.try_get("updated_at")?),
                })
            })
            .collect()
    }

    async fn load_legal_holds(&self) -> Result<Vec<LegalHoldRecord>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, user_id, channel_id, reason, created_by, created_at, ends_at, released_at, released_by \
             FROM legal_holds ORDER BY id DESC",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let user: Option<i64> = r.try_get("user_id")?;
                let channel: Option<i64> = r.try_get("channel_id")?;
                let target = match (user, channel) {
                    (Some(u), _) => HoldTarget::User(UserId(u)),
                    (None, Some(c)) => HoldTarget::Channel(ChannelId(c)),
                    (None, None) => return Err(sqlx::Error::Decode("a legal hold without a target".into())),
                };
                Ok(LegalHoldRecord {
                    id: r.try_get("id")?,
                    target,
                    reason: r.try_get("reason")?,
                    created_by: UserId(r.try_get("created_by")?),
                    created_at: ts(r.try_get("created_at")?),
                    ends_at: r.try_get::<Option<i64>, _>("ends_at")?.map(ts),
                    released_at: r.try_get::<Option<i64>, _>("released_at")?.map(ts),
                    released_by: r.try_get::<Option<i64>, _>("released_by")?.map(UserId),
                })
            })
            .collect()
    }

    async fn load_channel_kinds(&self) -> Result<Vec<(ChannelId, ChannelKind)>, sqlx::Error> {
        let rows = sqlx::query("SELECT id, kind FROM channels ORDER BY id").fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                Ok((ChannelId(r.try_get("id")?), ChannelKind::parse(&kind).unwrap_or(ChannelKind::Private)))
            })
            .collect()
    }

    /// The chain and the rows it covers, in one snapshot. Bodies are read as stored: when
    /// bodies are encrypted at rest, this is where they are decrypted for the verifier.
    async fn load_channel_chain(&self, channel: ChannelId) -> Result<Option<ChannelChainData>, sqlx::Error> {
        let mut conn = self.read.acquire().await?;
        let mut tx = begin_snapshot(&mut conn).await?;
        let Some(head) = sqlx::query("SELECT chain_links, chain_head, chain_base_seq FROM channels WHERE id = $1")
            .bind(channel.0)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let checkpoint = sqlx::query(
            "SELECT id, through_link, hash, pruned_digest, suite, public_key, signature, at \
             FROM message_chain_checkpoints WHERE channel_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(channel.0)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| -> Result<ChannelCheckpoint, sqlx::Error> {
            let suite: String = r.try_get("suite")?;
            Ok(ChannelCheckpoint {
                id: r.try_get("id")?,
                channel_id: channel.0,
                through_link: r.try_get("through_link")?,
                hash: r.try_get("hash")?,
                pruned_digest: r.try_get("pruned_digest")?,
                suite: concord_core::crypto::Suite::parse(&suite)
                    .ok_or_else(|| sqlx::Error::Decode("unknown crypto suite".into()))?,
                public_key: r.try_get("public_key")?,
                signature: r.try_get("signature")?,
                at_ms: r.try_get("at")?,
            })
        })
        .transpose()?;
        let links = sqlx::query(
            "SELECT link_no, kind, message_id, msg_seq, version, prev_hash, hash, pruned FROM message_chain \
             WHERE channel_id = $1 ORDER BY link_no",
        )
        .bind(channel.0)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            let kind: String = r.try_get("kind")?;
            Ok(ChainLink {
                link_no: r.try_get("link_no")?,
                kind: LinkKind::parse(&kind).ok_or_else(|| sqlx::Error::Decode("unknown chain link kind".into()))?,
                message_id: r.try_get("message_id")?,
                msg_seq: r.try_get("msg_seq")?,
                version: r.try_get("version")?,
                prev_hash: r.try_get("prev_hash")?,
                hash: r.try_get("hash")?,
                pruned: r.try_get("pruned")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let messages = sqlx::query(
            "SELECT id, seq, sender_id, thread_root_id, created_at, body, deleted_at FROM messages \
             WHERE channel_id = $1 ORDER BY seq",
        )
        .bind(channel.0)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok(ChainMessage {
                id: r.try_get("id")?,
                seq: r.try_get("seq")?,
                sender: r.try_get("sender_id")?,
                thread_root: r.try_get("thread_root_id")?,
                created_ms: r.try_get("created_at")?,
                body: r.try_get("body")?,
                deleted_ms: r.try_get("deleted_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let versions = sqlx::query(
            "SELECT v.message_id, v.version, v.created_at, v.body FROM message_versions v \
             JOIN messages m ON m.id = v.message_id WHERE m.channel_id = $1",
        )
        .bind(channel.0)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok(ChainVersion {
                message_id: r.try_get("message_id")?,
                version: r.try_get("version")?,
                at_ms: r.try_get("created_at")?,
                body: r.try_get("body")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        tx.commit().await?;
        Ok(Some(ChannelChainData {
            channel_id: channel.0,
            chain_links: head.try_get("chain_links")?,
            chain_head: head.try_get("chain_head")?,
            base_seq: head.try_get("chain_base_seq")?,
            links,
            messages,
            versions,
            checkpoint,
        }))
    }
}

/// Adds one message's counts to its channel's.
fn count_into(report: &mut PruneReport, channel: i64, versions: i64, reactions: i64, mentions: i64, pinned: bool) {
    let idx = match report.channels.iter().position(|c| c.channel_id == channel) {
        Some(i) => i,
        None => {
            report.channels.push(ChannelPruneCount { channel_id: channel, ..Default::default() });
            report.channels.len() - 1
        }
    };
    let c = &mut report.channels[idx];
    c.messages += 1;
    c.versions += versions as u64;
    c.reactions += reactions as u64;
    c.mentions += mentions as u64;
    c.pins += u64::from(pinned);
    report.messages += 1;
    report.versions += versions as u64;
    report.reactions += reactions as u64;
    report.mentions += mentions as u64;
    report.pins += u64::from(pinned);
}
