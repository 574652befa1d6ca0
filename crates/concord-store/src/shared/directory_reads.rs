// Included by the backends (see base.rs): the reads of directory sync (SCIM, LDAP) on the
// read pool, in SQL both dialects accept.

use concord_core::store::{DirectoryUserFilter, ExternalRef, SourcedUser};

impl SqlStore {
    async fn dir_user_external_ref(&self, id: UserId) -> Result<Option<ExternalRef>, sqlx::Error> {
        let row = sqlx::query("SELECT external_source, external_id FROM users WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.read)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let source: Option<String> = row.try_get("external_source")?;
        Ok(match source {
            Some(source) => Some(ExternalRef { source, id: row.try_get("external_id")? }),
            None => None,
        })
    }

    async fn dir_users_from_source(&self, source: &str) -> Result<Vec<SourcedUser>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, username, external_id, status FROM users WHERE external_source = $1 ORDER BY id",
        )
        .bind(source)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                Ok(SourcedUser {
                    id: UserId(r.try_get("id")?),
                    username: r.try_get("username")?,
                    external_id: r.try_get("external_id")?,
                    status: UserStatus::parse(&status)
                        .ok_or_else(|| sqlx::Error::Decode(format!("user status {status}").into()))?,
                })
            })
            .collect()
    }

    async fn dir_users(
        &self,
        filter: DirectoryUserFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<UserId>), sqlx::Error> {
        let condition = |q: &mut QueryBuilder<Db>| match &filter {
            DirectoryUserFilter::All => {}
            DirectoryUserFilter::Username(u) => {
                q.push(" WHERE username = ").push_bind(u.to_lowercase());
            }
            DirectoryUserFilter::ExternalId(e) => {
                q.push(" WHERE external_id = ").push_bind(e.clone());
            }
        };
        let mut count = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM users");
        condition(&mut count);
        let total: i64 = count.build_query_scalar().fetch_one(&self.read).await?;
        let mut page = QueryBuilder::<Db>::new("SELECT id FROM users");
        condition(&mut page);
        page.push(" ORDER BY id LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        let ids: Vec<i64> = page.build_query_scalar().fetch_all(&self.read).await?;
        Ok((total, ids.into_iter().map(UserId).collect()))
    }

    async fn dir_department_external_refs(&self) -> Result<Vec<(DepartmentId, ExternalRef)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, external_source, external_id FROM departments WHERE external_source IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    DepartmentId(r.try_get("id")?),
                    ExternalRef { source: r.try_get("external_source")?, id: r.try_get("external_id")? },
                ))
            })
            .collect()
    }

    async fn dir_department_people(&self, id: DepartmentId) -> Result<Vec<(UserId, bool)>, sqlx::Error> {
        let rows = sqlx::query("SELECT user_id, is_primary FROM user_departments WHERE department_id = $1 ORDER BY user_id")
            .bind(id.0)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|r| Ok((UserId(r.try_get("user_id")?), r.try_get("is_primary")?))).collect()
    }
}
