//! Tamper evidence for each channel's messages: every change (a message created, edited or
//! deleted) appends a link `hash = H(prev_hash "\n" canonical change)` to its channel's chain,
//! SHA-256 or SM3 per suite (the audit log's [`chain_hash`]). The store's writer computes it in
//! the transaction that makes the change, from the plaintext fields (not the stored bytes, so
//! encryption at rest composes), and keeps the head in the channel's row.
//!
//! [`verify_channel`] recomputes every link from the stored rows and names the first message
//! or change that was edited, deleted, inserted or reordered behind the server's back. When
//! retention prunes messages, their links are marked pruned (content gone, hash kept) and the
//! longest fully pruned prefix of links is dropped; a checkpoint signed with the server's key
//! then states the head of the dropped prefix and a digest of the pruned links after it, so
//! verification starts from the checkpoint and still covers everything kept.

use crate::audit::chain_hash;
use crate::crypto::{self, Suite};
use std::collections::{HashMap, HashSet};

/// What a link records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    Create,
    Edit,
    Delete,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Create => "create",
            LinkKind::Edit => "edit",
            LinkKind::Delete => "delete",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "create" => LinkKind::Create,
            "edit" => LinkKind::Edit,
            "delete" => LinkKind::Delete,
            _ => return None,
        })
    }
}

/// The canonical encoding of a message's creation: what the link hashes.
pub fn canonical_create(
    channel: i64,
    seq: i64,
    message_id: i64,
    sender: i64,
    thread_root: Option<i64>,
    created_ms: i64,
    text: &str,
) -> String {
    serde_json::json!([
        "create",
        channel,
        seq,
        message_id,
        sender,
        thread_root,
        created_ms,
        text
    ])
    .to_string()
}

/// The canonical encoding of an edit (the message's `version`-th text).
pub fn canonical_edit(
    channel: i64,
    seq: i64,
    message_id: i64,
    version: i64,
    at_ms: i64,
    text: &str,
) -> String {
    serde_json::json!(["edit", channel, seq, message_id, version, at_ms, text]).to_string()
}

/// The canonical encoding of a deletion.
pub fn canonical_delete(channel: i64, seq: i64, message_id: i64, at_ms: i64) -> String {
    serde_json::json!(["delete", channel, seq, message_id, at_ms]).to_string()
}

/// The next link's hash.
pub fn link_hash(suite: Suite, prev_hash: &str, canonical: &str) -> String {
    chain_hash(suite, prev_hash, canonical)
}

/// The digest of the pruned links after a checkpoint (sorted link numbers).
pub fn pruned_digest(suite: Suite, pruned_links: &[i64]) -> String {
    let text = pruned_links
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    hex::encode(suite.hash(text.as_bytes()))
}

/// What a channel checkpoint signs.
pub fn checkpoint_message(
    channel: i64,
    through_link: i64,
    hash: &str,
    pruned_digest: &str,
) -> Vec<u8> {
    format!("concord channel checkpoint\n{channel}\n{through_link}\n{hash}\n{pruned_digest}")
        .into_bytes()
}

/// Signs a channel checkpoint: the public key and the signature, both hex.
pub fn sign_checkpoint(
    key: &crypto::SigningKey,
    channel: i64,
    through_link: i64,
    hash: &str,
    pruned_digest: &str,
) -> (String, String) {
    let message = checkpoint_message(channel, through_link, hash, pruned_digest);
    (
        hex::encode(key.public_key()),
        hex::encode(key.sign(&message)),
    )
}

/// One stored link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainLink {
    pub link_no: i64,
    pub kind: LinkKind,
    pub message_id: i64,
    pub msg_seq: i64,
    pub version: i64,
    pub prev_hash: String,
    pub hash: String,
    pub pruned: bool,
}

