// Apps' writes for the sqlx writer (PostgreSQL); SQLite's are in `sqlite_apps_writer.rs`,
// with the same statements (`shared/apps_sql.rs`).

async fn op_install_app(conn: &mut DbConn, events: &mut Vec<CommittedEvent>, app: NewApp) -> Result<AppId, StoreError> {
    let bot = op_create_user(conn, events, app.bot).await?;
    exec_sql(conn, sqlx::query(SQL_APP_MARK_BOT).bind(true).bind(bot.id.0)).await?;
    let id: i64 = sqlx::query_scalar(SQL_APP_INSERT)
        .bind(app.name)
        .bind(app.description)
        .bind(scopes_text(&app.scopes))
        .bind(bot.id.0)
        .bind(app.installed_by.map(|u| u.0))
        .bind(ms(app.at))
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    exec_sql(conn, sqlx::query(SQL_APP_TOKEN_INSERT).bind(app.token_hash).bind(id).bind(ms(app.at))).await?;
    let mut audit = app.audit;
    audit.target = audit.target.replace("{id}", &id.to_string());
    op_append_audit(conn, events, audit).await?;
    Ok(AppId(id))
}

/// The bot user of an installed app, or `NotFound`.
async fn installed_bot(conn: &mut DbConn, id: AppId) -> Result<i64, StoreError> {
    sqlx::query_scalar(SQL_APP_INSTALLED_BOT)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?
        .ok_or(StoreError::NotFound("app"))
}

async fn op_rotate_app_token(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    id: AppId,
    token_hash: String,
    at: Timestamp,
    audit: NewAudit,
) -> Result<(), StoreError> {
    installed_bot(conn, id).await?;
    exec_sql(conn, sqlx::query(SQL_APP_TOKENS_REVOKE).bind(ms(at)).bind(id.0)).await?;
    exec_sql(conn, sqlx::query(SQL_APP_TOKEN_INSERT).bind(token_hash).bind(id.0).bind(ms(at))).await?;
    op_append_audit(conn, events, audit).await
}

async fn op_uninstall_app(
    conn: &mut DbConn,
    events: &mut Vec<CommittedEvent>,
    id: AppId,
    at: Timestamp,
    audit: NewAudit,
) -> Result<(), StoreError> {
    let bot = installed_bot(conn, id).await?;
    exec_sql(conn, sqlx::query(SQL_APP_UNINSTALL).bind(ms(at)).bind(id.0)).await?;
    exec_sql(conn, sqlx::query(SQL_APP_TOKENS_REVOKE).bind(ms(at)).bind(id.0)).await?;
    let deactivated = concord_proto::UserStatus::Deactivated.as_str();
    exec_sql(conn, sqlx::query(SQL_APP_DEACTIVATE_BOT).bind(deactivated).bind(bot)).await?;
    exec_sql(conn, sqlx::query(SQL_APP_END_BOT_SESSIONS).bind(bot)).await?;
    op_append_audit(conn, events, audit).await
}
