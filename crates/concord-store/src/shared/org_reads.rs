// Included by the backends (see base.rs): reads of the organisation, people's profiles and
// the audit log, on the read pool, in SQL both dialects accept.

use concord_core::store::{AuditFilter, DepartmentNode, OrgData, StoredProfile, UserAttributes, UserPlacement};
use concord_proto::{AssignmentId, AuditEntry, DepartmentId, Permission, Role, RoleAssignment, RoleId, Subject, UserStatus};

fn subject_from(kind: &str, id: i64) -> Result<Subject, sqlx::Error> {
    match kind {
        "user" => Ok(Subject::User(UserId(id))),
        "department" => Ok(Subject::Department(DepartmentId(id))),
        other => Err(sqlx::Error::Decode(format!("subject kind {other}").into())),
    }
}

fn subject_parts(s: Subject) -> (&'static str, i64) {
    match s {
        Subject::User(u) => ("user", u.0),
        Subject::Department(d) => ("department", d.0),
    }
}

impl SqlStore {
    async fn load_audit_chain(&self) -> Result<Vec<concord_core::audit::ChainedEntry>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, at, actor_id, ip, action, target, before, after, prev_hash, hash FROM audit_log ORDER BY id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(concord_core::audit::ChainedEntry {
                    id: r.try_get("id")?,
                    at_ms: r.try_get("at")?,
                    actor_id: r.try_get("actor_id")?,
                    ip: r.try_get("ip")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    before: r.try_get("before")?,
                    after: r.try_get("after")?,
                    prev_hash: r.try_get("prev_hash")?,
                    hash: r.try_get("hash")?,
                })
            })
            .collect()
    }

    async fn load_audit_checkpoints(&self) -> Result<Vec<concord_core::audit::Checkpoint>, sqlx::Error> {
        let rows = sqlx::query("SELECT id, through_id, hash, suite, public_key, signature, at FROM audit_checkpoints ORDER BY id")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                let suite: String = r.try_get("suite")?;
                Ok(concord_core::audit::Checkpoint {
                    id: r.try_get("id")?,
                    through_id: r.try_get("through_id")?,
                    hash: r.try_get("hash")?,
                    suite: concord_core::crypto::Suite::parse(&suite)
                        .ok_or_else(|| sqlx::Error::Decode(format!("crypto suite {suite}").into()))?,
                    public_key: r.try_get("public_key")?,
                    signature: r.try_get("signature")?,
                    at_ms: r.try_get("at")?,
                })
            })
            .collect()
    }

    async fn load_audit_head(&self) -> Result<Option<(i64, String)>, sqlx::Error> {
        let row = sqlx::query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetch_optional(&self.read).await?;
        row.map(|r| Ok((r.try_get("id")?, r.try_get("hash")?))).transpose()
    }

    async fn load_org_data(&self) -> Result<OrgData, sqlx::Error> {
        let mut conn = self.read.acquire().await?;
        let mut tx = begin_snapshot(&mut conn).await?;
        let departments = sqlx::query("SELECT id, name, parent_id, created_at FROM departments ORDER BY id")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| {
                Ok(DepartmentNode {
                    id: DepartmentId(r.try_get("id")?),
                    name: r.try_get("name")?,
                    parent_id: r.try_get::<Option<i64>, _>("parent_id")?.map(DepartmentId),
                    created_at: ts(r.try_get("created_at")?),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let mut roles = sqlx::query("SELECT id, name, description, builtin FROM roles ORDER BY id")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| {
                Ok(Role {
                    id: RoleId(r.try_get("id")?),
                    name: r.try_get("name")?,
                    description: r.try_get("description")?,
                    builtin: r.try_get("builtin")?,
                    permissions: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        for r in sqlx::query("SELECT role_id, permission FROM role_permissions ORDER BY role_id, permission")
            .fetch_all(&mut *tx)
            .await?
        {
            let id = RoleId(r.try_get("role_id")?);
            if let Some(role) = roles.iter_mut().find(|x| x.id == id) {
                role.permissions.push(r.try_get("permission")?);
            }
        }
        let assignments = sqlx::query(
            "SELECT id, role_id, subject_kind, subject_id, scope_department_id, created_at FROM role_assignments ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            let kind: String = r.try_get("subject_kind")?;
            Ok(RoleAssignment {
                id: AssignmentId(r.try_get("id")?),
                role_id: RoleId(r.try_get("role_id")?),
                subject: subject_from(&kind, r.try_get("subject_id")?)?,
                scope_department_id: r.try_get::<Option<i64>, _>("scope_department_id")?.map(DepartmentId),
                created_at: ts(r.try_get("created_at")?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let custom_permissions = sqlx::query("SELECT name, description FROM permissions ORDER BY name")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok(Permission { name: r.try_get("name")?, description: r.try_get("description")?, builtin: false }))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let mut placements: std::collections::BTreeMap<i64, UserPlacement> = std::collections::BTreeMap::new();
        for r in sqlx::query(
            "SELECT ud.user_id, ud.department_id, ud.is_primary FROM user_departments ud \
             JOIN users u ON u.id = ud.user_id WHERE u.status = 'active' ORDER BY ud.user_id, ud.department_id",
        )
        .fetch_all(&mut *tx)
        .await?
        {
            let p = placements.entry(r.try_get("user_id")?).or_default();
            let d = DepartmentId(r.try_get("department_id")?);
            if r.try_get::<bool, _>("is_primary")? {
                p.primary = Some(d);
            } else {
                p.secondary.push(d);
            }
        }
        for r in sqlx::query("SELECT id FROM users WHERE guest").fetch_all(&mut *tx).await? {
            placements.entry(r.try_get("id")?).or_default().guest = true;
        }
        tx.commit().await?;
        Ok(OrgData {
            departments,
            roles,
            assignments,
            custom_permissions,
            placements: placements.into_iter().map(|(u, p)| (UserId(u), p)).collect(),
        })
    }

    async fn load_profile(&self, id: UserId) -> Result<Option<StoredProfile>, sqlx::Error> {
        let mut conn = self.read.acquire().await?;
        let mut tx = begin_snapshot(&mut conn).await?;
        let row = sqlx::query(sqlf!(
            "SELECT {USER_COLS}, status, title, region, employee_no, phone, time_zone, locale, manager_id, guest, \
             location_sharing \
             FROM users WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let status: String = row.try_get("status")?;
        let tags = sqlx::query_scalar("SELECT tag FROM user_tags WHERE user_id = $1 ORDER BY tag")
            .bind(id.0)
            .fetch_all(&mut *tx)
            .await?;
        let mut placement = UserPlacement { guest: row.try_get("guest")?, ..Default::default() };
        for r in sqlx::query("SELECT department_id, is_primary FROM user_departments WHERE user_id = $1 ORDER BY department_id")
            .bind(id.0)
            .fetch_all(&mut *tx)
            .await?
        {
            let d = DepartmentId(r.try_get("department_id")?);
            if r.try_get::<bool, _>("is_primary")? {
                placement.primary = Some(d);
            } else {
                placement.secondary.push(d);
            }
        }
        tx.commit().await?;
        Ok(Some(StoredProfile {
            user: user_from_row(&row)?,
            status: UserStatus::parse(&status).ok_or_else(|| sqlx::Error::Decode(format!("user status {status}").into()))?,
            attributes: UserAttributes {
                title: row.try_get("title")?,
                region: row.try_get("region")?,
                employee_no: row.try_get("employee_no")?,
                phone: row.try_get("phone")?,
                time_zone: row.try_get("time_zone")?,
                locale: row.try_get("locale")?,
                manager_id: row.try_get::<Option<i64>, _>("manager_id")?.map(UserId),
                project_tags: tags,
            },
            placement,
            location_sharing: row.try_get("location_sharing")?,
        }))
    }

    async fn find_users(
        &self,
        needle: Option<&str>,
        among: Option<&[UserId]>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<User>, sqlx::Error> {
        let mut q = QueryBuilder::<Db>::new(format!("SELECT {USER_COLS} FROM users WHERE status = 'active' AND id > "));
        q.push_bind(after);
        if let Some(needle) = needle {
            // LIKE with the wildcards in the needle escaped: a search for "50%" finds "50%".
            let escaped = needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            q.push(" AND search_key LIKE ");
            q.push_bind(format!("%{escaped}%"));
            q.push(" ESCAPE '\\'");
        }
        if let Some(ids) = among {
            q.push(" AND id IN (");
            let mut list = q.separated(", ");
            for id in ids.iter().take(10_000) {
                list.push_bind(id.0);
            }
            q.push(")");
        }
        q.push(" ORDER BY id LIMIT ");
        q.push_bind(limit);
        let rows = q.build().fetch_all(&self.read).await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn find_audit(&self, f: AuditFilter) -> Result<Vec<AuditEntry>, sqlx::Error> {
        let mut q = QueryBuilder::<Db>::new("SELECT id, at, actor_id, ip, action, target, before, after FROM audit_log WHERE 1 = 1");
        if let Some(a) = f.actor_id {
            q.push(" AND actor_id = ").push_bind(a.0);
        }
        if let Some(action) = f.action {
            if f.action_prefix {
                let escaped = action.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                q.push(" AND action LIKE ").push_bind(format!("{escaped}%")).push(" ESCAPE '\\'");
            } else {
                q.push(" AND action = ").push_bind(action);
            }
        }
        if let Some(t) = f.target {
            q.push(" AND target = ").push_bind(t);
        }
        if let Some(from) = f.from {
            q.push(" AND at >= ").push_bind(ms(from));
        }
        if let Some(to) = f.to {
            q.push(" AND at < ").push_bind(ms(to));
        }
        if let Some(b) = f.before_id {
            q.push(" AND id < ").push_bind(b);
        }
        q.push(" ORDER BY id DESC LIMIT ").push_bind(f.limit);
        let rows = q.build().fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| {
                let json = |col: &str| -> Result<Option<serde_json::Value>, sqlx::Error> {
                    r.try_get::<Option<String>, _>(col)?
                        .map(|s| serde_json::from_str(&s).map_err(|e| sqlx::Error::Decode(e.into())))
                        .transpose()
                };
                Ok(AuditEntry {
                    id: r.try_get("id")?,
                    at: ts(r.try_get("at")?),
                    actor_id: r.try_get::<Option<i64>, _>("actor_id")?.map(UserId),
                    ip: r.try_get("ip")?,
                    action: r.try_get("action")?,
                    target: r.try_get("target")?,
                    before: json("before")?,
                    after: json("after")?,
                })
            })
            .collect()
    }
}
