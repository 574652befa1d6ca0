-- Encryption at rest: one data key per scope (`channel:<id>`, `accounts`, `files`), stored
-- wrapped by a master key (a key file or an HSM) whose id is kept beside it, so rotation
-- rewraps these rows and nothing else. Sealed values name their data key by `id`.
CREATE TABLE data_keys (
    id            INTEGER PRIMARY KEY,
    scope         TEXT    NOT NULL UNIQUE,
    suite         TEXT    NOT NULL,          -- 'standard' (AES-256-GCM) or 'gm' (SM4-GCM)
    master_key_id TEXT    NOT NULL,
    wrapped       BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    rewrapped_at  INTEGER
);
