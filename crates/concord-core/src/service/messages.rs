//! Messages: sending, history, threads, edits, deletes, reactions, pins and read state.

use super::Services;
use crate::authz::{Actor, ChannelAction};
use crate::error::DomainError;
use crate::mentions;
use crate::store::{NewMessage, SendOutcome};
use crate::validate;
use concord_proto::{
    ChannelId, FileId, HistoryPage, HistoryQuery, Message, MessageId, MessageVersion, ThreadPage,
    UserId,
};

/// A message to send, as a client gives it.
#[derive(Clone, Debug)]
pub struct SendInput {
    pub text: String,
    pub client_msg_id: Option<String>,
    pub thread_root_id: Option<MessageId>,
    /// Files uploaded to the channel to attach; with some, the text may be empty.
    pub file_ids: Vec<FileId>,
}

const MAX_THREAD_REPLIES: i64 = 1000;

impl Services {
    /// Sends a message. Returns it and whether it is new (`false`: a retry of an earlier send
    /// with the same `client_msg_id`, answered with the original). The message is durable
    /// when this returns.
    pub async fn send_message(
        &self,
        actor: &Actor,
        channel_id: ChannelId,
        input: SendInput,
    ) -> Result<(Message, bool), DomainError> {
        let text = if input.text.trim().is_empty() && !input.file_ids.is_empty() {
            String::new()
        } else {
            validate::message_text(&input.text, self.limits.max_message_chars)?
        };
        let client_msg_id = input
            .client_msg_id
            .as_deref()
            .map(validate::client_msg_id)
            .transpose()?;
        self.authorize_fast(actor, channel_id, ChannelAction::Post)
            .await?;
        if let Some(root_id) = input.thread_root_id {
            let root = self.store.message(root_id).await?;
            match root {
                Some(r) if r.channel_id == channel_id && !r.deleted => {
                    if r.thread_root_id.is_some() {
                        return Err(DomainError::invalid(
                            "thread_root_id",
                            "reply to the thread's first message",
                        ));
                    }
                }
                _ => return Err(DomainError::NotFound("thread root message")),
            }
        }
        // Before anything is stored: a block refuses the send, a mask changes what is kept.
        let text = self.dlp_for(channel_id).apply(text)?;
        let found = mentions::parse(&text);
        let mentioned = self.mentioned_members(actor, channel_id, &found).await?;
        let files = attachment_ids(&input.file_ids)?;
        let outcome = self
            .store
            .send_message(NewMessage {
                channel_id,
                sender_id: actor.user_id,
                text,
                client_msg_id,
                thread_root_id: input.thread_root_id,
                mentions: mentioned,
                mention_all: found.channel,
                created_at: self.clock.now(),
                files,
            })
            .await?;
        match outcome {
            SendOutcome::Created(m) => Ok((m, true)),
            SendOutcome::Existing(m) if m.channel_id == channel_id => Ok((m, false)),
            SendOutcome::Existing(_) => Err(DomainError::Conflict(
                "client_msg_id was already used for a message in another channel".into(),
            )),
        }
    }

