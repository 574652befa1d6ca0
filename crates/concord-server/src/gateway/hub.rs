//! The hub: routes committed and ephemeral events to the live WebSocket connections that may
//! see them.
//!
//! One task owns all routing state, so events are delivered in log order. It follows the
//! store's committed batches and tracks, for each online user, the channels they belong to,
//! updating that from membership events as they pass.
//!
//! Registration is exact: a connection brings a membership snapshot taken at log position P.
//! The hub delivers to it only events after P (the connection replays anything older from the
//! store itself), and a snapshot older than what the hub has already routed is refused, so the
//! connection retakes it. Each event is serialised once and shared by all its recipients.

use axum::extract::ws::Utf8Bytes;
use concord_core::{Audience, CommittedBatch, PresenceView};
use concord_proto::{ChannelId, Event, Position, PresenceStatus, ServerFrame, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::sync::{Notify, broadcast, mpsc, oneshot};

/// What a connection's writer receives.
#[derive(Debug)]
pub enum Outbound {
    Text(Utf8Bytes),
}

/// State shared between the hub and one connection, for asking it to close.
#[derive(Debug, Default)]
pub struct ConnControl {
    /// Non-zero: the close code the hub asked for.
    pub close_code: AtomicU16,
    pub notify: Notify,
}

impl ConnControl {
    pub fn close(&self, code: u16) {
        self.close_code.store(code, Ordering::SeqCst);
        self.notify.notify_one();
    }
}

/// Close codes the hub uses.
pub const CLOSE_SLOW_CONSUMER: u16 = 4008;
pub const CLOSE_RESYNC: u16 = 4009;
/// The account was suspended or deactivated.
pub const CLOSE_ACCOUNT_DISABLED: u16 = 4003;

pub type ConnId = u64;

/// A registration was refused because the snapshot is older than the hub's position.
#[derive(Debug)]
pub struct StaleSnapshot;

enum HubMsg {
    Register {
        conn: ConnId,
        user: UserId,
        channels: Vec<ChannelId>,
        snapshot_at: Position,
        out: mpsc::Sender<Outbound>,
        control: Arc<ConnControl>,
        reply: oneshot::Sender<Result<Position, StaleSnapshot>>,
    },
    Unregister {
        conn: ConnId,
    },
    Ephemeral {
        audience: Audience,
        except: Option<UserId>,
        event: Event,
    },
    WatchPresence {
        conn: ConnId,
        users: Vec<UserId>,
    },
    DisconnectUser {
        user: UserId,
    },
}

/// A handle to the hub task; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    tx: mpsc::UnboundedSender<HubMsg>,
    online: Arc<RwLock<HashSet<UserId>>>,
    next_conn: Arc<AtomicU64>,
}

impl Hub {
    /// Starts the hub, following `committed`.
    pub fn start(committed: broadcast::Receiver<CommittedBatch>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let online = Arc::new(RwLock::new(HashSet::new()));
        let state = HubState {
            position: 0,
            users: HashMap::new(),
            by_channel: HashMap::new(),
            conns: HashMap::new(),
            watchers: HashMap::new(),
            online: online.clone(),
        };
        tokio::spawn(state.run(rx, committed));
        Self {
            tx,
            online,
            next_conn: Arc::new(AtomicU64::new(1)),
        }
    }

    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a connection with a membership snapshot taken at `snapshot_at`. Returns the
    /// position after which the hub delivers live events to it.
    pub async fn register(
        &self,
        conn: ConnId,
        user: UserId,
        (channels, snapshot_at): (Vec<ChannelId>, Position),
        out: mpsc::Sender<Outbound>,
        control: Arc<ConnControl>,
    ) -> Result<Position, StaleSnapshot> {
        let (reply, answer) = oneshot::channel();
        let msg = HubMsg::Register {
            conn,
            user,
            channels,
            snapshot_at,
            out,
            control,
            reply,
        };
        if self.tx.send(msg).is_err() {
            return Err(StaleSnapshot);
        }
        answer.await.unwrap_or(Err(StaleSnapshot))
    }

    /// Sets whose presence a connection follows (replacing the earlier set); the hub answers
    /// with their current status, then sends changes. Presence is by subscription so that a
    /// person coming online costs one frame per interested connection, not one per connection.
    pub fn watch_presence(&self, conn: ConnId, users: Vec<UserId>) {
        let _ = self.tx.send(HubMsg::WatchPresence { conn, users });
    }

    pub fn unregister(&self, conn: ConnId) {
        let _ = self.tx.send(HubMsg::Unregister { conn });
    }

    /// Delivers an event that is not stored (typing).
    pub fn ephemeral(&self, audience: Audience, except: Option<UserId>, event: Event) {
        let _ = self.tx.send(HubMsg::Ephemeral {
            audience,
            except,
            event,
        });
    }
}

impl PresenceView for Hub {
    fn is_online(&self, user: UserId) -> bool {
        self.online
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&user)
    }

    fn disconnect(&self, user: UserId) {
        let _ = self.tx.send(HubMsg::DisconnectUser { user });
    }
}

