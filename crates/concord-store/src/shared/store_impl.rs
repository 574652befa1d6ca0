// Included by the backends (see base.rs): the `Store` trait, reads on the pool and writes
// through the backend's writer.

#[async_trait]
impl Store for SqlStore {
    async fn share_a_channel(&self, a: UserId, b: UserId) -> Result<bool, StoreError> {
        let shared: Option<i64> = sqlx::query_scalar(
            "SELECT x.channel_id FROM channel_members x JOIN channel_members y ON y.channel_id = x.channel_id \
             WHERE x.user_id = $1 AND y.user_id = $2 LIMIT 1",
        )
        .bind(a.0)
        .bind(b.0)
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        Ok(shared.is_some())
    }

    async fn channel_policies(&self) -> Result<Vec<ChannelPolicyRecord>, StoreError> {
        self.load_policies().await.map_err(map_err)
    }

    async fn set_channel_policy(
        &self,
        channel: ChannelId,
        kind: PolicyKind,
        body: Option<String>,
        audit: NewAudit,
    ) -> Result<(), StoreError> {
        write_op!(self, op_set_channel_policy(channel, kind, body, audit))
    }

    async fn rule_subjects(&self, only: Option<UserId>) -> Result<Vec<RuleSubjectRecord>, StoreError> {
        self.load_rule_subjects(only).await.map_err(map_err)
    }

    async fn member_sources(&self, channel: ChannelId) -> Result<Vec<(UserId, MemberSource)>, StoreError> {
        self.load_member_sources(channel).await.map_err(map_err)
    }

    async fn sync_membership(&self, sync: MembershipSync) -> Result<(Vec<UserId>, Vec<UserId>), StoreError> {
        write_op!(self, op_sync_membership(sync))
    }

    async fn set_location_sharing(&self, user: UserId, enabled: bool) -> Result<(), StoreError> {
        write_op!(self, op_set_location_sharing(user, enabled))
    }

    async fn location_sharing(&self, user: UserId) -> Result<bool, StoreError> {
        self.load_location_sharing(user).await.map_err(map_err)
    }

    async fn record_location(
        &self,
        user: UserId,
        latitude: f64,
        longitude: f64,
        accuracy_m: f64,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        write_op!(self, op_record_location(user, (latitude, longitude, accuracy_m), at))
    }

    async fn geofence_states(&self, user: Option<UserId>) -> Result<Vec<(UserId, ChannelId, String)>, StoreError> {
        self.load_geofence_states(user).await.map_err(map_err)
    }

    async fn save_geofence_state(&self, user: UserId, channel: ChannelId, state: Option<String>) -> Result<(), StoreError> {
        write_op!(self, op_save_geofence_state(user, channel, state))
    }

    async fn purge_locations(&self, before: Timestamp) -> Result<u64, StoreError> {
        write_op!(self, op_purge_locations(before))
    }

    async fn ensure_builtin_roles(
        &self,
        roles: Vec<(String, String, String, Vec<String>)>,
        all_builtin_permissions: Vec<String>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        write_op!(self, op_ensure_builtin_roles(roles, all_builtin_permissions, at))
    }

    async fn org_data(&self) -> Result<OrgData, StoreError> {
        self.load_org_data().await.map_err(map_err)
    }

    async fn apply_org_change(&self, change: OrgChange, audit: NewAudit) -> Result<i64, StoreError> {
        write_op!(self, op_apply_org_change(change, audit))
    }

    async fn append_audit(&self, audit: NewAudit) -> Result<(), StoreError> {
        write_op!(self, op_append_audit(audit))
    }

    async fn audit_chain(&self) -> Result<Vec<concord_core::audit::ChainedEntry>, StoreError> {
        self.load_audit_chain().await.map_err(map_err)
    }

    async fn audit_checkpoints(&self) -> Result<Vec<concord_core::audit::Checkpoint>, StoreError> {
        self.load_audit_checkpoints().await.map_err(map_err)
    }