    /// A page of a channel's history. Sequence numbers have no gaps, so the range is computed
    /// from the channel's last sequence number and fetched in one query.
    pub async fn history(
        &self,
        actor: &Actor,
        channel_id: ChannelId,
        q: HistoryQuery,
    ) -> Result<HistoryPage, DomainError> {
        let (channel, _) = self
            .channel_for(actor, channel_id, ChannelAction::ReadHistory)
            .await?;
        let limit = self.page_limit(q.limit)?;
        let anchors = [
            q.before.is_some(),
            q.after.is_some(),
            q.around.is_some(),
            q.at.is_some(),
        ];
        if anchors.iter().filter(|a| **a).count() > 1 {
            return Err(DomainError::invalid(
                "query",
                "give at most one of before, after, around, at",
            ));
        }
        let last = channel.last_seq;
        let around = |s: i64| {
            let lo = (s - limit / 2).max(1);
            (lo, lo.saturating_add(limit - 1).min(last))
        };
        let (lo, hi) = if let Some(b) = q.before {
            let hi = (validate::non_negative("before", b)? - 1).min(last);
            ((hi - limit + 1).max(1), hi)
        } else if let Some(a) = q.after {
            let lo = validate::non_negative("after", a)?.saturating_add(1);
            (lo, lo.saturating_add(limit - 1).min(last))
        } else if let Some(s) = q.around {
            around(validate::non_negative("around", s)?)
        } else if let Some(at) = q.at {
            match self.store.seq_at_time(channel_id, at).await? {
                Some(s) => around(s),
                None => ((last - limit + 1).max(1), last),
            }
        } else {
            ((last - limit + 1).max(1), last)
        };
        // Retention may have deleted the oldest messages: nothing before `first` exists.
        let oldest_seq = self.store.oldest_seq(channel_id).await?;
        let first = oldest_seq.unwrap_or(last + 1).max(1);
        let lo = lo.max(first);
        if lo > hi {
            return Ok(HistoryPage {
                messages: Vec::new(),
                has_more_before: hi >= first && lo > first,
                has_more_after: lo <= last && hi < last,
                oldest_seq,
            });
        }
        let messages = self.store.messages_by_seq(channel_id, lo, hi).await?;
        Ok(HistoryPage {
            messages,
            has_more_before: lo > first,
            has_more_after: hi < last,
            oldest_seq,
        })
    }

    pub async fn thread(
        &self,
        actor: &Actor,
        root_id: MessageId,
    ) -> Result<ThreadPage, DomainError> {
        let root = self
            .message_for(actor, root_id, ChannelAction::ReadHistory)
            .await?;
        if root.thread_root_id.is_some() {
            return Err(DomainError::invalid(
                "message_id",
                "is a reply, not a thread's first message",
            ));
        }
        let replies = self
            .store
            .thread_replies(root_id, MAX_THREAD_REPLIES)
            .await?;
        Ok(ThreadPage { root, replies })
    }

    pub async fn message(&self, actor: &Actor, id: MessageId) -> Result<Message, DomainError> {
        self.message_for(actor, id, ChannelAction::ReadHistory)
            .await
    }

    pub async fn edit_message(
        &self,
        actor: &Actor,
        id: MessageId,
        text: &str,
    ) -> Result<Message, DomainError> {
        let text = validate::message_text(text, self.limits.max_message_chars)?;
        let msg = self
            .message_for(actor, id, ChannelAction::ReadHistory)
            .await?;
        self.channel_for(
            actor,
            msg.channel_id,
            ChannelAction::EditMessage {
                author: msg.sender_id,
            },
        )
        .await?;
        if msg.deleted {
            return Err(DomainError::Conflict("the message was deleted".into()));
        }
        let text = self.dlp_for(msg.channel_id).apply(text)?;
        Ok(self.store.edit_message(id, text, self.clock.now()).await?)
    }

    pub async fn message_versions(
        &self,
        actor: &Actor,
        id: MessageId,
    ) -> Result<Vec<MessageVersion>, DomainError> {
        let msg = self
            .message_for(actor, id, ChannelAction::ReadHistory)
            .await?;
        if msg.deleted {
            return Ok(Vec::new());
        }
        Ok(self.store.message_versions(id).await?)
    }

    pub async fn delete_message(&self, actor: &Actor, id: MessageId) -> Result<(), DomainError> {
        let msg = self
            .message_for(actor, id, ChannelAction::ReadHistory)
            .await?;
        self.channel_for(
            actor,
            msg.channel_id,
            ChannelAction::DeleteMessage {
                author: msg.sender_id,
            },
        )
        .await?;
        if msg.deleted {
            return Ok(());
        }
        Ok(self.store.delete_message(id, self.clock.now()).await?)
    }

    pub async fn set_reaction(
        &self,
        actor: &Actor,
        id: MessageId,
        emoji: &str,
        present: bool,
    ) -> Result<(), DomainError> {
        let emoji = validate::emoji(emoji)?;
        let msg = self.message_for(actor, id, ChannelAction::React).await?;
        if msg.deleted {
            return Err(DomainError::Conflict("the message was deleted".into()));
        }
        self.store
            .set_reaction(id, actor.user_id, emoji, present, self.clock.now())
            .await?;
        Ok(())
    }

