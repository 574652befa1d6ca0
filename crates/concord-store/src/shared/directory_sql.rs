// Included by both writers: the statements of directory sync (SCIM, LDAP), next to the
// organisation's (`org_sql.rs`). Parameters are `$n`, which PostgreSQL and SQLite both accept.

const SQL_DIR_INSERT_USER: &str = "INSERT INTO users (username, email, display_name, password_hash, is_admin, created_at, guest, \
     search_key, external_source, external_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
const SQL_DIR_SET_USER_EXTERNAL: &str = "UPDATE users SET external_source = $1, external_id = $2 WHERE id = $3";
const SQL_DIR_SET_PASSWORD: &str = "UPDATE users SET password_hash = $1 WHERE id = $2";
const SQL_DIR_INSERT_DEPARTMENT: &str = "INSERT INTO departments (name, parent_id, created_at, external_source, external_id) \
     VALUES ($1, $2, $3, $4, $5) RETURNING id";
const SQL_DIR_SET_DEPARTMENT_EXTERNAL: &str = "UPDATE departments SET external_source = $1, external_id = $2 WHERE id = $3";
/// Before making a department someone's primary one: drop their primary placement and any
/// secondary placement in that department.
const SQL_DIR_CLEAR_PLACEMENT: &str = "DELETE FROM user_departments WHERE user_id = $1 AND (is_primary OR department_id = $2)";
const SQL_DIR_PLACE_PRIMARY: &str = "INSERT INTO user_departments (user_id, department_id, is_primary) VALUES ($1, $2, TRUE)";
const SQL_DIR_UNPLACE_PRIMARY: &str = "DELETE FROM user_departments WHERE user_id = $1 AND department_id = $2 AND is_primary";

fn dir_external_parts(e: &Option<ExternalRef>) -> (Option<String>, Option<String>) {
    match e {
        Some(e) => (Some(e.source.clone()), e.id.clone()),
        None => (None, None),
    }
}

fn dir_user_conflict(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict(_) => {
            StoreError::Conflict("the username, email or external id is already taken".into())
        }
        other => other,
    }
}

fn dir_department_conflict(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict(_) => StoreError::Conflict(
            "a department with this name already exists there, or the external id is taken".into(),
        ),
        other => other,
    }
}
