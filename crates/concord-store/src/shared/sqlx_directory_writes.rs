// The directory-sync write operations (SCIM, LDAP) for the sqlx writer (PostgreSQL), run from
// `op_apply_org_change` inside its savepoint. SQLite's writer runs the same statements
// (`shared/directory_sql.rs`) through rusqlite in `sqlite_directory_writer.rs`.

use concord_core::store::{DirectoryChange, DirectoryUserState};

async fn dir_apply_user_state(conn: &mut DbConn, id: i64, s: DirectoryUserState) -> Result<(), StoreError> {
    let a = s.attributes;
    let q = sqlx::query(SQL_UPDATE_USER)
        .bind(s.display_name)
        .bind(s.email)
        .bind(s.search_key)
        .bind(s.status.as_str())
        .bind(a.title)
        .bind(a.region)
        .bind(a.employee_no)
        .bind(a.phone)
        .bind(a.time_zone)
        .bind(a.locale)
        .bind(a.manager_id.map(|m| m.0))
        .bind(id);
    exec_sql(conn, q).await.map_err(dir_user_conflict)?;
    exec_sql(conn, sqlx::query(SQL_DELETE_USER_TAGS).bind(id)).await?;
    for tag in a.project_tags {
        exec_sql(conn, sqlx::query(SQL_INSERT_USER_TAG).bind(id).bind(tag)).await?;
    }
    exec_sql(conn, sqlx::query(SQL_DELETE_USER_DEPARTMENTS).bind(id)).await?;
    let placements = s.primary_department.iter().map(|d| (d, true)).chain(s.secondary_departments.iter().map(|d| (d, false)));
    for (d, primary) in placements {
        exec_sql(conn, sqlx::query(SQL_INSERT_USER_DEPARTMENT).bind(id).bind(d.0).bind(primary)).await?;
    }
    if let Some(external) = s.external {
        let (source, external_id) = dir_external_parts(&external);
        let q = sqlx::query(SQL_DIR_SET_USER_EXTERNAL).bind(source).bind(external_id).bind(id);
        exec_sql(conn, q).await.map_err(dir_user_conflict)?;
    }
    if let Some(hash) = s.password_hash {
        exec_sql(conn, sqlx::query(SQL_DIR_SET_PASSWORD).bind(hash).bind(id)).await?;
    }
    if s.status != UserStatus::Active {
        exec_sql(conn, sqlx::query(SQL_END_SESSIONS).bind(id)).await?;
    }
    Ok(())
}

/// Applies a directory change; returns the id of what it created (a batch: the first), else 0.
fn op_directory_change(conn: &mut DbConn, change: DirectoryChange) -> BoxFuture<'_, Result<i64, StoreError>> {
    Box::pin(async move {
        match change {
            DirectoryChange::CreateUser { user: u, state } => {
                let (source, external_id) = dir_external_parts(&state.external.clone().flatten());
                let id: i64 = sqlx::query_scalar(SQL_DIR_INSERT_USER)
                    .bind(&u.username)
                    .bind(&u.email)
                    .bind(&u.display_name)
                    .bind(&u.password_hash)
                    .bind(u.is_admin)
                    .bind(ms(u.created_at))
                    .bind(u.guest)
                    .bind(&u.search_key)
                    .bind(source)
                    .bind(external_id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(|e| dir_user_conflict(map_err(e)))?;
                if u.is_admin {
                    let q = sqlx::query(SQL_ASSIGN_BUILTIN).bind(id).bind(ms(u.created_at)).bind("org_admin");
                    exec_sql(conn, q).await?;
                }
                dir_apply_user_state(conn, id, DirectoryUserState { external: None, ..state }).await?;
                Ok(id)
            }
            DirectoryChange::UpdateUser { id, state } => {
                dir_apply_user_state(conn, id.0, state).await?;
                Ok(0)
            }
            DirectoryChange::CreateDepartment { name, parent_id, at, external } => {
                let (source, external_id) = dir_external_parts(&external);
                sqlx::query_scalar(SQL_DIR_INSERT_DEPARTMENT)
                    .bind(name)
                    .bind(parent_id.map(|d| d.0))
                    .bind(ms(at))
                    .bind(source)
                    .bind(external_id)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(|e| dir_department_conflict(map_err(e)))
            }
            DirectoryChange::UpdateDepartment { id, name, parent_id, external } => {
                let q = sqlx::query(SQL_UPDATE_DEPARTMENT).bind(name).bind(parent_id.map(|d| d.0)).bind(id.0);
                exec_sql(conn, q).await.map_err(dir_department_conflict)?;
                if let Some(external) = external {
                    let (source, external_id) = dir_external_parts(&external);
                    let q = sqlx::query(SQL_DIR_SET_DEPARTMENT_EXTERNAL).bind(source).bind(external_id).bind(id.0);
                    exec_sql(conn, q).await.map_err(dir_department_conflict)?;
                }
                Ok(0)
            }
            DirectoryChange::SetMembers { department, add, remove } => {
                for u in remove {
                    exec_sql(conn, sqlx::query(SQL_DIR_UNPLACE_PRIMARY).bind(u.0).bind(department.0)).await?;
                }
                for u in add {
                    exec_sql(conn, sqlx::query(SQL_DIR_CLEAR_PLACEMENT).bind(u.0).bind(department.0)).await?;
                    exec_sql(conn, sqlx::query(SQL_DIR_PLACE_PRIMARY).bind(u.0).bind(department.0)).await?;
                }
                Ok(0)
            }
            DirectoryChange::Batch(changes) => {
                let mut first = 0;
                for c in changes {
                    if matches!(c, DirectoryChange::Batch(_)) {
                        return Err(StoreError::Conflict("directory batches do not nest".into()));
                    }
                    let id = op_directory_change(conn, c).await?;
                    if first == 0 {
                        first = id;
                    }
                }
                Ok(first)
            }
        }
    })
}
