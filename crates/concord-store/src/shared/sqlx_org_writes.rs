// The organisation's write operations for the sqlx writer (PostgreSQL). SQLite's writer runs
// the same statements (`shared/org_sql.rs`) through rusqlite in `sqlite_org_writer.rs`.

use concord_core::store::{NewAudit, OrgChange};

async fn exec_sql<'q>(conn: &mut DbConn, q: sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>) -> Result<u64, StoreError> {
    Ok(q.execute(&mut *conn).await.map_err(map_err)?.rows_affected())
}

async fn op_append_audit(conn: &mut DbConn, _events: &mut Vec<CommittedEvent>, a: NewAudit) -> Result<(), StoreError> {
    // The writer applies one job at a time, so the newest hash read here is the predecessor.
    let prev: Option<String> = sqlx::query_scalar(SQL_AUDIT_LAST_HASH).fetch_optional(&mut *conn).await.map_err(map_err)?;
    let prev = prev.unwrap_or_default();
    let id: i64 = sqlx::query_scalar(SQL_INSERT_AUDIT)
        .bind(ms(a.at))
        .bind(a.actor_id.map(|u| u.0))
        .bind(a.ip.clone())
        .bind(a.action.clone())
        .bind(a.target.clone())
        .bind(json_text(&a.before))
        .bind(json_text(&a.after))
        .bind(&prev)
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    let hash = audit_entry_hash(&a, id, &prev);
    exec_sql(conn, sqlx::query(SQL_SET_AUDIT_HASH).bind(hash).bind(id)).await?;
    Ok(())
}

async fn op_append_audit_checkpoint(
    conn: &mut DbConn,
    _events: &mut Vec<CommittedEvent>,
    c: concord_core::audit::Checkpoint,
) -> Result<(), StoreError> {
    let q = sqlx::query(SQL_INSERT_AUDIT_CHECKPOINT)
        .bind(c.through_id)
        .bind(c.hash)
        .bind(c.suite.as_str())
        .bind(c.public_key)
        .bind(c.signature)
        .bind(c.at_ms);
    exec_sql(conn, q).await?;
    Ok(())
}

async fn op_ensure_builtin_roles(
    conn: &mut DbConn,
    _events: &mut Vec<CommittedEvent>,
    roles: Vec<(String, String, String, Vec<String>)>,
    all: Vec<String>,
    at: Timestamp,
) -> Result<(), StoreError> {
    for (key, name, description, perms) in roles {
        let id: Option<i64> = sqlx::query_scalar(SQL_INSERT_BUILTIN_ROLE)
            .bind(&name)
            .bind(&description)
            .bind(&key)
            .bind(ms(at))
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?;
        if let Some(id) = id {
            for p in perms {
                exec_sql(conn, sqlx::query(SQL_INSERT_ROLE_PERMISSION).bind(id).bind(p)).await?;
            }
        }
    }
    for p in all {
        exec_sql(conn, sqlx::query(SQL_GRANT_ORG_ADMIN).bind(p)).await?;
    }
    exec_sql(conn, sqlx::query(SQL_ASSIGN_LEGACY_ADMINS).bind(ms(at))).await?;
    Ok(())
}

async fn set_role_permissions(conn: &mut DbConn, role: i64, perms: &[String]) -> Result<(), StoreError> {
    exec_sql(conn, sqlx::query(SQL_DELETE_ROLE_PERMISSIONS).bind(role)).await?;
    for p in perms {
        exec_sql(conn, sqlx::query(SQL_INSERT_ROLE_PERMISSION).bind(role).bind(p.clone())).await?;
    }
    Ok(())
}

