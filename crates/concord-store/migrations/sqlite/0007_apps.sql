-- Apps and bot tokens: an installed app acts as its bot user with the scopes granted at
-- install, through tokens stored as SHA-256 hashes. Times are Unix milliseconds.

-- A bot account: shown as a bot, never signs in with a password.
ALTER TABLE users ADD COLUMN is_bot INTEGER NOT NULL DEFAULT 0;

CREATE TABLE apps (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL DEFAULT '',
    scopes         TEXT    NOT NULL,            -- granted scopes, space-separated, sorted
    bot_user_id    INTEGER NOT NULL UNIQUE REFERENCES users(id),
    installed_by   INTEGER REFERENCES users(id),
    installed_at   INTEGER NOT NULL,
    uninstalled_at INTEGER                      -- kept for the audit trail's references
);

CREATE TABLE app_tokens (
    token_hash TEXT    PRIMARY KEY,             -- SHA-256 hex of the `ccb_` token
    app_id     INTEGER NOT NULL REFERENCES apps(id),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX app_tokens_app ON app_tokens(app_id);
