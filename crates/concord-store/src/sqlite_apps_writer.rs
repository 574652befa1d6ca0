// Apps' writes on SQLite's writer thread (rusqlite), running the statements of
// `shared/apps_sql.rs`. Included by `sqlite.rs` after `shared/apps_sql.rs`.

fn op_install_app(conn: &rusqlite::Connection, events: &mut Vec<CommittedEvent>, app: NewApp) -> Result<AppId, StoreError> {
    let bot = op_create_user(conn, events, app.bot)?;
    exec(conn, SQL_APP_MARK_BOT, params![true, bot.id.0])?;
    let id = r_insert_returning(
        conn,
        SQL_APP_INSERT,
        params![app.name, app.description, scopes_text(&app.scopes), bot.id.0, app.installed_by.map(|u| u.0), ms(app.at)],
    )?;
    exec(conn, SQL_APP_TOKEN_INSERT, params![app.token_hash, id, ms(app.at)])?;
    let mut audit = app.audit;
    audit.target = audit.target.replace("{id}", &id.to_string());
    op_append_audit(conn, events, audit)?;
    Ok(AppId(id))
}

/// The bot user of an installed app, or `NotFound`.
fn r_installed_bot(conn: &rusqlite::Connection, id: AppId) -> Result<i64, StoreError> {
    conn.prepare_cached(SQL_APP_INSTALLED_BOT)
        .and_then(|mut st| st.query_row(params![id.0], |r| r.get(0)).optional())
        .map_err(map_rerr)?
        .ok_or(StoreError::NotFound("app"))
}

fn op_rotate_app_token(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    id: AppId,
    token_hash: String,
    at: Timestamp,
    audit: NewAudit,
) -> Result<(), StoreError> {
    r_installed_bot(conn, id)?;
    exec(conn, SQL_APP_TOKENS_REVOKE, params![ms(at), id.0])?;
    exec(conn, SQL_APP_TOKEN_INSERT, params![token_hash, id.0, ms(at)])?;
    op_append_audit(conn, events, audit)
}

fn op_uninstall_app(
    conn: &rusqlite::Connection,
    events: &mut Vec<CommittedEvent>,
    id: AppId,
    at: Timestamp,
    audit: NewAudit,
) -> Result<(), StoreError> {
    let bot = r_installed_bot(conn, id)?;
    exec(conn, SQL_APP_UNINSTALL, params![ms(at), id.0])?;
    exec(conn, SQL_APP_TOKENS_REVOKE, params![ms(at), id.0])?;
    exec(conn, SQL_APP_DEACTIVATE_BOT, params![concord_proto::UserStatus::Deactivated.as_str(), bot])?;
    exec(conn, SQL_APP_END_BOT_SESSIONS, params![bot])?;
    op_append_audit(conn, events, audit)
}