struct TrackedUser {
    channels: HashSet<ChannelId>,
    /// Membership changes at or before this position are already in `channels`.
    valid_from: Position,
    conns: Vec<ConnId>,
}

struct Conn {
    user: UserId,
    /// Users whose presence this connection follows.
    watching: Vec<UserId>,
    /// Events at or before this position reach the connection by replay, not from the hub.
    deliver_after: Position,
    out: mpsc::Sender<Outbound>,
    control: Arc<ConnControl>,
}

struct HubState {
    /// The last committed position routed.
    position: Position,
    users: HashMap<UserId, TrackedUser>,
    by_channel: HashMap<ChannelId, HashSet<UserId>>,
    conns: HashMap<ConnId, Conn>,
    /// For each user, the connections following their presence.
    watchers: HashMap<UserId, HashSet<ConnId>>,
    online: Arc<RwLock<HashSet<UserId>>>,
}

impl HubState {
    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<HubMsg>,
        mut committed: broadcast::Receiver<CommittedBatch>,
    ) {
        loop {
            tokio::select! {
                biased;
                batch = committed.recv() => match batch {
                    Ok(batch) => self.route_batch(&batch),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "hub fell behind the event log; connections will resume");
                        self.reset();
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                msg = rx.recv() => match msg {
                    Some(msg) => self.handle(msg),
                    None => break,
                },
            }
        }
    }

    fn handle(&mut self, msg: HubMsg) {
        match msg {
            HubMsg::Register {
                conn,
                user,
                channels,
                snapshot_at,
                out,
                control,
                reply,
            } => {
                let boundary = match self.users.get_mut(&user) {
                    Some(tracked) => {
                        tracked.conns.push(conn);
                        self.position.max(tracked.valid_from)
                    }
                    None if snapshot_at < self.position => {
                        let _ = reply.send(Err(StaleSnapshot));
                        return;
                    }
                    None => {
                        for c in &channels {
                            self.by_channel.entry(*c).or_default().insert(user);
                        }
                        let tracked = TrackedUser {
                            channels: channels.into_iter().collect(),
                            valid_from: snapshot_at,
                            conns: vec![conn],
                        };
                        self.users.insert(user, tracked);
                        self.set_presence(user, PresenceStatus::Online);
                        snapshot_at
                    }
                };
                self.conns.insert(
                    conn,
                    Conn {
                        watching: Vec::new(),
                        user,
                        deliver_after: boundary,
                        out,
                        control,
                    },
                );
                metrics::gauge!("concord_ws_connections").set(self.conns.len() as f64);
                let _ = reply.send(Ok(boundary));
            }
            HubMsg::Unregister { conn } => self.drop_conn(conn, None),
            HubMsg::DisconnectUser { user } => {
                let conns = self
                    .users
                    .get(&user)
                    .map(|t| t.conns.clone())
                    .unwrap_or_default();
                for conn in conns {
                    self.drop_conn(conn, Some(CLOSE_ACCOUNT_DISABLED));
                }
            }
            HubMsg::WatchPresence { conn, users } => {
                let Some(c) = self.conns.get_mut(&conn) else {
                    return;
                };
                let old = std::mem::replace(&mut c.watching, users.clone());
                for u in old {
                    self.unwatch(u, conn);
                }
                for u in users {
                    self.watchers.entry(u).or_default().insert(conn);
                    let status = if self.users.contains_key(&u) {
                        PresenceStatus::Online
                    } else {
                        PresenceStatus::Offline
                    };
                    let frame = presence_frame(u, status);
                    self.send(conn, &frame, 0);
                }
            }
            HubMsg::Ephemeral {
                audience,
                except,
                event,
            } => {
                let frame = serialize(&ServerFrame::Event {
                    position: None,
                    at: None,
                    event,
                });
                let targets = self.targets(audience);
                for conn in targets {
                    if except.is_some_and(|u| self.conns.get(&conn).is_some_and(|c| c.user == u)) {
                        continue;
                    }
                    self.send(conn, &frame, 0);
                }
            }
        }
    }

    fn route_batch(&mut self, batch: &CommittedBatch) {
        let mut delivered = 0u64;
        for committed in batch.iter() {
            let position = committed.stored.position;
            self.apply_membership(&committed.stored.event, position, true);
            let frame = serialize(&ServerFrame::Event {
                position: Some(position),
                at: Some(committed.stored.at),
                event: committed.stored.event.clone(),
            });
            for conn in self.targets(committed.audience) {
                if self.send(conn, &frame, position) {
                    delivered += 1;
                }
            }
            self.apply_membership(&committed.stored.event, position, false);
            self.position = position;
        }
        metrics::counter!("concord_ws_deliveries_total").increment(delivered);
    }

    /// Joins take effect before an event is routed (the new member sees it), leaves after
    /// (the leaving member sees it too).
    fn apply_membership(&mut self, event: &Event, position: Position, before_routing: bool) {
        let changes: Vec<(ChannelId, UserId, bool)> = match event {
            Event::ChannelCreated {
                channel,
                member_ids,
            } if before_routing => member_ids.iter().map(|u| (channel.id, *u, true)).collect(),
            Event::MemberJoined {
                channel_id,
                user_id,
                ..
            } if before_routing => vec![(*channel_id, *user_id, true)],
            Event::MemberLeft {
                channel_id,
                user_id,
                ..
            } if !before_routing => vec![(*channel_id, *user_id, false)],
            _ => return,
        };
        for (channel, user, joined) in changes {
            let Some(tracked) = self.users.get_mut(&user) else {
                continue;
            };
            if position <= tracked.valid_from {
                continue;
            }
            if joined {
                tracked.channels.insert(channel);
                self.by_channel.entry(channel).or_default().insert(user);
            } else {
                tracked.channels.remove(&channel);
                if let Some(set) = self.by_channel.get_mut(&channel) {
                    set.remove(&user);
                    if set.is_empty() {
                        self.by_channel.remove(&channel);
                    }
                }
            }
        }
    }

    fn targets(&self, audience: Audience) -> Vec<ConnId> {
        let mut out = Vec::new();
        let add_user = |u: &UserId, out: &mut Vec<ConnId>| {
            if let Some(t) = self.users.get(u) {
                out.extend_from_slice(&t.conns);
            }
        };
        match audience {
            Audience::Everyone => out.extend(self.conns.keys().copied()),
            Audience::Channel(c) => {
                for u in self.by_channel.get(&c).into_iter().flatten() {
                    add_user(u, &mut out);
                }
            }
            Audience::User(u) => add_user(&u, &mut out),
            Audience::ChannelAndUser(c, u) => {
                let members = self.by_channel.get(&c);
                for m in members.into_iter().flatten() {
                    add_user(m, &mut out);
                }
                if !members.is_some_and(|m| m.contains(&u)) {
                    add_user(&u, &mut out);
                }
            }
        }
        out
    }

    /// Queues a frame; a connection whose queue is full is closed (it resumes on reconnect).
    fn send(&mut self, conn: ConnId, frame: &Utf8Bytes, position: Position) -> bool {
        let Some(c) = self.conns.get(&conn) else {
            return false;
        };
        if position != 0 && position <= c.deliver_after {
            return false;
        }
        match c.out.try_send(Outbound::Text(frame.clone())) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.drop_conn(conn, Some(CLOSE_SLOW_CONSUMER));
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.drop_conn(conn, None);
                false
            }
        }
    }

    fn drop_conn(&mut self, conn: ConnId, close: Option<u16>) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        if let Some(code) = close {
            c.control.close(code);
        }
        metrics::gauge!("concord_ws_connections").set(self.conns.len() as f64);
        let Some(tracked) = self.users.get_mut(&c.user) else {
            return;
        };
        tracked.conns.retain(|x| *x != conn);
        if tracked.conns.is_empty() {
            if let Some(tracked) = self.users.remove(&c.user) {
                for ch in tracked.channels {
                    if let Some(set) = self.by_channel.get_mut(&ch) {
                        set.remove(&c.user);
                        if set.is_empty() {
                            self.by_channel.remove(&ch);
                        }
                    }
                }
            }
            self.set_presence(c.user, PresenceStatus::Offline);
        }
    }

    /// After losing events, nothing the hub knows can be trusted: close everyone.
    fn reset(&mut self) {
        for (_, c) in self.conns.drain() {
            c.control.close(CLOSE_RESYNC);
        }
        self.users.clear();
        self.by_channel.clear();
        self.watchers.clear();
        self.online
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.position = 0;
    }

    fn set_presence(&mut self, user: UserId, status: PresenceStatus) {
        {
            let mut online = self.online.write().unwrap_or_else(|e| e.into_inner());
            match status {
                PresenceStatus::Online => online.insert(user),
                PresenceStatus::Offline => online.remove(&user),
            };
        }
        let frame = presence_frame(user, status);
        let conns: Vec<ConnId> = self
            .watchers
            .get(&user)
            .map(|w| w.iter().copied().collect())
            .unwrap_or_default();
        for conn in conns {
            self.send(conn, &frame, 0);
        }
    }

    fn unwatch(&mut self, user: UserId, conn: ConnId) {
        if let Some(set) = self.watchers.get_mut(&user) {
            set.remove(&conn);
            if set.is_empty() {
                self.watchers.remove(&user);
            }
        }
    }
}

fn presence_frame(user_id: UserId, status: PresenceStatus) -> Utf8Bytes {
    serialize(&ServerFrame::Event {
        position: None,
        at: None,
        event: Event::Presence { user_id, status },
    })
}

pub fn serialize(frame: &ServerFrame) -> Utf8Bytes {
    // Serialising our own types cannot fail; an empty frame would be a bug, not a crash.
    Utf8Bytes::from(serde_json::to_string(frame).unwrap_or_default())
}