async fn op_apply_org_change(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    change: OrgChange,
    audit: NewAudit,
) -> Result<i64, StoreError> {
    let mut created = 0;
    match change {
        OrgChange::CreateDepartment { name, parent_id, at } => {
            created = sqlx::query_scalar(SQL_INSERT_DEPARTMENT)
                .bind(name)
                .bind(parent_id.map(|d| d.0))
                .bind(ms(at))
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| department_conflict(map_err(e)))?;
        }
        OrgChange::UpdateDepartment { id, name, parent_id } => {
            let q = sqlx::query(SQL_UPDATE_DEPARTMENT).bind(name).bind(parent_id.map(|d| d.0)).bind(id.0);
            exec_sql(conn, q).await.map_err(department_conflict)?;
        }
        OrgChange::DeleteDepartment { id } => {
            exec_sql(conn, sqlx::query(SQL_DELETE_DEPARTMENT).bind(id.0)).await?;
        }
        OrgChange::UpdateUser { id, display_name, email, search_key, status, attributes: a, primary_department, secondary_departments } => {
            let q = sqlx::query(SQL_UPDATE_USER)
                .bind(display_name)
                .bind(email)
                .bind(search_key)
                .bind(status.as_str())
                .bind(a.title)
                .bind(a.region)
                .bind(a.employee_no)
                .bind(a.phone)
                .bind(a.time_zone)
                .bind(a.locale)
                .bind(a.manager_id.map(|m| m.0))
                .bind(id.0);
            exec_sql(conn, q).await.map_err(|e| match e {
                StoreError::Conflict(_) => StoreError::Conflict("that email is already taken".into()),
                other => other,
            })?;
            exec_sql(conn, sqlx::query(SQL_DELETE_USER_TAGS).bind(id.0)).await?;
            for tag in a.project_tags {
                exec_sql(conn, sqlx::query(SQL_INSERT_USER_TAG).bind(id.0).bind(tag)).await?;
            }
            exec_sql(conn, sqlx::query(SQL_DELETE_USER_DEPARTMENTS).bind(id.0)).await?;
            for (d, primary) in primary_department.iter().map(|d| (d, true)).chain(secondary_departments.iter().map(|d| (d, false))) {
                exec_sql(conn, sqlx::query(SQL_INSERT_USER_DEPARTMENT).bind(id.0).bind(d.0).bind(primary)).await?;
            }
            if status != UserStatus::Active {
                exec_sql(conn, sqlx::query(SQL_END_SESSIONS).bind(id.0)).await?;
            }
        }
        OrgChange::RegisterPermission { name, description, at } => {
            exec_sql(conn, sqlx::query(SQL_INSERT_PERMISSION).bind(name).bind(description).bind(ms(at))).await?;
        }
        OrgChange::CreateRole { name, description, permissions, at } => {
            created = sqlx::query_scalar(SQL_INSERT_ROLE)
                .bind(name)
                .bind(description)
                .bind(ms(at))
                .fetch_one(&mut *conn)
                .await
                .map_err(map_err)?;
            set_role_permissions(conn, created, &permissions).await?;
        }
        OrgChange::UpdateRole { id, name, description, permissions } => {
            exec_sql(conn, sqlx::query(SQL_UPDATE_ROLE).bind(name).bind(description).bind(id.0)).await?;
            set_role_permissions(conn, id.0, &permissions).await?;
        }
        OrgChange::DeleteRole { id } => {
            exec_sql(conn, sqlx::query(SQL_DELETE_ROLE_ASSIGNMENTS).bind(id.0)).await?;
            exec_sql(conn, sqlx::query(SQL_DELETE_ROLE_PERMISSIONS).bind(id.0)).await?;
            exec_sql(conn, sqlx::query(SQL_DELETE_ROLE).bind(id.0)).await?;
        }
        OrgChange::Assign { role_id, subject, scope, at } => {
            let (kind, subject_id) = subject_parts(subject);
            created = sqlx::query_scalar(SQL_INSERT_ASSIGNMENT)
                .bind(role_id.0)
                .bind(kind)
                .bind(subject_id)
                .bind(scope.map(|d| d.0))
                .bind(ms(at))
                .fetch_one(&mut *conn)
                .await
                .map_err(map_err)?;
            if kind == "user" {
                exec_sql(conn, sqlx::query(SQL_SYNC_IS_ADMIN).bind(subject_id)).await?;
            }
        }
        OrgChange::Directory(change) => {
            created = op_directory_change(conn, change).await?;
        }
        OrgChange::Unassign { id } => {
            let row = sqlx::query(SQL_ASSIGNMENT_SUBJECT).bind(id.0).fetch_optional(&mut *conn).await.map_err(map_err)?;
            let row = row.ok_or(StoreError::NotFound("assignment"))?;
            let kind: String = row.try_get("subject_kind").map_err(map_err)?;
            let subject_id: i64 = row.try_get("subject_id").map_err(map_err)?;
            exec_sql(conn, sqlx::query(SQL_DELETE_ASSIGNMENT).bind(id.0)).await?;
            if kind == "user" {
                exec_sql(conn, sqlx::query(SQL_SYNC_IS_ADMIN).bind(subject_id)).await?;
            }
        }
    }
    let mut audit = audit;
    audit.target = audit.target.replace("{id}", &created.to_string());
    op_append_audit(conn, events, audit).await?;
    Ok(created)
}
