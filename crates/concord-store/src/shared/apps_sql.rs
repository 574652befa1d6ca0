// Included by both backends: the statements behind apps and bot tokens, their reads, and the
// `AppStore` impl. Writes run on each backend's writer (`sqlite_apps_writer.rs`,
// `shared/sqlx_apps_writes.rs`) with these statements; `$n` are numbered in order of first
// appearance so SQLite can bind them positionally (see org_sql.rs).

use concord_core::store::{AppRecord, AppStore, AppTokenGrant, NewApp};
use concord_proto::AppId;

const SQL_APP_MARK_BOT: &str = "UPDATE users SET is_bot = $1 WHERE id = $2";
const SQL_APP_INSERT: &str = "INSERT INTO apps (name, description, scopes, bot_user_id, installed_by, installed_at) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
const SQL_APP_TOKEN_INSERT: &str = "INSERT INTO app_tokens (token_hash, app_id, created_at) VALUES ($1, $2, $3)";
const SQL_APP_TOKENS_REVOKE: &str = "UPDATE app_tokens SET revoked_at = $1 WHERE app_id = $2 AND revoked_at IS NULL";
const SQL_APP_INSTALLED_BOT: &str = "SELECT bot_user_id FROM apps WHERE id = $1 AND uninstalled_at IS NULL";
const SQL_APP_UNINSTALL: &str = "UPDATE apps SET uninstalled_at = $1 WHERE id = $2 AND uninstalled_at IS NULL";
const SQL_APP_DEACTIVATE_BOT: &str = "UPDATE users SET status = $1 WHERE id = $2";
const SQL_APP_END_BOT_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";

/// An app with its bot user; app columns are aliased so the user's decode as in `USER_COLS`.
const SQL_APP_SELECT: &str = "SELECT a.id AS app_id, a.name AS app_name, a.description, a.scopes, a.installed_by, \
     a.installed_at, (SELECT MAX(t.created_at) FROM app_tokens t WHERE t.app_id = a.id AND t.revoked_at IS NULL) \
     AS token_issued_at, u.id, u.username, u.email, u.display_name, u.is_admin, u.is_bot, u.created_at \
     FROM apps a JOIN users u ON u.id = a.bot_user_id WHERE a.uninstalled_at IS NULL";

/// Scopes as stored: space-separated (scope names contain no spaces).
fn scopes_text(scopes: &[String]) -> String {
    scopes.join(" ")
}

fn scopes_from(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

fn app_from_row(row: &DbRow) -> Result<AppRecord, sqlx::Error> {
    let scopes: String = row.try_get("scopes")?;
    Ok(AppRecord {
        id: AppId(row.try_get("app_id")?),
        name: row.try_get("app_name")?,
        description: row.try_get("description")?,
        scopes: scopes_from(&scopes),
        bot_user: user_from_row(row)?,
        installed_by: row.try_get::<Option<i64>, _>("installed_by")?.map(UserId),
        installed_at: ts(row.try_get("installed_at")?),
        token_issued_at: row.try_get::<Option<i64>, _>("token_issued_at")?.map(ts),
    })
}

impl SqlStore {
    async fn load_apps(&self, id: Option<AppId>) -> Result<Vec<AppRecord>, sqlx::Error> {
        let rows = match id {
            Some(id) => {
                sqlx::query(sqlf!("{SQL_APP_SELECT} AND a.id = $1"))
                    .bind(id.0)
                    .fetch_all(&self.read)
                    .await?
            }
            None => sqlx::query(sqlf!("{SQL_APP_SELECT} ORDER BY a.id")).fetch_all(&self.read).await?,
        };
        rows.iter().map(app_from_row).collect()
    }

    async fn load_app_token(&self, token_hash: &str) -> Result<Option<AppTokenGrant>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT a.id, a.bot_user_id, a.scopes FROM app_tokens t JOIN apps a ON a.id = t.app_id \
             JOIN users u ON u.id = a.bot_user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND a.uninstalled_at IS NULL AND u.status = 'active'",
        )
        .bind(token_hash)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            let scopes: String = r.try_get("scopes")?;
            Ok(AppTokenGrant {
                app_id: AppId(r.try_get("id")?),
                bot_user_id: UserId(r.try_get("bot_user_id")?),
                scopes: scopes_from(&scopes),
            })
        })
        .transpose()
    }
}

#[async_trait]
impl AppStore for SqlStore {
    async fn install_app(&self, app: NewApp) -> Result<AppRecord, StoreError> {
        let id: AppId = write_op!(self, op_install_app(app))?;
        self.load_apps(Some(id))
            .await
            .map_err(map_err)?
            .pop()
            .ok_or(StoreError::NotFound("app"))
    }

    async fn apps(&self) -> Result<Vec<AppRecord>, StoreError> {
        self.load_apps(None).await.map_err(map_err)
    }

    async fn app(&self, id: AppId) -> Result<Option<AppRecord>, StoreError> {
        Ok(self.load_apps(Some(id)).await.map_err(map_err)?.pop())
    }

    async fn rotate_app_token(
        &self,
        id: AppId,
        token_hash: String,
        at: Timestamp,
        audit: NewAudit,
    ) -> Result<(), StoreError> {
        write_op!(self, op_rotate_app_token(id, token_hash, at, audit))
    }

    async fn uninstall_app(&self, id: AppId, at: Timestamp, audit: NewAudit) -> Result<(), StoreError> {
        write_op!(self, op_uninstall_app(id, at, audit))
    }

    async fn app_token(&self, token_hash: &str) -> Result<Option<AppTokenGrant>, StoreError> {
        self.load_app_token(token_hash).await.map_err(map_err)
    }
}
