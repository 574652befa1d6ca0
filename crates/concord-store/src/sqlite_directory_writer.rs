// The directory-sync write operations (SCIM, LDAP) on SQLite's writer thread (rusqlite),
// run from `op_apply_org_change`, with the statements of `shared/directory_sql.rs`. Included
// by `sqlite.rs` after `sqlite_org_writer.rs`.

use concord_core::store::{DirectoryChange, DirectoryUserState};

fn dir_apply_user_state(conn: &rusqlite::Connection, id: i64, s: DirectoryUserState) -> Result<(), StoreError> {
    let a = s.attributes;
    exec(
        conn,
        SQL_UPDATE_USER,
        params![
            s.display_name,
            s.email,
            s.search_key,
            s.status.as_str(),
            a.title,
            a.region,
            a.employee_no,
            a.phone,
            a.time_zone,
            a.locale,
            a.manager_id.map(|m| m.0),
            id
        ],
    )
    .map_err(dir_user_conflict)?;
    exec(conn, SQL_DELETE_USER_TAGS, params![id])?;
    for tag in a.project_tags {
        exec(conn, SQL_INSERT_USER_TAG, params![id, tag])?;
    }
    exec(conn, SQL_DELETE_USER_DEPARTMENTS, params![id])?;
    let placements = s.primary_department.iter().map(|d| (d, true)).chain(s.secondary_departments.iter().map(|d| (d, false)));
    for (d, primary) in placements {
        exec(conn, SQL_INSERT_USER_DEPARTMENT, params![id, d.0, primary])?;
    }
    if let Some(external) = s.external {
        let (source, external_id) = dir_external_parts(&external);
        exec(conn, SQL_DIR_SET_USER_EXTERNAL, params![source, external_id, id]).map_err(dir_user_conflict)?;
    }
    if let Some(hash) = s.password_hash {
        exec(conn, SQL_DIR_SET_PASSWORD, params![hash, id])?;
    }
    if s.status != UserStatus::Active {
        exec(conn, SQL_END_SESSIONS, params![id])?;
    }
    Ok(())
}

/// Applies a directory change; returns the id of what it created (a batch: the first), else 0.
fn op_directory_change(conn: &rusqlite::Connection, change: DirectoryChange) -> Result<i64, StoreError> {
    match change {
        DirectoryChange::CreateUser { user: u, state } => {
            let (source, external_id) = dir_external_parts(&state.external.clone().flatten());
            let id = r_insert_returning(
                conn,
                SQL_DIR_INSERT_USER,
                params![
                    u.username,
                    u.email,
                    u.display_name,
                    u.password_hash,
                    u.is_admin,
                    ms(u.created_at),
                    u.guest,
                    u.search_key,
                    source,
                    external_id
                ],
            )
            .map_err(dir_user_conflict)?;
            if u.is_admin {
                exec(conn, SQL_ASSIGN_BUILTIN, params![id, ms(u.created_at), "org_admin"])?;
            }
            dir_apply_user_state(conn, id, DirectoryUserState { external: None, ..state })?;
            Ok(id)
        }
        DirectoryChange::UpdateUser { id, state } => {
            dir_apply_user_state(conn, id.0, state)?;
            Ok(0)
        }
        DirectoryChange::CreateDepartment { name, parent_id, at, external } => {
            let (source, external_id) = dir_external_parts(&external);
            r_insert_returning(conn, SQL_DIR_INSERT_DEPARTMENT, params![name, parent_id.map(|d| d.0), ms(at), source, external_id])
                .map_err(dir_department_conflict)
        }
        DirectoryChange::UpdateDepartment { id, name, parent_id, external } => {
            exec(conn, SQL_UPDATE_DEPARTMENT, params![name, parent_id.map(|d| d.0), id.0]).map_err(dir_department_conflict)?;
            if let Some(external) = external {
                let (source, external_id) = dir_external_parts(&external);
                exec(conn, SQL_DIR_SET_DEPARTMENT_EXTERNAL, params![source, external_id, id.0]).map_err(dir_department_conflict)?;
            }
            Ok(0)
        }
        DirectoryChange::SetMembers { department, add, remove } => {
            for u in remove {
                exec(conn, SQL_DIR_UNPLACE_PRIMARY, params![u.0, department.0])?;
            }
            for u in add {
                exec(conn, SQL_DIR_CLEAR_PLACEMENT, params![u.0, department.0])?;
                exec(conn, SQL_DIR_PLACE_PRIMARY, params![u.0, department.0])?;
            }
            Ok(0)
        }
        DirectoryChange::Batch(changes) => {
            let mut first = 0;
            for c in changes {
                if matches!(c, DirectoryChange::Batch(_)) {
                    return Err(StoreError::Conflict("directory batches do not nest".into()));
                }
                let id = op_directory_change(conn, c)?;
                if first == 0 {
                    first = id;
                }
            }
            Ok(first)
        }
    }
}
