// Included by both writers: the statements that change the organisation. Parameters are
// `$n`, numbered in order of first appearance, which PostgreSQL and SQLite both accept.

const SQL_INSERT_BUILTIN_ROLE: &str = "INSERT INTO roles (name, description, builtin, created_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (builtin) DO NOTHING RETURNING id";
const SQL_GRANT_ORG_ADMIN: &str = "INSERT INTO role_permissions (role_id, permission) \
     SELECT id, $1 FROM roles WHERE builtin = 'org_admin' ON CONFLICT DO NOTHING";
/// Users created as admins before roles existed get the org admin role.
const SQL_ASSIGN_LEGACY_ADMINS: &str = "INSERT INTO role_assignments (role_id, subject_kind, subject_id, scope_department_id, created_at) \
     SELECT r.id, 'user', u.id, NULL, $1 FROM users u, roles r \
     WHERE r.builtin = 'org_admin' AND u.is_admin AND NOT EXISTS (SELECT 1 FROM role_assignments a \
       WHERE a.role_id = r.id AND a.subject_kind = 'user' AND a.subject_id = u.id AND a.scope_department_id IS NULL)";
const SQL_ASSIGN_BUILTIN: &str = "INSERT INTO role_assignments (role_id, subject_kind, subject_id, scope_department_id, created_at) \
     SELECT id, 'user', $1, NULL, $2 FROM roles WHERE builtin = $3";
/// `users.is_admin` mirrors "holds the org admin role at org scope, directly".
const SQL_SYNC_IS_ADMIN: &str = "UPDATE users SET is_admin = EXISTS (SELECT 1 FROM role_assignments a JOIN roles r ON r.id = a.role_id \
     WHERE r.builtin = 'org_admin' AND a.subject_kind = 'user' AND a.subject_id = users.id AND a.scope_department_id IS NULL) \
     WHERE id = $1";

const SQL_INSERT_DEPARTMENT: &str = "INSERT INTO departments (name, parent_id, created_at) VALUES ($1, $2, $3) RETURNING id";
const SQL_UPDATE_DEPARTMENT: &str = "UPDATE departments SET name = $1, parent_id = $2 WHERE id = $3";
const SQL_DELETE_DEPARTMENT: &str = "DELETE FROM departments WHERE id = $1";

const SQL_UPDATE_USER: &str = "UPDATE users SET display_name = $1, email = $2, search_key = $3, status = $4, title = $5, region = $6, \
     employee_no = $7, phone = $8, time_zone = $9, locale = $10, manager_id = $11 WHERE id = $12";
const SQL_DELETE_USER_TAGS: &str = "DELETE FROM user_tags WHERE user_id = $1";
const SQL_INSERT_USER_TAG: &str = "INSERT INTO user_tags (user_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING";
const SQL_DELETE_USER_DEPARTMENTS: &str = "DELETE FROM user_departments WHERE user_id = $1";
const SQL_INSERT_USER_DEPARTMENT: &str = "INSERT INTO user_departments (user_id, department_id, is_primary) VALUES ($1, $2, $3)";
const SQL_END_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";

const SQL_INSERT_PERMISSION: &str = "INSERT INTO permissions (name, description, created_at) VALUES ($1, $2, $3)";
const SQL_INSERT_ROLE: &str = "INSERT INTO roles (name, description, builtin, created_at) VALUES ($1, $2, NULL, $3) RETURNING id";
const SQL_UPDATE_ROLE: &str = "UPDATE roles SET name = $1, description = $2 WHERE id = $3";
const SQL_DELETE_ROLE_PERMISSIONS: &str = "DELETE FROM role_permissions WHERE role_id = $1";
const SQL_INSERT_ROLE_PERMISSION: &str = "INSERT INTO role_permissions (role_id, permission) VALUES ($1, $2)";
const SQL_DELETE_ROLE_ASSIGNMENTS: &str = "DELETE FROM role_assignments WHERE role_id = $1";
const SQL_DELETE_ROLE: &str = "DELETE FROM roles WHERE id = $1";
const SQL_INSERT_ASSIGNMENT: &str = "INSERT INTO role_assignments (role_id, subject_kind, subject_id, scope_department_id, created_at) \
     VALUES ($1, $2, $3, $4, $5) RETURNING id";
const SQL_ASSIGNMENT_SUBJECT: &str = "SELECT subject_kind, subject_id FROM role_assignments WHERE id = $1";
const SQL_DELETE_ASSIGNMENT: &str = "DELETE FROM role_assignments WHERE id = $1";

const SQL_AUDIT_LAST_HASH: &str = "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1";
const SQL_INSERT_AUDIT: &str = "INSERT INTO audit_log (at, actor_id, ip, action, target, before, after, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '') RETURNING id";
const SQL_SET_AUDIT_HASH: &str = "UPDATE audit_log SET hash = $1 WHERE id = $2";
const SQL_INSERT_AUDIT_CHECKPOINT: &str = "INSERT INTO audit_checkpoints (through_id, hash, suite, public_key, signature, at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// The chain hash of a new entry, given its id and its predecessor's hash.
fn audit_entry_hash(a: &NewAudit, id: i64, prev: &str) -> String {
    let (before, after) = (json_text(&a.before), json_text(&a.after));
    let canon = concord_core::audit::canonical(
        id,
        ms(a.at),
        a.actor_id.map(|u| u.0),
        a.ip.as_deref(),
        &a.action,
        &a.target,
        before.as_deref(),
        after.as_deref(),
    );
    concord_core::audit::chain_hash(a.suite, prev, &canon)
}

fn json_text(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref().map(|v| v.to_string())
}

fn department_conflict(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict(_) => StoreError::Conflict("a department with this name already exists there".into()),
        other => other,
    }
}