/// A stored message as the verifier reads it (the body in plaintext).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainMessage {
    pub id: i64,
    pub seq: i64,
    pub sender: i64,
    pub thread_root: Option<i64>,
    pub created_ms: i64,
    pub body: String,
    pub deleted_ms: Option<i64>,
}

/// A stored edit-history row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainVersion {
    pub message_id: i64,
    pub version: i64,
    pub at_ms: i64,
    pub body: String,
}

/// A signed checkpoint of a channel's chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelCheckpoint {
    pub id: i64,
    pub channel_id: i64,
    pub through_link: i64,
    pub hash: String,
    pub pruned_digest: String,
    pub suite: Suite,
    /// Hex.
    pub public_key: String,
    /// Hex.
    pub signature: String,
    pub at_ms: i64,
}

/// Everything stored about one channel's chain, read in one snapshot.
#[derive(Clone, Debug, Default)]
pub struct ChannelChainData {
    pub channel_id: i64,
    /// Links appended so far (the newest link's number).
    pub chain_links: i64,
    pub chain_head: String,
    /// Messages at or below this sequence number predate the chain.
    pub base_seq: i64,
    /// Links after the latest checkpoint, by number.
    pub links: Vec<ChainLink>,
    /// Messages of the channel, by sequence number.
    pub messages: Vec<ChainMessage>,
    pub versions: Vec<ChainVersion>,
    /// The newest checkpoint, if retention has pruned here.
    pub checkpoint: Option<ChannelCheckpoint>,
}

/// The first sign of tampering found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainTamper {
    #[error("message seq {seq} (id {message_id}) was edited: {what} no longer matches its hash")]
    Edited {
        seq: i64,
        message_id: i64,
        what: String,
    },
    #[error("message seq {seq} (id {message_id}) was deleted from the database")]
    Deleted { seq: i64, message_id: i64 },
    #[error("message seq {seq} (id {message_id}) was inserted: no change in the chain created it")]
    Inserted { seq: i64, message_id: i64 },
    #[error(
        "version {version} of message id {message_id} was inserted: no edit in the chain made it"
    )]
    VersionInserted { message_id: i64, version: i64 },
    #[error("message id {message_id} was moved from seq {was} to seq {now}")]
    Reordered { message_id: i64, was: i64, now: i64 },
    #[error("change {link_no} of the chain was removed, rewritten or moved")]
    ChainBroken { link_no: i64 },
    #[error("the newest changes were removed: the chain ends before change {expected}")]
    Truncated { expected: i64 },
    #[error(
        "checkpoint {checkpoint} has a bad signature or was signed by a key that is not this server's"
    )]
    BadCheckpoint { checkpoint: i64 },
    #[error(
        "changes are marked pruned that no signed retention run pruned (checkpoint {checkpoint:?})"
    )]
    PrunedWithoutCheckpoint { checkpoint: Option<i64> },
}

/// What a successful verification covered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainVerified {
    /// Links checked (after the checkpoint), pruned ones included.
    pub links: usize,
    /// Messages whose content was checked.
    pub messages: usize,
    /// Messages older than the chain (sent before it existed), not covered.
    pub unchained_messages: usize,
    pub checkpoint_through: Option<i64>,
}

