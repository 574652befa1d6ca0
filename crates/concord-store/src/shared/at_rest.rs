// Included by both backends: encryption at rest at the store boundary. With a keyring, the
// store seals message bodies, edit history, the message inside `message.*` event payloads
// and TOTP secrets before they are written, and opens them after they are read, so
// everything above the store sees plaintext. Data keys (one per channel, one for accounts)
// are created on first need, stored wrapped in `data_keys`, and cached unwrapped by the
// keyring, so a send costs one AEAD call and no extra read. Text without the sealed prefix is
// plaintext from before encryption was on; `seal_existing` converts it.

use concord_core::at_rest::{self as at_rest, AtRestCounts, DataKey, DataKeyRecord, Keyring, SEALED_TEXT_PREFIX};

const SQL_DATA_KEY_COLS: &str = "id, scope, suite, master_key_id, wrapped";
const SQL_INSERT_DATA_KEY: &str = "INSERT INTO data_keys (scope, suite, master_key_id, wrapped, created_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope) DO NOTHING";
const SQL_REWRAP_DATA_KEY: &str = "UPDATE data_keys SET master_key_id = $1, wrapped = $2, rewrapped_at = $3 WHERE id = $4";
const SQL_SEAL_MESSAGE: &str = "UPDATE messages SET body = $1 WHERE id = $2 AND body = $3";
const SQL_SEAL_VERSION: &str = "UPDATE message_versions SET body = $1 WHERE message_id = $2 AND version = $3 AND body = $4";
const SQL_SEAL_EVENT: &str = "UPDATE events SET payload = $1 WHERE id = $2 AND payload = $3";
const SQL_SEAL_MFA: &str = "UPDATE user_mfa SET secret = $1 WHERE user_id = $2 AND secret = $3";
/// Message events whose payload does not hold sealed text (`!` escapes nothing here; it is
/// named so that neither dialect treats the backslash of `\u0001` as an escape).
const SQL_PLAIN_EVENT_FILTER: &str =
    "kind IN ('message.created', 'message.edited') AND payload NOT LIKE $1 ESCAPE '!'";

/// The LIKE pattern of a payload holding sealed message text (serde_json writes U+0001 as
/// `\u0001`).
fn sealed_payload_pattern() -> String {
    format!("%\"text\":{}%", serde_json::to_string(SEALED_TEXT_PREFIX).expect("a string serialises").trim_end_matches('"'))
}

/// `substr(column, 1, PREFIX_CHARS)` is the sealed prefix of sealed text (a literal in the SQL:
/// PostgreSQL's `substr` takes no bigint length).
const PREFIX_CHARS: usize = 5;
const _: () = assert!(SEALED_TEXT_PREFIX.len() == PREFIX_CHARS, "the prefix is 5 ASCII characters");

/// A plaintext value and its sealed replacement, applied only if the value is unchanged.
#[derive(Debug)]
enum SealUpdate {
    Message { id: i64, old: String, new: String },
    Version { message_id: i64, version: i64, old: String, new: String },
    Event { id: i64, old: String, new: String },
    Mfa { user_id: i64, old: String, new: String },
}

fn key_err(e: at_rest::AtRestError) -> StoreError {
    StoreError::Unavailable(format!("encryption at rest: {e}"))
}

fn data_key_from_row(row: &DbRow) -> Result<DataKeyRecord, sqlx::Error> {
    let suite: String = row.try_get("suite")?;
    Ok(DataKeyRecord {
        id: row.try_get("id")?,
        scope: row.try_get("scope")?,
        suite: Suite::parse(&suite).ok_or_else(|| sqlx::Error::Decode(format!("suite {suite}").into()))?,
        master_key_id: row.try_get("master_key_id")?,
        wrapped: row.try_get("wrapped")?,
    })
}

/// The payload to store for `event`: with `sealed_text` in place of a message's text.
fn stored_payload(event: &Event, sealed_text: Option<&str>) -> Result<String, StoreError> {
    let encode = |e: &Event| serde_json::to_string(e).map_err(|e| StoreError::Unavailable(e.to_string()));
    match (event, sealed_text) {
        (Event::MessageCreated { message }, Some(sealed)) => {
            encode(&Event::MessageCreated { message: Message { text: sealed.to_string(), ..message.clone() } })
        }
        (Event::MessageEdited { message }, Some(sealed)) => {
            encode(&Event::MessageEdited { message: Message { text: sealed.to_string(), ..message.clone() } })
        }
        (Event::FileCommented { channel_id, comment }, Some(sealed)) => encode(&Event::FileCommented {
            channel_id: *channel_id,
            comment: concord_proto::FileComment { text: sealed.to_string(), ..comment.clone() },
        }),
        _ => encode(event),
    }
}

