-- Accounts security: session details, TOTP second factors with recovery codes, failed-login
-- counters (lockout) and pending second-factor challenges. Times are Unix milliseconds.

ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
-- A session that may only enrol a second factor (the policy requires one the user lacks).
ALTER TABLE sessions ADD COLUMN enrol_only BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE user_mfa (
    user_id    BIGINT  PRIMARY KEY REFERENCES users(id),
    secret     TEXT    NOT NULL,             -- Base32 TOTP secret
    enabled    BOOLEAN NOT NULL DEFAULT FALSE,  -- false until the first code confirms enrolment
    last_step  BIGINT  NOT NULL DEFAULT 0,   -- newest TOTP step accepted (replay guard)
    created_at BIGINT  NOT NULL
);

CREATE TABLE mfa_recovery_codes (
    user_id   BIGINT  NOT NULL REFERENCES users(id),
    code_hash TEXT    NOT NULL,              -- SHA-256 hex of the code
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE login_failures (
    user_id      BIGINT  PRIMARY KEY REFERENCES users(id),
    failures     BIGINT  NOT NULL,
    locked_until BIGINT
);

CREATE TABLE mfa_challenges (
    token_hash TEXT    PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users(id),
    expires_at BIGINT  NOT NULL,
    ip         TEXT,
    user_agent TEXT
);
CREATE INDEX mfa_challenges_expiry ON mfa_challenges(expires_at);