/// Checks a channel's chain against its stored rows and its newest checkpoint, whose key must
/// be `trusted_public_key` (hex), the server's own.
pub fn verify_channel(
    suite: Suite,
    data: &ChannelChainData,
    trusted_public_key: &str,
) -> Result<ChainVerified, ChainTamper> {
    let (mut expected_prev, mut expected_no) = match &data.checkpoint {
        Some(cp) => {
            let signature = hex::decode(&cp.signature).unwrap_or_default();
            let key = hex::decode(&cp.public_key).unwrap_or_default();
            let message =
                checkpoint_message(cp.channel_id, cp.through_link, &cp.hash, &cp.pruned_digest);
            if cp.public_key != trusted_public_key
                || cp.suite != suite
                || cp.channel_id != data.channel_id
                || !crypto::verify(suite, &key, &message, &signature)
            {
                return Err(ChainTamper::BadCheckpoint { checkpoint: cp.id });
            }
            (cp.hash.clone(), cp.through_link + 1)
        }
        None => (String::new(), 1),
    };
    let pruned: Vec<i64> = data
        .links
        .iter()
        .filter(|l| l.pruned)
        .map(|l| l.link_no)
        .collect();
    let pruned_ok = match &data.checkpoint {
        Some(cp) => pruned_digest(suite, &pruned) == cp.pruned_digest,
        None => pruned.is_empty(),
    };
    if !pruned_ok {
        return Err(ChainTamper::PrunedWithoutCheckpoint {
            checkpoint: data.checkpoint.as_ref().map(|c| c.id),
        });
    }
    let messages: HashMap<i64, &ChainMessage> = data.messages.iter().map(|m| (m.id, m)).collect();
    let mut versions: HashMap<i64, Vec<&ChainVersion>> = HashMap::new();
    for v in &data.versions {
        versions.entry(v.message_id).or_default().push(v);
    }
    for list in versions.values_mut() {
        list.sort_by_key(|v| v.version);
    }
    let mut created: HashSet<i64> = HashSet::new();
    let mut deleted: HashSet<i64> = HashSet::new();
    let mut edited_to: HashMap<i64, i64> = HashMap::new();
    for link in &data.links {
        if link.link_no != expected_no || link.prev_hash != expected_prev {
            return Err(ChainTamper::ChainBroken {
                link_no: expected_no,
            });
        }
        if !link.pruned {
            check_link(suite, data.channel_id, link, &messages, &versions)?;
            match link.kind {
                LinkKind::Create => created.insert(link.message_id),
                LinkKind::Delete => deleted.insert(link.message_id),
                LinkKind::Edit => {
                    edited_to.insert(link.message_id, link.version);
                    true
                }
            };
        }
        expected_prev = link.hash.clone();
        expected_no += 1;
    }
    if expected_no - 1 != data.chain_links || expected_prev != data.chain_head {
        return Err(ChainTamper::Truncated {
            expected: expected_no,
        });
    }
    let mut checked = 0;
    let mut unchained = 0;
    for m in &data.messages {
        let edits = versions.get(&m.id).map(Vec::as_slice).unwrap_or_default();
        if m.seq <= data.base_seq && !created.contains(&m.id) {
            unchained += 1;
        } else {
            checked += 1;
            if !created.contains(&m.id) {
                return Err(ChainTamper::Inserted {
                    seq: m.seq,
                    message_id: m.id,
                });
            }
            // The first version repeats the original text, which the creation link covers.
            let linked = edited_to.get(&m.id).copied().unwrap_or(1);
            if let Some(extra) = edits.iter().find(|v| v.version > linked) {
                return Err(ChainTamper::VersionInserted {
                    message_id: m.id,
                    version: extra.version,
                });
            }
        }
        // Whatever predates the chain, later edits and deletions are links and must agree.
        let tampered = |what: &str| ChainTamper::Edited {
            seq: m.seq,
            message_id: m.id,
            what: what.into(),
        };
        if m.deleted_ms.is_some() != deleted.contains(&m.id)
            && (m.seq > data.base_seq || m.deleted_ms.is_none())
        {
            return Err(tampered("its deletion state"));
        }
        if let Some(last) = edits.last()
            && edited_to.contains_key(&m.id)
            && last.body != m.body
        {
            return Err(tampered("its current text"));
        }
    }
    Ok(ChainVerified {
        links: data.links.len(),
        messages: checked,
        unchained_messages: unchained,
        checkpoint_through: data.checkpoint.as_ref().map(|c| c.through_link),
    })
}