/// Seals legacy plaintext (the first version of a message edited after encryption was
/// turned on); sealed text and no key leave it as it is.
fn seal_if_plain(key: Option<&DataKey>, text: String) -> String {
    match key {
        Some(key) if !at_rest::is_sealed_text(&text) => key.seal_text(&text),
        _ => text,
    }
}

impl SqlStore {
    /// Turns on sealing with this keyring (once, right after opening).
    pub fn with_keyring(self, keyring: Arc<Keyring>) -> Self {
        let _ = self.keyring.set(keyring);
        self
    }

    fn keyring(&self) -> Option<&Arc<Keyring>> {
        self.keyring.get()
    }

    /// The data key for `scope`, created on first need; `None` without a keyring.
    async fn data_key_for(&self, scope: &str) -> Result<Option<Arc<DataKey>>, StoreError> {
        let Some(keyring) = self.keyring() else { return Ok(None) };
        if let Some(key) = keyring.for_scope(scope) {
            return Ok(Some(key));
        }
        let query = || sqlf!("SELECT {SQL_DATA_KEY_COLS} FROM data_keys WHERE scope = $1");
        let mut row = sqlx::query(query()).bind(scope).fetch_optional(&self.read).await.map_err(map_err)?;
        if row.is_none() {
            let wrapped = keyring.generate().map_err(key_err)?;
            let (scope_owned, suite) = (scope.to_string(), keyring.suite());
            write_op!(self, op_insert_data_key(scope_owned, suite, wrapped.master_key_id, wrapped.wrapped, Timestamp::now()))?;
            // Whichever insert won (another node, a concurrent first send) is the key.
            row = sqlx::query(query()).bind(scope).fetch_optional(&self.read).await.map_err(map_err)?;
        }
        let row = row.ok_or(StoreError::NotFound("data key"))?;
        let record = data_key_from_row(&row).map_err(map_err)?;
        keyring.load(&record).map(Some).map_err(key_err)
    }

