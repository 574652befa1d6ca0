//! Channels, DMs and membership.

use super::Services;
use crate::authz::{Actor, ChannelAction, OrgAction, authorize_org};
use crate::error::DomainError;
use crate::store::{ChannelUpdate, NewChannel};
use crate::validate;
use concord_proto::{
    Channel, ChannelId, ChannelKind, CreateChannelRequest, Member, MemberRole, MyChannel,
    NewChannelKind, UpdateChannelRequest, UserId,
};

const MAX_NAME: usize = 80;
const MAX_TOPIC: usize = 250;
const MAX_PURPOSE: usize = 250;

impl Services {
    pub async fn create_channel(
        &self,
        actor: &Actor,
        req: CreateChannelRequest,
    ) -> Result<Channel, DomainError> {
        authorize_org(actor, OrgAction::CreateChannel)?;
        let name = validate::label("name", &req.name, MAX_NAME)?;
        let topic = validate::optional_text("topic", &req.topic, MAX_TOPIC)?;
        let purpose = validate::optional_text("purpose", &req.purpose, MAX_PURPOSE)?;
        if req.member_ids.len() > self.limits.max_invite_batch {
            return Err(DomainError::invalid(
                "member_ids",
                format!("at most {} users at once", self.limits.max_invite_batch),
            ));
        }
        let mut members = vec![(actor.user_id, MemberRole::Admin)];
        let found = self.existing_users(&req.member_ids).await?;
        if found.len() != dedup(&req.member_ids).len() {
            return Err(DomainError::NotFound("user"));
        }
        for id in found {
            if id != actor.user_id {
                members.push((id, MemberRole::Member));
            }
        }
        let kind = match req.kind {
            NewChannelKind::Public => ChannelKind::Public,
            NewChannelKind::Private => ChannelKind::Private,
        };
        Ok(self
            .store
            .create_channel(NewChannel {
                kind,
                name,
                topic,
                purpose,
                created_by: actor.user_id,
                created_at: self.clock.now(),
                dm_key: None,
                members,
            })
            .await?)
    }

