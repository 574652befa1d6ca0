-- Files: uploads into a channel, with every version kept (revision history), comments on a
-- version, and the files a message carries. Content lives in the blob store (local disk or
-- S3), addressed by its SHA-256, so identical uploads are stored once; `file_blobs` records
-- what the blob store holds so unreferenced content can be collected. Times are Unix ms.

CREATE TABLE file_blobs (
    sha256     TEXT    PRIMARY KEY,
    size       INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE files (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id      INTEGER NOT NULL REFERENCES channels(id),
    name            TEXT    NOT NULL,
    sensitive       INTEGER NOT NULL DEFAULT 0,
    current_version INTEGER NOT NULL DEFAULT 1,
    created_by      INTEGER NOT NULL REFERENCES users(id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER
);
CREATE INDEX files_channel ON files(channel_id, id);

CREATE TABLE file_versions (
    file_id       INTEGER NOT NULL REFERENCES files(id),
    version       INTEGER NOT NULL,
    sha256        TEXT    NOT NULL REFERENCES file_blobs(sha256),
    size          INTEGER NOT NULL,
    mime          TEXT    NOT NULL,
    width         INTEGER,
    height        INTEGER,
    uploaded_by   INTEGER NOT NULL REFERENCES users(id),
    uploaded_at   INTEGER NOT NULL,
    comment       TEXT,
    restored_from INTEGER,
    PRIMARY KEY (file_id, version)
);
CREATE INDEX file_versions_blob ON file_versions(sha256);

CREATE TABLE file_comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id    INTEGER NOT NULL REFERENCES files(id),
    version    INTEGER NOT NULL,
    author_id  INTEGER NOT NULL REFERENCES users(id),
    body       TEXT    NOT NULL,
    mentions   TEXT    NOT NULL DEFAULT '[]',   -- JSON array of user ids
    created_at INTEGER NOT NULL
);
CREATE INDEX file_comments_file ON file_comments(file_id, id);

-- The files a message was sent with, in order.
CREATE TABLE message_files (
    message_id INTEGER NOT NULL REFERENCES messages(id),
    file_id    INTEGER NOT NULL REFERENCES files(id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (message_id, file_id)
);
CREATE INDEX message_files_file ON message_files(file_id);

-- A channel's file policy ('files': all its files sensitive) joins the channel policies.
-- SQLite cannot alter a CHECK constraint, so the table is rebuilt.
CREATE TABLE channel_policies_new (
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    kind       TEXT    NOT NULL CHECK (kind IN ('rule', 'geofence', 'dlp', 'files')),
    body       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, kind)
);
INSERT INTO channel_policies_new SELECT channel_id, kind, body, updated_at FROM channel_policies;
DROP TABLE channel_policies;
ALTER TABLE channel_policies_new RENAME TO channel_policies;
