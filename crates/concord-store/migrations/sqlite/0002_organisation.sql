-- The organisation: departments, people's attributes and placement, the permission
-- catalogue's registered entries, roles, role assignments, and the audit log.

CREATE TABLE departments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    parent_id  INTEGER REFERENCES departments(id),
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX departments_sibling_name ON departments(COALESCE(parent_id, 0), lower(name));

ALTER TABLE users ADD COLUMN title       TEXT;
ALTER TABLE users ADD COLUMN region      TEXT;
ALTER TABLE users ADD COLUMN employee_no TEXT;
ALTER TABLE users ADD COLUMN phone       TEXT;
ALTER TABLE users ADD COLUMN time_zone   TEXT;
ALTER TABLE users ADD COLUMN locale      TEXT;
ALTER TABLE users ADD COLUMN manager_id  INTEGER REFERENCES users(id);
ALTER TABLE users ADD COLUMN guest       INTEGER NOT NULL DEFAULT 0;
-- Lower-case names, email, employee number and pinyin, for people search.
ALTER TABLE users ADD COLUMN search_key  TEXT    NOT NULL DEFAULT '';
UPDATE users SET search_key = lower(username || ' ' || display_name || ' ' || COALESCE(email, ''));

CREATE TABLE user_tags (
    user_id INTEGER NOT NULL REFERENCES users(id),
    tag     TEXT    NOT NULL,
    PRIMARY KEY (user_id, tag)
);

CREATE TABLE user_departments (
    user_id       INTEGER NOT NULL REFERENCES users(id),
    department_id INTEGER NOT NULL REFERENCES departments(id),
    is_primary    INTEGER NOT NULL,
    PRIMARY KEY (user_id, department_id)
);
CREATE UNIQUE INDEX user_departments_one_primary ON user_departments(user_id) WHERE is_primary = 1;
CREATE INDEX user_departments_department ON user_departments(department_id);

-- Registered (non-built-in) permissions; the built-in ones live in the code.
CREATE TABLE permissions (
    name        TEXT    PRIMARY KEY,
    description TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE roles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    builtin     TEXT    UNIQUE,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX roles_name ON roles(lower(name));

CREATE TABLE role_permissions (
    role_id    INTEGER NOT NULL REFERENCES roles(id),
    permission TEXT    NOT NULL,
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE role_assignments (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    role_id             INTEGER NOT NULL REFERENCES roles(id),
    subject_kind        TEXT    NOT NULL CHECK (subject_kind IN ('user', 'department')),
    subject_id          INTEGER NOT NULL,
    scope_department_id INTEGER REFERENCES departments(id),
    created_at          INTEGER NOT NULL
);
CREATE UNIQUE INDEX role_assignments_once
    ON role_assignments(role_id, subject_kind, subject_id, COALESCE(scope_department_id, 0));

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor_id INTEGER,
    ip       TEXT,
    action   TEXT    NOT NULL,
    target   TEXT    NOT NULL,
    before   TEXT,
    after    TEXT,
    -- Hash chain (SHA-256 or SM3, per crypto.suite): hash = H(prev_hash "\n" canonical entry).
    prev_hash TEXT   NOT NULL,
    hash      TEXT   NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor_id, id);
CREATE INDEX audit_log_target ON audit_log(target, id);

-- Signed checkpoints of the audit chain: the hash of entry through_id, signed with the
-- server's signing key, so rewriting the chain up to a checkpoint cannot go unnoticed.
CREATE TABLE audit_checkpoints (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    through_id INTEGER NOT NULL,
    hash       TEXT    NOT NULL,
    suite      TEXT    NOT NULL,
    public_key TEXT    NOT NULL,
    signature  TEXT    NOT NULL,
    at         INTEGER NOT NULL
);
