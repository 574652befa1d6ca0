// Included by both backends: the statements behind dynamic membership (rules, geofences) and
// reported locations. `$n` parameters numbered in order of first appearance (see org_sql.rs).

use concord_core::store::{ChannelPolicyRecord, MemberSource, MembershipSync, PolicyKind, RuleSubjectRecord};

const SQL_UPSERT_POLICY: &str = "INSERT INTO channel_policies (channel_id, kind, body, updated_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (channel_id, kind) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at";
const SQL_DELETE_POLICY: &str = "DELETE FROM channel_policies WHERE channel_id = $1 AND kind = $2";
const SQL_INSERT_MEMBER_FROM: &str = "INSERT INTO channel_members (channel_id, user_id, role, joined_at, last_read_seq, source) \
     SELECT $1, $2, 'member', $3, c.last_seq, $4 FROM channels c WHERE c.id = $1 \
     ON CONFLICT (channel_id, user_id) DO NOTHING";
const SQL_DELETE_MEMBER_FROM: &str = "DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2 AND source = $3";
const SQL_SET_LOCATION_SHARING: &str = "UPDATE users SET location_sharing = $1 WHERE id = $2";
const SQL_FORGET_LOCATION: &str = "DELETE FROM user_locations WHERE user_id = $1";
const SQL_UPSERT_LOCATION: &str = "INSERT INTO user_locations (user_id, latitude, longitude, accuracy_m, reported_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET latitude = excluded.latitude, \
     longitude = excluded.longitude, accuracy_m = excluded.accuracy_m, reported_at = excluded.reported_at";
const SQL_UPSERT_PRESENCE: &str = "INSERT INTO geofence_presence (user_id, channel_id, state) VALUES ($1, $2, $3) \
     ON CONFLICT (user_id, channel_id) DO UPDATE SET state = excluded.state";
const SQL_DELETE_PRESENCE: &str = "DELETE FROM geofence_presence WHERE user_id = $1 AND channel_id = $2";
const SQL_PURGE_LOCATIONS: &str = "DELETE FROM user_locations WHERE reported_at < $1";

fn policy_kind(s: &str) -> Result<PolicyKind, sqlx::Error> {
    match s {
        "rule" => Ok(PolicyKind::Rule),
        "geofence" => Ok(PolicyKind::Geofence),
        "dlp" => Ok(PolicyKind::Dlp),
        "files" => Ok(PolicyKind::Files),
        other => Err(sqlx::Error::Decode(format!("policy kind {other}").into())),
    }
}

impl SqlStore {
    async fn load_policies(&self) -> Result<Vec<ChannelPolicyRecord>, sqlx::Error> {
        let rows = sqlx::query("SELECT channel_id, kind, body FROM channel_policies ORDER BY channel_id, kind")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                Ok(ChannelPolicyRecord {
                    channel_id: ChannelId(r.try_get("channel_id")?),
                    kind: policy_kind(&kind)?,
                    body: r.try_get("body")?,
                })
            })
            .collect()
    }

    async fn load_rule_subjects(&self, only: Option<UserId>) -> Result<Vec<RuleSubjectRecord>, sqlx::Error> {
        let mut conn = self.read.acquire().await?;
        let mut tx = begin_snapshot(&mut conn).await?;
        // `$1` NULL: everyone active. Bots join channels only when invited, never by a rule.
        let mut out: Vec<RuleSubjectRecord> = sqlx::query(
            "SELECT id, title, region FROM users WHERE status = 'active' AND NOT is_bot AND ($1 IS NULL OR id = $1) ORDER BY id",
        )
        .bind(only.map(|u| u.0))
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| {
                    Ok(RuleSubjectRecord {
                        user_id: UserId(r.try_get("id")?),
                        title: r.try_get("title")?,
                        region: r.try_get("region")?,
                        project_tags: Vec::new(),
                    })
                })
                .collect::<Result<_, sqlx::Error>>()?;
        for r in sqlx::query("SELECT user_id, tag FROM user_tags WHERE ($1 IS NULL OR user_id = $1) ORDER BY user_id")
            .bind(only.map(|u| u.0))
            .fetch_all(&mut *tx)
            .await?
        {
            let id = UserId(r.try_get("user_id")?);
            if let Ok(i) = out.binary_search_by_key(&id, |s| s.user_id) {
                out[i].project_tags.push(r.try_get("tag")?);
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn load_member_sources(&self, channel: ChannelId) -> Result<Vec<(UserId, MemberSource)>, sqlx::Error> {
        let rows = sqlx::query("SELECT user_id, source FROM channel_members WHERE channel_id = $1 ORDER BY user_id")
            .bind(channel.0)
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                let source: String = r.try_get("source")?;
                let source = MemberSource::parse(&source)
                    .ok_or_else(|| sqlx::Error::Decode(format!("member source {source}").into()))?;
                Ok((UserId(r.try_get("user_id")?), source))
            })
            .collect()
    }

    async fn load_location_sharing(&self, user: UserId) -> Result<bool, sqlx::Error> {
        let on: Option<bool> = sqlx::query_scalar("SELECT location_sharing FROM users WHERE id = $1")
            .bind(user.0)
            .fetch_optional(&self.read)
            .await?;
        Ok(on.unwrap_or(false))
    }

    async fn load_geofence_states(&self, user: Option<UserId>) -> Result<Vec<(UserId, ChannelId, String)>, sqlx::Error> {
        let rows = match user {
            Some(u) => {
                sqlx::query("SELECT user_id, channel_id, state FROM geofence_presence WHERE user_id = $1 ORDER BY channel_id")
                    .bind(u.0)
                    .fetch_all(&self.read)
                    .await?
            }
            None => {
                sqlx::query("SELECT user_id, channel_id, state FROM geofence_presence ORDER BY user_id, channel_id")
                    .fetch_all(&self.read)
                    .await?
            }
        };
        rows.iter()
            .map(|r| Ok((UserId(r.try_get("user_id")?), ChannelId(r.try_get("channel_id")?), r.try_get("state")?)))
            .collect()
    }
}