    async fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        self.load_audit_head().await.map_err(map_err)
    }

    async fn append_audit_checkpoint(&self, checkpoint: concord_core::audit::Checkpoint) -> Result<(), StoreError> {
        write_op!(self, op_append_audit_checkpoint(checkpoint))
    }

    async fn audit_entries(&self, filter: AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        self.find_audit(filter).await.map_err(map_err)
    }

    async fn user_profile(&self, id: UserId) -> Result<Option<StoredProfile>, StoreError> {
        self.load_profile(id).await.map_err(map_err)
    }

    async fn search_users(
        &self,
        needle: Option<&str>,
        among: Option<&[UserId]>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<User>, StoreError> {
        self.find_users(needle, among, after, limit).await.map_err(map_err)
    }

    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        write_op!(self, op_create_user(user))
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(sqlf!("SELECT {USER_COLS} FROM users WHERE id = $1 AND status = 'active'"))
            .bind(id.0)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.as_ref().map(user_from_row).transpose().map_err(map_err)
    }

    async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>, StoreError> {
        let login = login.to_lowercase();
        let row = sqlx::query(sqlf!(
            "SELECT {USER_COLS}, password_hash, status FROM users WHERE username = $1 OR email = $1 LIMIT 1"
        ))
        .bind(&login)
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let status: String = row.try_get("status").map_err(map_err)?;
        Ok(Some(UserRecord {
            user: user_from_row(&row).map_err(map_err)?,
            password_hash: row.try_get("password_hash").map_err(map_err)?,
            active: status == "active",
        }))
    }

    async fn users_by_usernames(&self, usernames: &[String]) -> Result<Vec<User>, StoreError> {
        if usernames.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = QueryBuilder::<Db>::new(format!("SELECT {USER_COLS} FROM users WHERE status = 'active' AND username IN ("));
        let mut list = q.separated(", ");
        for name in usernames.iter().take(256) {
            list.push_bind(name.clone());
        }
        q.push(")");
        let rows = q.build().fetch_all(&self.read).await.map_err(map_err)?;
        rows.iter().map(user_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn count_users(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.read).await.map_err(map_err)
    }

    async fn create_session(&self, s: NewSession) -> Result<(), StoreError> {
        write_op!(self, op_create_session(s))
    }

    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query("SELECT user_id, created_at, last_seen_at, expires_at FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let get = |col: &str| row.try_get::<i64, _>(col).map_err(map_err);
        Ok(Some(SessionRecord {
            user_id: UserId(get("user_id")?),
            created_at: ts(get("created_at")?),
            last_seen_at: ts(get("last_seen_at")?),
            expires_at: ts(get("expires_at")?),
        }))
    }

    async fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<(), StoreError> {
        let hash = token_hash.to_string();
        write_op!(self, op_touch_session(hash, at))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let hash = token_hash.to_string();
        write_op!(self, op_delete_session(hash))
    }

    async fn create_channel(&self, channel: NewChannel) -> Result<Channel, StoreError> {
        write_op!(self, op_create_channel(channel))
    }

    async fn channel(&self, id: ChannelId) -> Result<Option<Channel>, StoreError> {
        let row = sqlx::query(sqlf!("SELECT {CHANNEL_COLS} FROM channels c WHERE c.id = $1"))
            .bind(id.0)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.as_ref().map(channel_from_row).transpose().map_err(map_err)
    }

    async fn channel_by_dm_key(&self, dm_key: &str) -> Result<Option<Channel>, StoreError> {
        let row = sqlx::query(sqlf!("SELECT {CHANNEL_COLS} FROM channels c WHERE c.dm_key = $1"))
            .bind(dm_key)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?;
        row.as_ref().map(channel_from_row).transpose().map_err(map_err)
    }

    async fn update_channel(&self, id: ChannelId, update: ChannelUpdate, at: Timestamp) -> Result<Channel, StoreError> {
        write_op!(self, op_update_channel(id, update, at))
    }

    async fn membership(&self, channel: ChannelId, user: UserId) -> Result<Option<Membership>, StoreError> {
        let row = sqlx::query(
            "SELECT role, last_read_seq, joined_at FROM channel_members WHERE channel_id = $1 AND user_id = $2",
        )
        .bind(channel.0)
        .bind(user.0)
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role").map_err(map_err)?;
        Ok(Some(Membership {
            role: role_from(&role).map_err(map_err)?,
            last_read_seq: row.try_get("last_read_seq").map_err(map_err)?,
            joined_at: ts(row.try_get("joined_at").map_err(map_err)?),
        }))
    }

    async fn add_members(
        &self,
        channel: ChannelId,
        users: Vec<UserId>,
        actor: UserId,
        at: Timestamp,
    ) -> Result<Vec<UserId>, StoreError> {
        write_op!(self, op_add_members(channel, users, actor, at))
    }

    async fn remove_member(
        &self,
        channel: ChannelId,
        user: UserId,
        actor: UserId,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        write_op!(self, op_remove_member(channel, user, actor, at))
    }

    async fn members(&self, channel: ChannelId) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, role, joined_at FROM channel_members WHERE channel_id = $1 ORDER BY joined_at, user_id",
        )
        .bind(channel.0)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|row| {
                let role: String = row.try_get("role")?;
                Ok(Member {
                    user_id: UserId(row.try_get("user_id")?),
                    role: role_from(&role)?,
                    joined_at: ts(row.try_get("joined_at")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }

    async fn my_channels(&self, user: UserId) -> Result<Vec<MyChannel>, StoreError> {
        let rows = sqlx::query(sqlf!(
            "SELECT {CHANNEL_COLS}, cm.role, cm.last_read_seq, \
               (SELECT COUNT(*) FROM messages x WHERE x.channel_id = c.id AND x.seq > cm.last_read_seq \
                  AND x.sender_id <> $1 AND x.deleted_at IS NULL) AS unread_count, \
               (SELECT COUNT(*) FROM messages x WHERE x.channel_id = c.id AND x.seq > cm.last_read_seq \
                  AND x.sender_id <> $1 AND x.deleted_at IS NULL AND (x.mention_all OR EXISTS \
                  (SELECT 1 FROM message_mentions mm WHERE mm.message_id = x.id AND mm.user_id = $1))) AS mention_count \
             FROM channel_members cm JOIN channels c ON c.id = cm.channel_id \
             WHERE cm.user_id = $1 ORDER BY c.id"
        ))
        .bind(user.0)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        let dm_rows = sqlx::query(
            "SELECT other.channel_id, other.user_id FROM channel_members mine \
             JOIN channels c ON c.id = mine.channel_id AND c.kind IN ('dm', 'group_dm') \
             JOIN channel_members other ON other.channel_id = mine.channel_id \
             WHERE mine.user_id = $1 ORDER BY other.channel_id, other.user_id",
        )
        .bind(user.0)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let channel = channel_from_row(row).map_err(map_err)?;
            let role: String = row.try_get("role").map_err(map_err)?;
            let mut dm_members = Vec::new();
            for r in &dm_rows {
                if r.try_get::<i64, _>("channel_id").map_err(map_err)? == channel.id.0 {
                    dm_members.push(UserId(r.try_get("user_id").map_err(map_err)?));
                }
            }
            out.push(MyChannel {
                role: role_from(&role).map_err(map_err)?,
                dm_members,
                last_read_seq: row.try_get("last_read_seq").map_err(map_err)?,
                unread_count: row.try_get("unread_count").map_err(map_err)?,
                mention_count: row.try_get("mention_count").map_err(map_err)?,
                channel,
            });
        }
        Ok(out)
    }

    async fn public_channels(&self, after: i64, limit: i64) -> Result<Vec<Channel>, StoreError> {
        let rows = sqlx::query(sqlf!(
            "SELECT {CHANNEL_COLS} FROM channels c WHERE c.kind = 'public' AND c.id > $1 ORDER BY c.id LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        rows.iter().map(channel_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn send_message(&self, message: NewMessage) -> Result<SendOutcome, StoreError> {
        // Sealed here, off the writer, with the channel's cached key.
        let sealed = self.seal_for(&at_rest::scope::channel(message.channel_id), &message.text).await?;
        let suite = self.chain_suite();
        let mut outcome = write_op!(self, op_send_message(message, suite, sealed))?;
        if let SendOutcome::Existing(m) = &mut outcome {
            self.open_in_place(&mut m.text).await?;
        }
        Ok(outcome)
    }

    async fn message(&self, id: MessageId) -> Result<Option<Message>, StoreError> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        let mut message = load_message(&mut conn, id).await.map_err(map_err)?;
        drop(conn);
        self.open_messages(message.as_mut_slice()).await?;
        Ok(message)
    }

    async fn messages_by_seq(&self, channel: ChannelId, lo: i64, hi: i64) -> Result<Vec<Message>, StoreError> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        let rows = sqlx::query(sqlf!(
            "SELECT {MSG_COLS} FROM messages m WHERE m.channel_id = $1 AND m.seq >= $2 AND m.seq <= $3 ORDER BY m.seq"
        ))
        .bind(channel.0)
        .bind(lo)
        .bind(hi)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
        let mut msgs = rows.iter().map(message_from_row).collect::<Result<Vec<_>, _>>().map_err(map_err)?;
        attach_reactions(&mut *conn, &mut msgs).await.map_err(map_err)?;
        attach_files(&mut *conn, &mut msgs).await.map_err(map_err)?;
        drop(conn);
        self.open_messages(&mut msgs).await?;
        Ok(msgs)
    }

    async fn seq_at_time(&self, channel: ChannelId, at: Timestamp) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar(
            "SELECT seq FROM messages WHERE channel_id = $1 AND created_at >= $2 ORDER BY created_at, seq LIMIT 1",
        )
        .bind(channel.0)
        .bind(ms(at))
        .fetch_optional(&self.read)
        .await
        .map_err(map_err)
    }

    async fn thread_replies(&self, root: MessageId, limit: i64) -> Result<Vec<Message>, StoreError> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        let rows = sqlx::query(sqlf!(
            "SELECT {MSG_COLS} FROM messages m WHERE m.thread_root_id = $1 ORDER BY m.seq LIMIT $2"
        ))
        .bind(root.0)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
        let mut msgs = rows.iter().map(message_from_row).collect::<Result<Vec<_>, _>>().map_err(map_err)?;
        attach_reactions(&mut *conn, &mut msgs).await.map_err(map_err)?;
        attach_files(&mut *conn, &mut msgs).await.map_err(map_err)?;
        drop(conn);
        self.open_messages(&mut msgs).await?;
        Ok(msgs)
    }

    async fn edit_message(&self, id: MessageId, text: String, at: Timestamp) -> Result<Message, StoreError> {
        // Edits are rare: one read for the channel, whose key seals the new version.
        let key = match self.keyring() {
            Some(_) => {
                let channel: Option<i64> = sqlx::query_scalar("SELECT channel_id FROM messages WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(&self.read)
                    .await
                    .map_err(map_err)?;
                let channel = ChannelId(channel.ok_or(StoreError::NotFound("message"))?);
                self.data_key_for(&at_rest::scope::channel(channel)).await?
            }
            None => None,
        };
        let suite = self.chain_suite();
        write_op!(self, op_edit_message(id, text, key, at, suite))
    }

    async fn message_versions(&self, id: MessageId) -> Result<Vec<MessageVersion>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, body, created_at FROM message_versions WHERE message_id = $1 ORDER BY version",
        )
        .bind(id.0)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(MessageVersion {
                    version: r.try_get("version")?,
                    text: r.try_get("body")?,
                    created_at: ts(r.try_get("created_at")?),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(map_err)?;
        for version in &mut out {
            self.open_in_place(&mut version.text).await?;
        }
        if out.is_empty() {
            // Never edited: the only version is the current text.
            let msg = self.message(id).await?.ok_or(StoreError::NotFound("message"))?;
            out.push(MessageVersion { version: 1, text: msg.text, created_at: msg.created_at });
        }
        Ok(out)
    }

    async fn delete_message(&self, id: MessageId, at: Timestamp) -> Result<(), StoreError> {
        let suite = self.chain_suite();
        write_op!(self, op_delete_message(id, at, suite))
    }

    async fn set_reaction(
        &self,
        id: MessageId,
        user: UserId,
        emoji: String,
        present: bool,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        write_op!(self, op_set_reaction(id, user, emoji, present, at))
    }

    async fn set_pinned(&self, id: MessageId, user: UserId, pinned: bool, at: Timestamp) -> Result<bool, StoreError> {
        write_op!(self, op_set_pinned(id, user, pinned, at))
    }

    async fn pinned_messages(&self, channel: ChannelId) -> Result<Vec<Message>, StoreError> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        let rows = sqlx::query(sqlf!(
            "SELECT {MSG_COLS} FROM messages m WHERE m.channel_id = $1 AND m.pinned_at IS NOT NULL \
             ORDER BY m.pinned_at DESC, m.seq DESC LIMIT 1000"
        ))
        .bind(channel.0)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
        let mut msgs = rows.iter().map(message_from_row).collect::<Result<Vec<_>, _>>().map_err(map_err)?;
        attach_reactions(&mut *conn, &mut msgs).await.map_err(map_err)?;
        attach_files(&mut *conn, &mut msgs).await.map_err(map_err)?;
        drop(conn);
        self.open_messages(&mut msgs).await?;
        Ok(msgs)
    }

    async fn mark_read(&self, channel: ChannelId, user: UserId, seq: i64, at: Timestamp) -> Result<i64, StoreError> {
        write_op!(self, op_mark_read(channel, user, seq, at))
    }

    async fn events_for_user(
        &self,
        user: UserId,
        after: Position,
        upto: Position,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, created_at, payload FROM events WHERE id > $1 AND id <= $2 AND (user_id = $3 \
               OR (channel_id IS NULL AND user_id IS NULL) \
               OR channel_id IN (SELECT channel_id FROM channel_members WHERE user_id = $3)) \
             ORDER BY id LIMIT $4",
        )
        .bind(after)
        .bind(upto)
        .bind(user.0)
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        let mut events = rows
            .iter()
            .map(|r| {
                let payload: String = r.try_get("payload").map_err(map_err)?;
                Ok(StoredEvent {
                    position: r.try_get("id").map_err(map_err)?,
                    at: ts(r.try_get("created_at").map_err(map_err)?),
                    event: serde_json::from_str(&payload)
                        .map_err(|e| StoreError::Unavailable(format!("undecodable event: {e}")))?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.open_events(&mut events).await?;
        Ok(events)
    }

    async fn pruned_through(&self) -> Result<Position, StoreError> {
        sqlx::query_scalar("SELECT pruned_through FROM log_meta WHERE id = 1")
            .fetch_one(&self.read)
            .await
            .map_err(map_err)
    }

    async fn membership_snapshot(&self, user: UserId) -> Result<(Vec<ChannelId>, Position), StoreError> {
        let mut conn = self.read.acquire().await.map_err(map_err)?;
        let mut tx = begin_snapshot(&mut conn).await.map_err(map_err)?;
        let channels: Vec<i64> = sqlx::query_scalar("SELECT channel_id FROM channel_members WHERE user_id = $1")
            .bind(user.0)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        let position: i64 = sqlx::query_scalar(
            "SELECT COALESCE((SELECT MAX(id) FROM events), (SELECT pruned_through FROM log_meta WHERE id = 1))",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok((channels.into_iter().map(ChannelId).collect(), position))
    }

    async fn prune_events(&self, before: Timestamp) -> Result<u64, StoreError> {
        write_op!(self, op_prune_events(before))
    }

    fn subscribe(&self) -> broadcast::Receiver<CommittedBatch> {
        self.committed.subscribe()
    }

    async fn close(&self) {
        drop(self.jobs.lock().unwrap_or_else(|e| e.into_inner()).take());
        let done = self.writer_done.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(done) = done {
            let _ = done.await;
        }
        for pool in &self.pools {
            pool.close().await;
        }
    }

    // Directory sync.
    async fn user_external_ref(&self, id: UserId) -> Result<Option<concord_core::store::ExternalRef>, StoreError> {
        self.dir_user_external_ref(id).await.map_err(map_err)
    }

    async fn users_from_source(&self, source: &str) -> Result<Vec<concord_core::store::SourcedUser>, StoreError> {
        self.dir_users_from_source(source).await.map_err(map_err)
    }

    async fn directory_users(
        &self,
        filter: concord_core::store::DirectoryUserFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(i64, Vec<UserId>), StoreError> {
        self.dir_users(filter, offset, limit).await.map_err(map_err)
    }

    async fn department_external_refs(
        &self,
    ) -> Result<Vec<(DepartmentId, concord_core::store::ExternalRef)>, StoreError> {
        self.dir_department_external_refs().await.map_err(map_err)
    }

    async fn department_people(&self, id: DepartmentId) -> Result<Vec<(UserId, bool)>, StoreError> {
        self.dir_department_people(id).await.map_err(map_err)
    }

    // Search.
    async fn events_after(&self, after: Position, limit: i64) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query("SELECT id, created_at, payload FROM events WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        let mut events = rows
            .iter()
            .map(|r| {
                let payload: String = r.try_get("payload").map_err(map_err)?;
                Ok(StoredEvent {
                    position: r.try_get("id").map_err(map_err)?,
                    at: ts(r.try_get("created_at").map_err(map_err)?),
                    event: serde_json::from_str(&payload)
                        .map_err(|e| StoreError::Unavailable(format!("undecodable event: {e}")))?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.open_events(&mut events).await?;
        Ok(events)
    }

    async fn log_head(&self) -> Result<Position, StoreError> {
        sqlx::query_scalar(
            "SELECT COALESCE((SELECT MAX(id) FROM events), (SELECT pruned_through FROM log_meta WHERE id = 1))",
        )
        .fetch_one(&self.read)
        .await
        .map_err(map_err)
    }

    async fn messages_after(&self, after: MessageId, limit: i64) -> Result<Vec<Message>, StoreError> {
        let rows = sqlx::query(sqlf!("SELECT {MSG_COLS} FROM messages m WHERE m.id > $1 ORDER BY m.id LIMIT $2"))
            .bind(after.0)
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        let mut msgs = rows.iter().map(message_from_row).collect::<Result<Vec<_>, _>>().map_err(map_err)?;
        // Attachments too: the search index's rebuild reads them (has_file, file names).
        attach_files(&self.read, &mut msgs).await.map_err(map_err)?;
        self.open_messages(&mut msgs).await?;
        Ok(msgs)
    }

    async fn message_mentions(
        &self,
        ids: &[MessageId],
    ) -> Result<Vec<(MessageId, Vec<UserId>, bool)>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let mut q = QueryBuilder::<Db>::new("SELECT id, mention_all FROM messages WHERE id IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id.0);
            }
            q.push(") ORDER BY id");
            let rows = q.build().fetch_all(&self.read).await.map_err(map_err)?;
            let mut q = QueryBuilder::<Db>::new("SELECT message_id, user_id FROM message_mentions WHERE message_id IN (");
            let mut list = q.separated(", ");
            for id in chunk {
                list.push_bind(id.0);
            }
            q.push(") ORDER BY message_id, user_id");
            let mentions = q.build().fetch_all(&self.read).await.map_err(map_err)?;
            let mut named: std::collections::HashMap<i64, Vec<UserId>> = std::collections::HashMap::new();
            for row in &mentions {
                let message: i64 = row.try_get("message_id").map_err(map_err)?;
                named.entry(message).or_default().push(UserId(row.try_get("user_id").map_err(map_err)?));
            }
            for row in &rows {
                let id: i64 = row.try_get("id").map_err(map_err)?;
                let all: bool = row.try_get("mention_all").map_err(map_err)?;
                out.push((MessageId(id), named.remove(&id).unwrap_or_default(), all));
            }
        }
        Ok(out)
    }

    // Accounts security.
    async fn open_session(
        &self,
        session: NewSession,
        meta: SessionMeta,
        challenge: Option<String>,
        audit: NewAudit,
    ) -> Result<(), StoreError> {
        write_op!(self, op_open_session(session, meta, challenge, audit))
    }

    async fn user_sessions(&self, user: UserId) -> Result<Vec<SessionDetail>, StoreError> {
        self.load_user_sessions(user).await.map_err(map_err)
    }

    async fn end_sessions(&self, user: UserId, which: SessionSelector, audit: NewAudit) -> Result<u64, StoreError> {
        write_op!(self, op_end_sessions(user, which, audit))
    }

    async fn mfa(&self, user: UserId) -> Result<Option<MfaRecord>, StoreError> {
        self.load_mfa(user).await
    }

    async fn change_mfa(&self, user: UserId, change: MfaChange, audit: NewAudit) -> Result<(), StoreError> {
        let sealed_secret = match &change {
            MfaChange::Begin { secret, .. } => self.seal_for(at_rest::scope::ACCOUNTS, &secret_text(secret)).await?,
            _ => None,
        };
        write_op!(self, op_change_mfa(user, change, sealed_secret, audit))
    }

    async fn use_mfa_step(&self, user: UserId, step: i64) -> Result<bool, StoreError> {
        write_op!(self, op_use_mfa_step(user, step))
    }

    async fn use_recovery_code(&self, user: UserId, code_hash: String, at: Timestamp) -> Result<bool, StoreError> {
        write_op!(self, op_use_recovery_code(user, code_hash, at))
    }

    async fn recovery_codes_left(&self, user: UserId) -> Result<i64, StoreError> {
        self.count_recovery_codes(user).await.map_err(map_err)
    }

    async fn login_failures(&self, user: UserId) -> Result<LoginFailures, StoreError> {
        self.load_login_failures(user).await.map_err(map_err)
    }

    async fn record_login_failure(&self, user: UserId, max: u32, lock_until: Timestamp) -> Result<LoginFailures, StoreError> {
        write_op!(self, op_record_login_failure(user, max, lock_until))
    }

    async fn clear_login_failures(&self, user: UserId) -> Result<(), StoreError> {
        write_op!(self, op_clear_login_failures(user))
    }

    async fn create_mfa_challenge(&self, challenge: MfaChallenge, now: Timestamp) -> Result<(), StoreError> {
        write_op!(self, op_create_mfa_challenge(challenge, now))
    }

    async fn mfa_challenge(&self, token_hash: &str) -> Result<Option<MfaChallenge>, StoreError> {
        self.load_mfa_challenge(token_hash).await.map_err(map_err)
    }

    async fn delete_mfa_challenge(&self, token_hash: &str) -> Result<(), StoreError> {
        let hash = token_hash.to_string();
        write_op!(self, op_delete_mfa_challenge(hash))
    }

    // Retention, legal hold and message tamper evidence (retention_sql.rs).
    fn set_message_chain_suite(&self, suite: concord_core::crypto::Suite) {
        let code = match suite {
            concord_core::crypto::Suite::Standard => 0,
            concord_core::crypto::Suite::Gm => 1,
        };
        self.chain_suite.store(code, std::sync::atomic::Ordering::Relaxed);
    }

    async fn retention_policies(&self) -> Result<Vec<RetentionPolicyRecord>, StoreError> {
        self.load_retention_policies().await.map_err(map_err)
    }

    async fn set_retention_policy(
        &self,
        scope: String,
        keep_days: Option<Option<i64>>,
        at: Timestamp,
        audit: NewAudit,
    ) -> Result<(), StoreError> {
        write_op!(self, op_set_retention_policy(scope, keep_days, at, audit))
    }

    async fn legal_holds(&self) -> Result<Vec<LegalHoldRecord>, StoreError> {
        self.load_legal_holds().await.map_err(map_err)
    }

    async fn create_legal_hold(&self, hold: NewLegalHold, audit: NewAudit) -> Result<i64, StoreError> {
        write_op!(self, op_create_legal_hold(hold, audit))
    }

    async fn release_legal_hold(&self, id: i64, by: UserId, at: Timestamp, audit: NewAudit) -> Result<bool, StoreError> {
        write_op!(self, op_release_legal_hold(id, by, at, audit))
    }

    async fn channel_kinds(&self) -> Result<Vec<(ChannelId, ChannelKind)>, StoreError> {
        self.load_channel_kinds().await.map_err(map_err)
    }

    async fn prune_messages(&self, plan: PrunePlan) -> Result<PruneReport, StoreError> {
        write_op!(self, op_prune_messages(plan))
    }

    async fn oldest_seq(&self, channel: ChannelId) -> Result<Option<i64>, StoreError> {
        sqlx::query_scalar("SELECT MIN(seq) FROM messages WHERE channel_id = $1")
            .bind(channel.0)
            .fetch_one(&self.read)
            .await
            .map_err(map_err)
    }

    async fn channel_chain(&self, channel: ChannelId) -> Result<Option<ChannelChainData>, StoreError> {
        let mut data = self.load_channel_chain(channel).await.map_err(map_err)?;
        // The chain hashes what messages say, so sealed bodies are opened first.
        if let Some(data) = &mut data {
            for m in &mut data.messages {
                self.open_in_place(&mut m.body).await?;
            }
            for v in &mut data.versions {
                self.open_in_place(&mut v.body).await?;
            }
        }
        Ok(data)
    }

    // Encryption at rest.
    async fn data_keys(&self) -> Result<Vec<DataKeyRecord>, StoreError> {
        self.keys_data_keys().await
    }

    async fn rewrap_data_keys(&self, rewrapped: Vec<DataKeyRecord>, audit: NewAudit) -> Result<(), StoreError> {
        write_op!(self, op_rewrap_data_keys(rewrapped, audit))
    }

    async fn seal_existing(&self, limit: i64) -> Result<u64, StoreError> {
        self.keys_seal_existing(limit).await
    }

    async fn at_rest_counts(&self) -> Result<AtRestCounts, StoreError> {
        self.keys_counts().await
    }

    async fn channel_data_key(&self, channel: ChannelId) -> Result<Option<Arc<DataKey>>, StoreError> {
        self.data_key_for(&at_rest::scope::channel(channel)).await
    }

    async fn data_key(&self, id: i64) -> Result<Option<Arc<DataKey>>, StoreError> {
        match self.keyring() {
            Some(keyring) => self.data_key_by_id(keyring, id).await.map(Some),
            None => Ok(None),
        }
    }
}
