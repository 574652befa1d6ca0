//! Setup over REST: users `<prefix>-<n>`, their sessions, and channels `<prefix>-m<M>-<j>`.
//!
//! Everything is reused when it already exists (a 409 on user creation means the user is
//! there; channels are found among the admin's channels by name), so re-running against the
//! same server only logs in. Logins are Argon2id on the server, so they run a few at a time
//! with progress; sessions can be kept in a token cache file to skip even that.

use anyhow::{Context, anyhow, bail};
use concord_proto::{
    ChannelId, CreateChannelRequest, CreateUserRequest, ErrorBody, InviteRequest, LoginRequest,
    LoginResponse, MyChannel, NewChannelKind, UserId,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Users a channel creation or invite may carry (the server's `max_invite_batch`).
const INVITE_BATCH: usize = 100;
/// Attempts for a request refused with 429 or a transport error.
const ATTEMPTS: u32 = 8;

/// A REST client for one server.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// A user with a session.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    pub user_id: UserId,
    pub token: String,
}

#[derive(Serialize, Deserialize)]
struct TokenCache {
    server: String,
    accounts: Vec<Account>,
}

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .pool_max_idle_per_host(16)
            .build()?;
        Ok(Self {
            http,
            base: format!("{}/api/v1", base.trim_end_matches('/')),
        })
    }

    /// Sends a request built by `make`, retrying 429s and transport errors a bounded number
    /// of times, and decodes a JSON answer. `Ok(None)`: the server answered 409.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> anyhow::Result<Option<T>> {
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(250 << attempt.min(4))).await;
            }
            let resp = match make(&self.http).send().await {
                Ok(r) => r,
                Err(e) => {
                    last = e.to_string();
                    continue;
                }
            };
            let status = resp.status();
            if status.as_u16() == 409 {
                return Ok(None);
            }
            if status.as_u16() == 429 || status.is_server_error() {
                last = format!("{status}: {}", error_text(resp).await);
                continue;
            }
            if !status.is_success() {
                bail!("{what}: {status}: {}", error_text(resp).await);
            }
            return Ok(Some(
                resp.json::<T>()
                    .await
                    .with_context(|| format!("{what}: decoding the answer"))?,
            ));
        }
        bail!("{what}: gave up after {ATTEMPTS} attempts: {last}")
    }

    pub async fn login(&self, login: &str, password: &str) -> anyhow::Result<LoginResponse> {
        let body = LoginRequest {
            login: login.to_string(),
            password: password.to_string(),
        };
        let url = format!("{}/auth/login", self.base);
        self.call(&format!("login {login}"), |c| c.post(&url).json(&body))
            .await?
            .ok_or_else(|| anyhow!("login {login}: unexpected 409"))
    }

    /// Creates a user; `Ok(false)` when it already exists.
    pub async fn create_user(
        &self,
        admin: &str,
        username: &str,
        password: &str,
    ) -> anyhow::Result<bool> {
        let body = CreateUserRequest {
            username: username.to_string(),
            password: password.to_string(),
            email: None,
            display_name: Some(format!("Load {username}")),
            is_admin: false,
            guest: false,
        };
        let url = format!("{}/users", self.base);
        let created: Option<serde_json::Value> = self
            .call(&format!("create user {username}"), |c| {
                c.post(&url).bearer_auth(admin).json(&body)
            })
            .await?;
        Ok(created.is_some())
    }

    /// Whether `token` is a live session.
    pub async fn token_works(&self, token: &str) -> bool {
        let url = format!("{}/users/me", self.base);
        matches!(
            self.http.get(&url).bearer_auth(token).send().await,
            Ok(r) if r.status().is_success()
        )
    }

    async fn my_channels(&self, token: &str) -> anyhow::Result<Vec<MyChannel>> {
        let url = format!("{}/channels", self.base);
        self.call("list channels", |c| c.get(&url).bearer_auth(token))
            .await?
            .ok_or_else(|| anyhow!("list channels: unexpected 409"))
    }

    async fn create_channel(
        &self,
        token: &str,
        name: &str,
        member_ids: Vec<UserId>,
    ) -> anyhow::Result<ChannelId> {
        let body = CreateChannelRequest {
            name: name.to_string(),
            kind: NewChannelKind::Public,
            topic: "load generator".into(),
            purpose: String::new(),
            member_ids,
        };
        let url = format!("{}/channels", self.base);
        let ch: concord_proto::Channel = self
            .call(&format!("create channel {name}"), |c| {
                c.post(&url).bearer_auth(token).json(&body)
            })
            .await?
            .ok_or_else(|| anyhow!("create channel {name}: unexpected 409"))?;
        Ok(ch.id)
    }

    async fn invite(
        &self,
        token: &str,
        id: ChannelId,
        user_ids: Vec<UserId>,
    ) -> anyhow::Result<()> {
        let body = InviteRequest { user_ids };
        let url = format!("{}/channels/{id}/members", self.base);
        let _: Option<serde_json::Value> = self
            .call(&format!("invite to channel {id}"), |c| {
                c.post(&url).bearer_auth(token).json(&body)
            })
            .await?;
        Ok(())
    }
}

