-- Retention policies, legal holds, and each channel's hash chain over message changes
-- (creations, edits, deletions). Times are Unix milliseconds.

-- The chain's head, kept in the row a send already updates (last_seq), so a send reads
-- nothing more. Messages at or below chain_base_seq predate the chain (this migration).
ALTER TABLE channels ADD COLUMN chain_links INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN chain_head TEXT NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN chain_base_seq INTEGER NOT NULL DEFAULT 0;
UPDATE channels SET chain_base_seq = last_seq;

-- One row per change: hash = H(prev_hash, canonical change). The content is read back from
-- messages and message_versions when verifying; `pruned` marks links whose message retention
-- removed (the signed checkpoint covers which).
CREATE TABLE message_chain (
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    link_no    INTEGER NOT NULL,
    kind       TEXT    NOT NULL,   -- create, edit, delete
    message_id INTEGER NOT NULL,
    msg_seq    INTEGER NOT NULL,
    version    INTEGER NOT NULL,   -- the edit's version; 0 for create and delete
    prev_hash  TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    pruned     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, link_no)
);
CREATE INDEX message_chain_message ON message_chain(message_id);

-- Signed by the server's key when retention prunes: links up to through_link are gone and
-- verification starts from `hash`; pruned_digest covers the later links marked pruned.
CREATE TABLE message_chain_checkpoints (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id    INTEGER NOT NULL REFERENCES channels(id),
    through_link  INTEGER NOT NULL,
    hash          TEXT    NOT NULL,
    pruned_digest TEXT    NOT NULL,
    suite         TEXT    NOT NULL,
    public_key    TEXT    NOT NULL,
    signature     TEXT    NOT NULL,
    at            INTEGER NOT NULL
);
CREATE INDEX message_chain_checkpoints_channel ON message_chain_checkpoints(channel_id, id);

-- scope: org | public | private | dm | channel:<id>; keep_days NULL keeps forever.
CREATE TABLE retention_policies (
    scope      TEXT    PRIMARY KEY,
    keep_days  INTEGER,
    updated_at INTEGER NOT NULL
);

-- A hold on one person (their messages everywhere) or one channel (all its messages).
CREATE TABLE legal_holds (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER REFERENCES users(id),
    channel_id  INTEGER REFERENCES channels(id),
    reason      TEXT    NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    ends_at     INTEGER,
    released_at INTEGER,
    released_by INTEGER REFERENCES users(id),
    CHECK ((user_id IS NULL) <> (channel_id IS NULL))
);