    async fn data_key_by_id(&self, keyring: &Keyring, id: i64) -> Result<Arc<DataKey>, StoreError> {
        if let Some(key) = keyring.by_id(id) {
            return Ok(key);
        }
        let row = sqlx::query(sqlf!("SELECT {SQL_DATA_KEY_COLS} FROM data_keys WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
            .map_err(map_err)?
            .ok_or(StoreError::NotFound("data key"))?;
        keyring.load(&data_key_from_row(&row).map_err(map_err)?).map_err(key_err)
    }

    /// Seals `text` with the scope's key; unchanged without a keyring.
    async fn seal_for(&self, scope: &str, text: &str) -> Result<Option<String>, StoreError> {
        Ok(self.data_key_for(scope).await?.map(|key| key.seal_text(text)))
    }

    /// Opens stored text in place (plaintext stays as it is).
    async fn open_in_place(&self, text: &mut String) -> Result<(), StoreError> {
        let Some(id) = at_rest::sealed_text_key(text).map_err(key_err)? else { return Ok(()) };
        let keyring = self
            .keyring()
            .ok_or_else(|| StoreError::Unavailable("the data is encrypted but no keyring was given".into()))?;
        let key = self.data_key_by_id(keyring, id).await?;
        *text = key.open_text(text).map_err(key_err)?;
        Ok(())
    }

    async fn open_messages(&self, messages: &mut [Message]) -> Result<(), StoreError> {
        for m in messages {
            self.open_in_place(&mut m.text).await?;
        }
        Ok(())
    }

    async fn open_events(&self, events: &mut [StoredEvent]) -> Result<(), StoreError> {
        for e in events {
            match &mut e.event {
                Event::MessageCreated { message } | Event::MessageEdited { message } => {
                    self.open_in_place(&mut message.text).await?
                }
                Event::FileCommented { comment, .. } => self.open_in_place(&mut comment.text).await?,
                _ => {}
            }
        }
        Ok(())
    }

    async fn keys_data_keys(&self) -> Result<Vec<DataKeyRecord>, StoreError> {
        let rows = sqlx::query(sqlf!("SELECT {SQL_DATA_KEY_COLS} FROM data_keys ORDER BY id"))
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        rows.iter().map(data_key_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn count(&self, sql: &str, prefix: &str) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .bind(prefix)
            .fetch_one(&self.read)
            .await
            .map_err(map_err)?;
        Ok(n as u64)
    }

    async fn keys_counts(&self) -> Result<AtRestCounts, StoreError> {
        let keys = self.keys_data_keys().await?;
        let mut by_master: Vec<(String, u64)> = Vec::new();
        for k in &keys {
            match by_master.iter_mut().find(|(m, _)| *m == k.master_key_id) {
                Some((_, n)) => *n += 1,
                None => by_master.push((k.master_key_id.clone(), 1)),
            }
        }
        let mut counts = AtRestCounts { data_keys: keys.len() as u64, by_master, ..AtRestCounts::default() };
        for (table, column) in [("messages", "body"), ("message_versions", "body"), ("user_mfa", "secret")] {
            let sealed = format!("SELECT COUNT(*) FROM {table} WHERE substr({column}, 1, {PREFIX_CHARS}) = $1");
            let plain = format!("SELECT COUNT(*) FROM {table} WHERE substr({column}, 1, {PREFIX_CHARS}) <> $1");
            counts.sealed += self.count(&sealed, SEALED_TEXT_PREFIX).await?;
            counts.plaintext += self.count(&plain, SEALED_TEXT_PREFIX).await?;
        }
        let pattern = sealed_payload_pattern();
        let all: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE kind IN ('message.created', 'message.edited')")
                .fetch_one(&self.read)
                .await
                .map_err(map_err)?;
        let plain: i64 = sqlx::query_scalar(sqlf!("SELECT COUNT(*) FROM events WHERE {SQL_PLAIN_EVENT_FILTER}"))
            .bind(&pattern)
            .fetch_one(&self.read)
            .await
            .map_err(map_err)?;
        counts.sealed += (all - plain) as u64;
        counts.plaintext += plain as u64;
        Ok(counts)
    }

    /// Finds up to `limit` plaintext values, seals them and writes them back.
    async fn keys_seal_existing(&self, limit: i64) -> Result<u64, StoreError> {
        if self.keyring().is_none() {
            return Err(StoreError::Unavailable("sealing needs a keyring".into()));
        }
        let prefix = SEALED_TEXT_PREFIX;
        let mut updates = Vec::new();
        let rows = sqlx::query(sqlf!(
            "SELECT id, channel_id, body FROM messages WHERE substr(body, 1, {PREFIX_CHARS}) <> $1 ORDER BY id LIMIT $2"
        ))
        .bind(prefix)
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        for r in &rows {
            let old: String = r.try_get("body").map_err(map_err)?;
            let scope = at_rest::scope::channel(ChannelId(r.try_get("channel_id").map_err(map_err)?));
            let new = self.seal_for(&scope, &old).await?.expect("a keyring is set");
            updates.push(SealUpdate::Message { id: r.try_get("id").map_err(map_err)?, old, new });
        }
        let rows = sqlx::query(sqlf!(
            "SELECT v.message_id, v.version, v.body, m.channel_id FROM message_versions v \
             JOIN messages m ON m.id = v.message_id WHERE substr(v.body, 1, {PREFIX_CHARS}) <> $1 \
             ORDER BY v.message_id, v.version LIMIT $2"
        ))
        .bind(prefix)
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(map_err)?;
        for r in &rows {
            let old: String = r.try_get("body").map_err(map_err)?;
            let scope = at_rest::scope::channel(ChannelId(r.try_get("channel_id").map_err(map_err)?));
            let new = self.seal_for(&scope, &old).await?.expect("a keyring is set");
            let (message_id, version) = (r.try_get("message_id").map_err(map_err)?, r.try_get("version").map_err(map_err)?);
            updates.push(SealUpdate::Version { message_id, version, old, new });
        }
        let rows = sqlx::query(sqlf!("SELECT id, payload FROM events WHERE {SQL_PLAIN_EVENT_FILTER} ORDER BY id LIMIT $2"))
            .bind(sealed_payload_pattern())
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        for r in &rows {
            let old: String = r.try_get("payload").map_err(map_err)?;
            let event: Event =
                serde_json::from_str(&old).map_err(|e| StoreError::Unavailable(format!("undecodable event: {e}")))?;
            let (Event::MessageCreated { message } | Event::MessageEdited { message }) = &event else { continue };
            let scope = at_rest::scope::channel(message.channel_id);
            let sealed = self.seal_for(&scope, &message.text).await?;
            let new = stored_payload(&event, sealed.as_deref())?;
            updates.push(SealUpdate::Event { id: r.try_get("id").map_err(map_err)?, old, new });
        }
        let rows = sqlx::query(sqlf!(
            "SELECT user_id, secret FROM user_mfa WHERE substr(secret, 1, {PREFIX_CHARS}) <> $1 ORDER BY user_id LIMIT $2"
        ))
        .bind(prefix)
        .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(map_err)?;
        for r in &rows {
            let old: String = r.try_get("secret").map_err(map_err)?;
            let new = self.seal_for(at_rest::scope::ACCOUNTS, &old).await?.expect("a keyring is set");
            updates.push(SealUpdate::Mfa { user_id: r.try_get("user_id").map_err(map_err)?, old, new });
        }
        if updates.is_empty() {
            return Ok(0);
        }
        let found = updates.len() as u64;
        write_op!(self, op_apply_seal_updates(updates))?;
        // Values changed meanwhile (an edit) were skipped and are sealed already.
        Ok(found)
    }
}
