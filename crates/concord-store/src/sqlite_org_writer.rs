// The organisation's write operations on SQLite's writer thread (rusqlite), running the
// statements of `shared/org_sql.rs`. Included by `sqlite.rs` after `sqlite_writer.rs`.

use concord_core::store::{NewAudit, OrgChange};

fn op_append_audit(conn: &rusqlite::Connection, _events: &mut Vec<CommittedEvent>, a: NewAudit) -> Result<(), StoreError> {
    // The writer applies one job at a time, so the newest hash read here is the predecessor.
    let prev: Option<String> = conn
        .prepare_cached(SQL_AUDIT_LAST_HASH)
        .and_then(|mut st| st.query_row([], |r| r.get(0)).optional())
        .map_err(map_rerr)?;
    let prev = prev.unwrap_or_default();
    let id = r_insert_returning(
        conn,
        SQL_INSERT_AUDIT,
        params![ms(a.at), a.actor_id.map(|u| u.0), a.ip, a.action, a.target, json_text(&a.before), json_text(&a.after), prev],
    )?;
    exec(conn, SQL_SET_AUDIT_HASH, params![audit_entry_hash(&a, id, &prev), id])?;
    Ok(())
}

fn op_append_audit_checkpoint(
    conn: &rusqlite::Connection,
    _events: &mut Vec<CommittedEvent>,
    c: concord_core::audit::Checkpoint,
) -> Result<(), StoreError> {
    exec(
        conn,
        SQL_INSERT_AUDIT_CHECKPOINT,
        params![c.through_id, c.hash, c.suite.as_str(), c.public_key, c.signature, c.at_ms],
    )?;
    Ok(())
}

fn op_ensure_builtin_roles(
    conn: &rusqlite::Connection,
    _events: &mut Vec<CommittedEvent>,
    roles: Vec<(String, String, String, Vec<String>)>,
    all: Vec<String>,
    at: Timestamp,
) -> Result<(), StoreError> {
    for (key, name, description, perms) in roles {
        let id: Option<i64> = conn
            .prepare_cached(SQL_INSERT_BUILTIN_ROLE)
            .and_then(|mut st| st.query_row(params![name, description, key, ms(at)], |r| r.get(0)).optional())
            .map_err(map_rerr)?;
        if let Some(id) = id {
            for p in perms {
                exec(conn, SQL_INSERT_ROLE_PERMISSION, params![id, p])?;
            }
        }
    }
    for p in all {
        exec(conn, SQL_GRANT_ORG_ADMIN, params![p])?;
    }
    exec(conn, SQL_ASSIGN_LEGACY_ADMINS, params![ms(at)])?;
    Ok(())
}

fn r_set_role_permissions(conn: &rusqlite::Connection, role: i64, perms: &[String]) -> Result<(), StoreError> {
    exec(conn, SQL_DELETE_ROLE_PERMISSIONS, params![role])?;
    for p in perms {
        exec(conn, SQL_INSERT_ROLE_PERMISSION, params![role, p])?;
    }
    Ok(())
}

fn r_insert_returning(conn: &rusqlite::Connection, sql: &str, p: impl rusqlite::Params) -> Result<i64, StoreError> {
    conn.prepare_cached(sql).and_then(|mut st| st.query_row(p, |r| r.get(0))).map_err(map_rerr)
}

fn op_apply_org_change(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    change: OrgChange,
    audit: NewAudit,
) -> Result<i64, StoreError> {
    let mut created = 0;
    match change {
        OrgChange::CreateDepartment { name, parent_id, at } => {
            created = r_insert_returning(conn, SQL_INSERT_DEPARTMENT, params![name, parent_id.map(|d| d.0), ms(at)])
                .map_err(department_conflict)?;
        }
        OrgChange::UpdateDepartment { id, name, parent_id } => {
            exec(conn, SQL_UPDATE_DEPARTMENT, params![name, parent_id.map(|d| d.0), id.0]).map_err(department_conflict)?;
        }
        OrgChange::DeleteDepartment { id } => {
            exec(conn, SQL_DELETE_DEPARTMENT, params![id.0])?;
        }
        OrgChange::UpdateUser { id, display_name, email, search_key, status, attributes: a, primary_department, secondary_departments } => {
            exec(
                conn,
                SQL_UPDATE_USER,
                params![
                    display_name,
                    email,
                    search_key,
                    status.as_str(),
                    a.title,
                    a.region,
                    a.employee_no,
                    a.phone,
                    a.time_zone,
                    a.locale,
                    a.manager_id.map(|m| m.0),
                    id.0
                ],
            )
            .map_err(|e| match e {
                StoreError::Conflict(_) => StoreError::Conflict("that email is already taken".into()),
                other => other,
            })?;
            exec(conn, SQL_DELETE_USER_TAGS, params![id.0])?;
            for tag in a.project_tags {
                exec(conn, SQL_INSERT_USER_TAG, params![id.0, tag])?;
            }
            exec(conn, SQL_DELETE_USER_DEPARTMENTS, params![id.0])?;
            for (d, primary) in primary_department.iter().map(|d| (d, true)).chain(secondary_departments.iter().map(|d| (d, false))) {
                exec(conn, SQL_INSERT_USER_DEPARTMENT, params![id.0, d.0, primary])?;
            }
            if status != UserStatus::Active {
                exec(conn, SQL_END_SESSIONS, params![id.0])?;
            }
        }
        OrgChange::RegisterPermission { name, description, at } => {
            exec(conn, SQL_INSERT_PERMISSION, params![name, description, ms(at)])?;
        }
        OrgChange::CreateRole { name, description, permissions, at } => {
            created = r_insert_returning(conn, SQL_INSERT_ROLE, params![name, description, ms(at)])?;
            r_set_role_permissions(conn, created, &permissions)?;
        }
        OrgChange::UpdateRole { id, name, description, permissions } => {
            exec(conn, SQL_UPDATE_ROLE, params![name, description, id.0])?;
            r_set_role_permissions(conn, id.0, &permissions)?;
        }
        OrgChange::DeleteRole { id } => {
            exec(conn, SQL_DELETE_ROLE_ASSIGNMENTS, params![id.0])?;
            exec(conn, SQL_DELETE_ROLE_PERMISSIONS, params![id.0])?;
            exec(conn, SQL_DELETE_ROLE, params![id.0])?;
        }
        OrgChange::Assign { role_id, subject, scope, at } => {
            let (kind, subject_id) = subject_parts(subject);
            created = r_insert_returning(conn, SQL_INSERT_ASSIGNMENT, params![role_id.0, kind, subject_id, scope.map(|d| d.0), ms(at)])?;
            if kind == "user" {
                exec(conn, SQL_SYNC_IS_ADMIN, params![subject_id])?;
            }
        }
        OrgChange::Directory(change) => {
            created = op_directory_change(conn, change)?;
        }
        OrgChange::Unassign { id } => {
            let (kind, subject_id): (String, i64) = conn
                .prepare_cached(SQL_ASSIGNMENT_SUBJECT)
                .and_then(|mut st| st.query_row(params![id.0], |r| Ok((r.get(0)?, r.get(1)?))).optional())
                .map_err(map_rerr)?
                .ok_or(StoreError::NotFound("assignment"))?;
            exec(conn, SQL_DELETE_ASSIGNMENT, params![id.0])?;
            if kind == "user" {
                exec(conn, SQL_SYNC_IS_ADMIN, params![subject_id])?;
            }
        }
    }
    let mut audit = audit;
    audit.target = audit.target.replace("{id}", &created.to_string());
    op_append_audit(conn, events, audit)?;
    Ok(created)
}