    pub async fn set_pinned(
        &self,
        actor: &Actor,
        id: MessageId,
        pinned: bool,
    ) -> Result<(), DomainError> {
        let msg = self.message_for(actor, id, ChannelAction::Pin).await?;
        if msg.deleted && pinned {
            return Err(DomainError::Conflict("the message was deleted".into()));
        }
        self.store
            .set_pinned(id, actor.user_id, pinned, self.clock.now())
            .await?;
        Ok(())
    }

    pub async fn pinned_messages(
        &self,
        actor: &Actor,
        channel_id: ChannelId,
    ) -> Result<Vec<Message>, DomainError> {
        self.channel_for(actor, channel_id, ChannelAction::ReadHistory)
            .await?;
        Ok(self.store.pinned_messages(channel_id).await?)
    }

    /// Moves the actor's read position (backwards too, to mark as unread).
    pub async fn mark_read(
        &self,
        actor: &Actor,
        channel_id: ChannelId,
        seq: i64,
    ) -> Result<i64, DomainError> {
        let (channel, _) = self
            .channel_for(actor, channel_id, ChannelAction::MarkRead)
            .await?;
        let seq = validate::non_negative("seq", seq)?;
        if seq > channel.last_seq {
            return Err(DomainError::invalid(
                "seq",
                format!("is past the channel's last message ({})", channel.last_seq),
            ));
        }
        Ok(self
            .store
            .mark_read(channel_id, actor.user_id, seq, self.clock.now())
            .await?)
    }

    /// Checks that the actor may send a typing notice; the gateway delivers it.
    pub async fn authorize_typing(
        &self,
        actor: &Actor,
        channel_id: ChannelId,
    ) -> Result<(), DomainError> {
        self.authorize_fast(actor, channel_id, ChannelAction::Typing)
            .await?;
        Ok(())
    }

    /// Loads a message and authorises `action` on its channel.
    async fn message_for(
        &self,
        actor: &Actor,
        id: MessageId,
        action: ChannelAction,
    ) -> Result<Message, DomainError> {
        let msg = self
            .store
            .message(id)
            .await?
            .ok_or(DomainError::NotFound("message"))?;
        match self.channel_for(actor, msg.channel_id, action).await {
            Err(DomainError::NotFound(_)) => Err(DomainError::NotFound("message")),
            Err(e) => Err(e),
            Ok(_) => Ok(msg),
        }
    }
}

/// At most this many files on one message.
pub const MAX_FILES_PER_MESSAGE: usize = 10;

/// The files to attach, each once, in the order given.
fn attachment_ids(ids: &[FileId]) -> Result<Vec<FileId>, DomainError> {
    let mut out: Vec<FileId> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(id) {
            out.push(*id);
        }
    }
    if out.len() > MAX_FILES_PER_MESSAGE {
        return Err(DomainError::invalid(
            "file_ids",
            format!("at most {MAX_FILES_PER_MESSAGE} files per message"),
        ));
    }
    Ok(out)
}

impl Services {
    /// The channel members a text mentions (`@name`, and `@here` for those online), without
    /// the author.
    pub(super) async fn mentioned_members(
        &self,
        actor: &Actor,
        channel_id: ChannelId,
        found: &mentions::Mentions,
    ) -> Result<Vec<UserId>, DomainError> {
        let mut mentioned: Vec<UserId> = Vec::new();
        if found.usernames.is_empty() && !found.here {
            return Ok(mentioned);
        }
        let members = self.store.members(channel_id).await?;
        let is_member = |u: UserId| members.iter().any(|m| m.user_id == u);
        if !found.usernames.is_empty() {
            for user in self.store.users_by_usernames(&found.usernames).await? {
                if is_member(user.id) && user.id != actor.user_id {
                    mentioned.push(user.id);
                }
            }
        }
        if found.here {
            for m in &members {
                if m.user_id != actor.user_id
                    && self.presence.is_online(m.user_id)
                    && !mentioned.contains(&m.user_id)
                {
                    mentioned.push(m.user_id);
                }
            }
        }
        Ok(mentioned)
    }
}