async fn error_text(resp: reqwest::Response) -> String {
    let text = resp.text().await.unwrap_or_default();
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(b) => format!("{} ({})", b.error.message, b.error.code),
        Err(_) => text.chars().take(200).collect(),
    }
}

/// The username of load user `n`.
pub fn username(prefix: &str, n: usize) -> String {
    format!("{prefix}-{n}")
}

/// Makes sure users `0..count` exist and have sessions; returns them in order.
pub async fn ensure_users(
    api: &Api,
    admin_token: &str,
    prefix: &str,
    password: &str,
    count: usize,
    concurrency: usize,
    cache_file: Option<&Path>,
) -> anyhow::Result<Vec<Account>> {
    let mut known: HashMap<String, Account> = HashMap::new();
    let cached = cache_file
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| serde_json::from_str::<TokenCache>(&text).ok())
        .filter(|cache| cache.server == api.base);
    if let Some(cache) = cached {
        let usable = match cache.accounts.first() {
            Some(a) => api.token_works(&a.token).await,
            None => false,
        };
        if usable {
            known = cache
                .accounts
                .into_iter()
                .map(|a| (a.username.clone(), a))
                .collect();
        }
    }
    let missing: Vec<usize> = (0..count)
        .filter(|n| !known.contains_key(&username(prefix, *n)))
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "setup: creating/logging in {} users ({} cached), {concurrency} at a time",
            missing.len(),
            count - missing.len()
        );
    }
    let started = Instant::now();
    let limit = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for n in missing.iter().copied() {
        let api = api.clone();
        let admin = admin_token.to_string();
        let name = username(prefix, n);
        let password = password.to_string();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await?;
            api.create_user(&admin, &name, &password).await?;
            let session = api.login(&name, &password).await?;
            anyhow::Ok(Account {
                username: name,
                user_id: session.user.id,
                token: session.token,
            })
        });
    }
    let mut done = 0;
    while let Some(joined) = tasks.join_next().await {
        let account = joined.context("setup task panicked")??;
        known.insert(account.username.clone(), account);
        done += 1;
        if done % 100 == 0 || done == missing.len() {
            eprintln!(
                "setup: {done}/{} users ready ({:.0} s)",
                missing.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    let accounts: Vec<Account> = (0..count)
        .map(|n| {
            known
                .get(&username(prefix, n))
                .cloned()
                .ok_or_else(|| anyhow!("user {n} missing after setup"))
        })
        .collect::<anyhow::Result<_>>()?;
    if let Some(path) = cache_file {
        let mut all: Vec<Account> = known.into_values().collect();
        all.sort_by_key(|a| a.user_id.0);
        let cache = TokenCache {
            server: api.base.clone(),
            accounts: all,
        };
        std::fs::write(path, serde_json::to_vec(&cache)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(accounts)
}

/// Makes sure channels `0..channels` exist with user `u` a member of channel `u % channels`;
/// returns their ids in order.
pub async fn ensure_channels(
    api: &Api,
    admin_token: &str,
    prefix: &str,
    accounts: &[Account],
    channels: usize,
) -> anyhow::Result<Vec<ChannelId>> {
    let existing: HashMap<String, ChannelId> = api
        .my_channels(admin_token)
        .await?
        .into_iter()
        .map(|c| (c.channel.name, c.channel.id))
        .collect();
    let mut ids = Vec::with_capacity(channels);
    let started = Instant::now();
    for j in 0..channels {
        let name = format!("{prefix}-m{channels}-{j}");
        let members: Vec<UserId> = accounts
            .iter()
            .enumerate()
            .filter(|(u, _)| u % channels == j)
            .map(|(_, a)| a.user_id)
            .collect();
        let id = match existing.get(&name) {
            Some(id) => {
                for chunk in members.chunks(INVITE_BATCH) {
                    api.invite(admin_token, *id, chunk.to_vec()).await?;
                }
                *id
            }
            None => {
                let mut chunks = members.chunks(INVITE_BATCH);
                let first = chunks.next().map(<[UserId]>::to_vec).unwrap_or_default();
                let id = api.create_channel(admin_token, &name, first).await?;
                for chunk in chunks {
                    api.invite(admin_token, id, chunk.to_vec()).await?;
                }
                id
            }
        };
        ids.push(id);
    }
    eprintln!(
        "setup: {channels} channels ready ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(ids)
}
