//! A memory of who may post where, so the hot path (sending, typing) authorises without
//! asking the store twice per message.
//!
//! It holds channels (whose kind never changes) and positive memberships, and follows the
//! committed event log to forget memberships that end. A fill races with removals, so each
//! fill notes the removal epoch before reading the store and is dropped if a removal was
//! processed meanwhile. What remains is the same window any read-then-write check has: a
//! removal committed but not yet followed (microseconds).

use crate::store::{CommittedBatch, Membership, Store};
use concord_proto::{Channel, ChannelId, Event, UserId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::broadcast;

/// More entries than this and the cache starts over (it refills on demand).
const MAX_ENTRIES: usize = 1_000_000;

#[derive(Default)]
pub struct AccessCache {
    channels: RwLock<HashMap<ChannelId, Channel>>,
    members: RwLock<HashMap<(ChannelId, UserId), Membership>>,
    /// Bumped for every removal followed; fills that straddle one are discarded.
    epoch: AtomicU64,
}

impl AccessCache {
    /// A cache that follows `committed` (when called inside a Tokio runtime; otherwise the
    /// cache never fills and every lookup goes to the store).
    pub fn following(committed: broadcast::Receiver<CommittedBatch>) -> Arc<Self> {
        let cache = Arc::new(Self::default());
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(Self::follow(Arc::downgrade(&cache), committed));
        } else {
            cache.epoch.store(u64::MAX, Ordering::SeqCst);
        }
        cache
    }

    async fn follow(
        cache: std::sync::Weak<Self>,
        mut committed: broadcast::Receiver<CommittedBatch>,
    ) {
        loop {
            let batch = committed.recv().await;
            let Some(cache) = cache.upgrade() else { return };
            match batch {
                Ok(batch) => {
                    for e in batch.iter() {
                        match &e.stored.event {
                            Event::MemberLeft {
                                channel_id,
                                user_id,
                                ..
                            } => cache.forget(*channel_id, *user_id),
                            Event::ChannelUpdated { channel } => {
                                if let Some(c) = write(&cache.channels).get_mut(&channel.id) {
                                    *c = channel.clone();
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => cache.clear(),
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    /// Forgets a membership at once (the service calls it when it removes one, so the removal
    /// holds before the request that made it is answered).
    pub fn forget(&self, channel: ChannelId, user: UserId) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        write(&self.members).remove(&(channel, user));
    }

    fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        write(&self.members).clear();
        write(&self.channels).clear();
    }

    /// The channel (for its kind and id: other fields may be stale) and the user's membership.
    pub async fn lookup(
        &self,
        store: &dyn Store,
        channel: ChannelId,
        user: UserId,
    ) -> Result<(Option<Channel>, Option<Membership>), crate::StoreError> {
        let cached_channel = read(&self.channels).get(&channel).cloned();
        let cached_member = read(&self.members).get(&(channel, user)).cloned();
        if let (Some(c), Some(m)) = (&cached_channel, &cached_member) {
            return Ok((Some(c.clone()), Some(m.clone())));
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let found_channel = match cached_channel {
            Some(c) => Some(c),
            None => store.channel(channel).await?,
        };
        let Some(found_channel) = found_channel else {
            return Ok((None, None));
        };
        let membership = store.membership(channel, user).await?;
        if epoch != u64::MAX && self.epoch.load(Ordering::SeqCst) == epoch {
            let mut channels = write(&self.channels);
            let mut members = write(&self.members);
            if channels.len() + members.len() > MAX_ENTRIES {
                channels.clear();
                members.clear();
            }
            channels.insert(channel, found_channel.clone());
            if let Some(m) = &membership {
                members.insert((channel, user), m.clone());
            }
        }
        Ok((Some(found_channel), membership))
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}