/// Recomputes one link from the rows it covers.
fn check_link(
    suite: Suite,
    channel: i64,
    link: &ChainLink,
    messages: &HashMap<i64, &ChainMessage>,
    versions: &HashMap<i64, Vec<&ChainVersion>>,
) -> Result<(), ChainTamper> {
    let Some(m) = messages.get(&link.message_id) else {
        return Err(ChainTamper::Deleted {
            seq: link.msg_seq,
            message_id: link.message_id,
        });
    };
    if m.seq != link.msg_seq {
        return Err(ChainTamper::Reordered {
            message_id: m.id,
            was: link.msg_seq,
            now: m.seq,
        });
    }
    let edits = versions.get(&m.id).map(Vec::as_slice).unwrap_or_default();
    let (canonical, what) = match link.kind {
        LinkKind::Create => {
            // After an edit the original text is version 1; the row holds the newest.
            let text = edits.first().map_or(m.body.as_str(), |v| v.body.as_str());
            let c = canonical_create(
                channel,
                m.seq,
                m.id,
                m.sender,
                m.thread_root,
                m.created_ms,
                text,
            );
            (c, "its text, sender or time".to_string())
        }
        LinkKind::Edit => {
            let Some(v) = edits.iter().find(|v| v.version == link.version) else {
                return Err(ChainTamper::Edited {
                    seq: m.seq,
                    message_id: m.id,
                    what: format!("its edit history (version {} is missing)", link.version),
                });
            };
            let c = canonical_edit(channel, m.seq, m.id, v.version, v.at_ms, &v.body);
            (c, format!("version {} of its text", link.version))
        }
        LinkKind::Delete => {
            let c = canonical_delete(channel, m.seq, m.id, m.deleted_ms.unwrap_or(-1));
            (c, "its deletion".to_string())
        }
    };
    if link_hash(suite, &link.prev_hash, &canonical) != link.hash {
        return Err(ChainTamper::Edited {
            seq: m.seq,
            message_id: m.id,
            what,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;

    /// A channel with messages 1..=n (seq = id), message 2 edited and message 3 deleted.
    fn channel(suite: Suite, n: i64) -> ChannelChainData {
        let mut d = ChannelChainData {
            channel_id: 7,
            ..Default::default()
        };
        let push = |d: &mut ChannelChainData, kind, message_id, version, canonical: String| {
            let prev = d.chain_head.clone();
            let hash = link_hash(suite, &prev, &canonical);
            d.chain_links += 1;
            d.links.push(ChainLink {
                link_no: d.chain_links,
                kind,
                message_id,
                msg_seq: message_id,
                version,
                prev_hash: prev,
                hash: hash.clone(),
                pruned: false,
            });
            d.chain_head = hash;
        };
        for id in 1..=n {
            let body = format!("message {id}");
            let c = canonical_create(7, id, id, 1, None, 1000 + id, &body);
            push(&mut d, LinkKind::Create, id, 0, c);
            d.messages.push(ChainMessage {
                id,
                seq: id,
                sender: 1,
                thread_root: None,
                created_ms: 1000 + id,
                body,
                deleted_ms: None,
            });
        }
        d.versions.push(ChainVersion {
            message_id: 2,
            version: 1,
            at_ms: 1002,
            body: "message 2".into(),
        });
        d.versions.push(ChainVersion {
            message_id: 2,
            version: 2,
            at_ms: 5000,
            body: "message two".into(),
        });
        d.messages[1].body = "message two".into();
        push(
            &mut d,
            LinkKind::Edit,
            2,
            2,
            canonical_edit(7, 2, 2, 2, 5000, "message two"),
        );
        d.messages[2].deleted_ms = Some(6000);
        push(
            &mut d,
            LinkKind::Delete,
            3,
            0,
            canonical_delete(7, 3, 3, 6000),
        );
        d
    }

    fn key(suite: Suite) -> (SigningKey, String) {
        let k = SigningKey::generate(suite);
        let public = hex::encode(k.public_key());
        (k, public)
    }

    #[test]
    fn a_clean_chain_verifies_in_both_suites() {
        for suite in [Suite::Standard, Suite::Gm] {
            let (_, public) = key(suite);
            let v = verify_channel(suite, &channel(suite, 5), &public).unwrap();
            assert_eq!(v.messages, 5);
            assert_eq!(v.links, 7);
        }
    }

    #[test]
    fn tampering_with_rows_is_named() {
        let suite = Suite::Standard;
        let (_, public) = key(suite);
        let mut d = channel(suite, 5);
        d.messages[3].body = "changed".into();
        assert_eq!(
            verify_channel(suite, &d, &public).unwrap_err(),
            ChainTamper::Edited {
                seq: 4,
                message_id: 4,
                what: "its text, sender or time".into()
            }
        );
        let mut d = channel(suite, 5);
        d.messages.remove(3);
        assert_eq!(
            verify_channel(suite, &d, &public).unwrap_err(),
            ChainTamper::Deleted {
                seq: 4,
                message_id: 4
            }
        );
        let mut d = channel(suite, 5);
        let mut extra = d.messages[4].clone();
        extra.id = 99;
        extra.seq = 6;
        d.messages.push(extra);
        assert_eq!(
            verify_channel(suite, &d, &public).unwrap_err(),
            ChainTamper::Inserted {
                seq: 6,
                message_id: 99
            }
        );
        let mut d = channel(suite, 5);
        d.messages[0].seq = 2;
        d.messages[1].seq = 1;
        assert_eq!(
            verify_channel(suite, &d, &public).unwrap_err(),
            ChainTamper::Reordered {
                message_id: 1,
                was: 1,
                now: 2
            }
        );
        let mut d = channel(suite, 5);
        d.messages[2].deleted_ms = None;
        assert!(matches!(
            verify_channel(suite, &d, &public).unwrap_err(),
            ChainTamper::Edited { seq: 3, .. }
        ));
        let mut d = channel(suite, 5);
        d.links.pop();
        assert_eq!(
            verify_channel(suite, &d, &public).unwrap_err(),
            ChainTamper::Truncated { expected: 7 }
        );
    }

    #[test]
    fn a_signed_checkpoint_carries_verification_past_a_prune_and_a_forged_one_fails() {
        let suite = Suite::Gm;
        let (signer, public) = key(suite);
        let mut d = channel(suite, 5);
        // Prune message 1 (link 1, a prefix) and message 4 (link 4, marked).
        let through = d.links.remove(0);
        d.messages.remove(0);
        d.messages.retain(|m| m.id != 4);
        d.links[2].pruned = true;
        let digest = pruned_digest(suite, &[4]);
        let sign = |k: &SigningKey| ChannelCheckpoint {
            id: 1,
            channel_id: 7,
            through_link: 1,
            hash: through.hash.clone(),
            pruned_digest: digest.clone(),
            suite,
            public_key: hex::encode(k.public_key()),
            signature: hex::encode(k.sign(&checkpoint_message(7, 1, &through.hash, &digest))),
            at_ms: 0,
        };
        d.checkpoint = Some(sign(&signer));
        let ok = verify_channel(suite, &d, &public).unwrap();
        assert_eq!(ok.checkpoint_through, Some(1));
        // Marking a kept message's link pruned is not covered by the signature.
        let mut sneaky = d.clone();
        sneaky.links[3].pruned = true;
        sneaky.messages.retain(|m| m.id != 5);
        assert!(matches!(
            verify_channel(suite, &sneaky, &public).unwrap_err(),
            ChainTamper::PrunedWithoutCheckpoint { .. }
        ));
        let (stranger, _) = key(suite);
        d.checkpoint = Some(sign(&stranger));
        assert_eq!(
            verify_channel(suite, &d, &public).unwrap_err(),
            ChainTamper::BadCheckpoint { checkpoint: 1 }
        );
    }
}