    /// Opens (or returns the existing) DM or group DM with the given users.
    pub async fn open_dm(
        &self,
        actor: &Actor,
        user_ids: &[UserId],
    ) -> Result<Channel, DomainError> {
        authorize_org(actor, OrgAction::OpenDirectMessage)?;
        let mut ids: Vec<UserId> = user_ids.to_vec();
        ids.push(actor.user_id);
        ids.sort();
        ids.dedup();
        if ids.len() > self.limits.max_group_dm_members {
            return Err(DomainError::invalid(
                "user_ids",
                format!(
                    "a group DM has at most {} people",
                    self.limits.max_group_dm_members
                ),
            ));
        }
        let found = self.existing_users(&ids).await?;
        if found.len() != ids.len() {
            return Err(DomainError::NotFound("user"));
        }
        let key = ids
            .iter()
            .map(|u| u.0.to_string())
            .collect::<Vec<_>>()
            .join(",");
        if let Some(existing) = self.store.channel_by_dm_key(&key).await? {
            return Ok(existing);
        }
        let kind = if ids.len() <= 2 {
            ChannelKind::Dm
        } else {
            ChannelKind::GroupDm
        };
        let created = self
            .store
            .create_channel(NewChannel {
                kind,
                name: String::new(),
                topic: String::new(),
                purpose: String::new(),
                created_by: actor.user_id,
                created_at: self.clock.now(),
                dm_key: Some(key.clone()),
                members: ids.iter().map(|u| (*u, MemberRole::Member)).collect(),
            })
            .await;
        match created {
            Ok(c) => Ok(c),
            // Two people opened the same DM at once: the other request won.
            Err(crate::StoreError::Conflict(_)) => self
                .store
                .channel_by_dm_key(&key)
                .await?
                .ok_or(DomainError::NotFound("channel")),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn channel(&self, actor: &Actor, id: ChannelId) -> Result<Channel, DomainError> {
        Ok(self.channel_for(actor, id, ChannelAction::View).await?.0)
    }

    pub async fn my_channels(&self, actor: &Actor) -> Result<Vec<MyChannel>, DomainError> {
        Ok(self.store.my_channels(actor.user_id).await?)
    }

    pub async fn browse_channels(
        &self,
        actor: &Actor,
        after: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Vec<Channel>, DomainError> {
        authorize_org(actor, OrgAction::BrowsePublicChannels)?;
        let limit = self.page_limit(limit)?;
        Ok(self
            .store
            .public_channels(validate::non_negative("after", after.unwrap_or(0))?, limit)
            .await?)
    }

    pub async fn update_channel(
        &self,
        actor: &Actor,
        id: ChannelId,
        req: UpdateChannelRequest,
    ) -> Result<Channel, DomainError> {
        self.channel_for(actor, id, ChannelAction::Update).await?;
        let update = ChannelUpdate {
            name: req
                .name
                .as_deref()
                .map(|n| validate::label("name", n, MAX_NAME))
                .transpose()?,
            topic: req
                .topic
                .as_deref()
                .map(|t| validate::optional_text("topic", t, MAX_TOPIC))
                .transpose()?,
            purpose: req
                .purpose
                .as_deref()
                .map(|p| validate::optional_text("purpose", p, MAX_PURPOSE))
                .transpose()?,
        };
        Ok(self
            .store
            .update_channel(id, update, self.clock.now())
            .await?)
    }

    pub async fn join_channel(&self, actor: &Actor, id: ChannelId) -> Result<(), DomainError> {
        let (_, membership) = self.channel_for(actor, id, ChannelAction::Join).await?;
        if membership.is_none() {
            self.store
                .add_members(id, vec![actor.user_id], actor.user_id, self.clock.now())
                .await?;
        }
        Ok(())
    }

    pub async fn leave_channel(&self, actor: &Actor, id: ChannelId) -> Result<(), DomainError> {
        self.channel_for(actor, id, ChannelAction::Leave).await?;
        self.store
            .remove_member(id, actor.user_id, actor.user_id, self.clock.now())
            .await?;
        self.access.forget(id, actor.user_id);
        Ok(())
    }

    /// Adds users to a channel; returns who was newly added.
    pub async fn invite(
        &self,
        actor: &Actor,
        id: ChannelId,
        user_ids: &[UserId],
    ) -> Result<Vec<UserId>, DomainError> {
        self.channel_for(actor, id, ChannelAction::Invite).await?;
        if user_ids.is_empty() || user_ids.len() > self.limits.max_invite_batch {
            return Err(DomainError::invalid(
                "user_ids",
                format!("give 1 to {} users", self.limits.max_invite_batch),
            ));
        }
        let found = self.existing_users(user_ids).await?;
        if found.len() != dedup(user_ids).len() {
            return Err(DomainError::NotFound("user"));
        }
        Ok(self
            .store
            .add_members(id, found, actor.user_id, self.clock.now())
            .await?)
    }

    pub async fn remove_member(
        &self,
        actor: &Actor,
        id: ChannelId,
        user: UserId,
    ) -> Result<(), DomainError> {
        self.channel_for(actor, id, ChannelAction::RemoveMember { target: user })
            .await?;
        if !self
            .store
            .remove_member(id, user, actor.user_id, self.clock.now())
            .await?
        {
            return Err(DomainError::NotFound("member"));
        }
        self.access.forget(id, user);
        Ok(())
    }

    pub async fn members(&self, actor: &Actor, id: ChannelId) -> Result<Vec<Member>, DomainError> {
        self.channel_for(actor, id, ChannelAction::View).await?;
        Ok(self.store.members(id).await?)
    }

    async fn existing_users(&self, ids: &[UserId]) -> Result<Vec<UserId>, DomainError> {
        let mut found = Vec::new();
        for id in dedup(ids) {
            if self.store.user(id).await?.is_some() {
                found.push(id);
            }
        }
        Ok(found)
    }
}

fn dedup(ids: &[UserId]) -> Vec<UserId> {
    let mut v = ids.to_vec();
    v.sort();
    v.dedup();
    v
}
