-- Foundation: users, sessions, channels, membership, messages, the event log.
-- Times are Unix milliseconds; ids are integers.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE,
    email         TEXT    UNIQUE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    status        TEXT    NOT NULL DEFAULT 'active',
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE channels (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    name_key   TEXT    UNIQUE,
    dm_key     TEXT    UNIQUE,
    topic      TEXT    NOT NULL DEFAULT '',
    purpose    TEXT    NOT NULL DEFAULT '',
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX channels_kind ON channels(kind, id);

CREATE TABLE channel_members (
    channel_id    INTEGER NOT NULL REFERENCES channels(id),
    user_id       INTEGER NOT NULL REFERENCES users(id),
    role          TEXT    NOT NULL,
    joined_at     INTEGER NOT NULL,
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_user ON channel_members(user_id, channel_id);

CREATE TABLE messages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id     INTEGER NOT NULL REFERENCES channels(id),
    seq            INTEGER NOT NULL,
    sender_id      INTEGER NOT NULL REFERENCES users(id),
    body           TEXT    NOT NULL,
    thread_root_id INTEGER REFERENCES messages(id),
    reply_count    INTEGER NOT NULL DEFAULT 0,
    client_msg_id  TEXT,
    mention_all    INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    edited_at      INTEGER,
    deleted_at     INTEGER,
    pinned_at      INTEGER,
    pinned_by      INTEGER,
    UNIQUE (channel_id, seq)
);
-- Partial indexes: most messages have no idempotency key and are not replies.
CREATE UNIQUE INDEX messages_client_msg_id ON messages(sender_id, client_msg_id) WHERE client_msg_id IS NOT NULL;
CREATE INDEX messages_thread ON messages(thread_root_id, seq) WHERE thread_root_id IS NOT NULL;
CREATE INDEX messages_channel_time ON messages(channel_id, created_at);

CREATE TABLE message_versions (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    version    INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, version)
);

CREATE TABLE message_mentions (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX message_mentions_user ON message_mentions(user_id, message_id);

CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    emoji      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);

-- The durable event log. Audience: channel_id set -> that channel's members (and user_id too,
-- if set); only user_id set -> that user; neither -> everyone.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    channel_id INTEGER,
    user_id    INTEGER,
    kind       TEXT    NOT NULL,
    payload    TEXT    NOT NULL
);
CREATE INDEX events_created ON events(created_at);

CREATE TABLE log_meta (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_through INTEGER NOT NULL
);
INSERT INTO log_meta (id, pruned_through) VALUES (1, 0);
