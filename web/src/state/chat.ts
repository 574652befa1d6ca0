// The chat state and the pure functions that change it: loading pages of history, and applying
// the events of the stream. Every function returns a new state and is idempotent where the
// same fact can arrive twice (a REST page and a live event overlapping).

import type {
  ChatEvent,
  Message,
  MessageId,
  MyChannel,
  PresenceStatus,
  Reaction,
  User,
  UserId,
} from "../api/types";
import { countMessage, markRead, type Viewer } from "./unread";

/** A contiguous window of a channel's history (all messages, replies included), by seq. */
export interface Timeline {
  messages: Message[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
}

export interface ThreadView {
  root: Message;
  replies: Message[];
}

export interface PendingMessage {
  clientMsgId: string;
  channelId: number;
  threadRootId: MessageId | null;
  text: string;
  failed: boolean;
  /** Uploaded files the message attaches. */
  fileIds?: number[];
}

export interface ChatState {
  me: User | null;
  users: Record<UserId, User>;
  channels: Record<number, MyChannel>;
  timelines: Record<number, Timeline>;
  threads: Record<MessageId, ThreadView>;
  members: Record<number, UserId[]>;
  /** channel id → user id → when the indicator expires (ms since epoch). */
  typing: Record<number, Record<UserId, { until: number; threadRootId: MessageId | null }>>;
  presence: Record<UserId, PresenceStatus>;
  pending: PendingMessage[];
}

export function emptyChat(): ChatState {
  return {
    me: null,
    users: {},
    channels: {},
    timelines: {},
    threads: {},
    members: {},
    typing: {},
    presence: {},
    pending: [],
  };
}

export const TYPING_MS = 6000;

/** Merges `incoming` into an ascending, id-unique list (newer versions win). */
export function mergeMessages(existing: Message[], incoming: Message[]): Message[] {
  if (incoming.length === 0) return existing;
  const bySeq = new Map<number, Message>();
  for (const m of existing) bySeq.set(m.seq, m);
  for (const m of incoming) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** Adds an older page (from `before=`) to the front of a timeline. */
export function prependPage(t: Timeline | undefined, page: Message[], hasMoreBefore: boolean): Timeline {
  if (!t) return { messages: page, hasMoreBefore, hasMoreAfter: false };
  return { ...t, messages: mergeMessages(t.messages, page), hasMoreBefore };
}

function mapMessage(list: Message[], id: MessageId, f: (m: Message) => Message): Message[] {
  const i = list.findIndex((m) => m.id === id);
  if (i < 0) return list;
  const next = list.slice();
  next[i] = f(list[i]!);
  return next;
}

/** Applies `f` to message `id` wherever it is shown: the channel timeline and threads. */
function updateMessage(state: ChatState, channelId: number, id: MessageId, f: (m: Message) => Message): ChatState {
  let timelines = state.timelines;
  const t = timelines[channelId];
  if (t) {
    const messages = mapMessage(t.messages, id, f);
    if (messages !== t.messages) timelines = { ...timelines, [channelId]: { ...t, messages } };
  }
  let threads = state.threads;
  for (const [key, th] of Object.entries(state.threads)) {
    if (th.root.channel_id !== channelId) continue;
    const root = th.root.id === id ? f(th.root) : th.root;
    const replies = mapMessage(th.replies, id, f);
    if (root !== th.root || replies !== th.replies) {
      threads = { ...threads, [Number(key)]: { root, replies } };
    }
  }
  return timelines === state.timelines && threads === state.threads ? state : { ...state, timelines, threads };
}

/** Retention deleted these messages for good: they leave the timeline and any open thread. */
export function pruneMessages(state: ChatState, channelId: number, ids: Set<MessageId>): ChatState {
  let timelines = state.timelines;
  const t = timelines[channelId];
  if (t && t.messages.some((m) => ids.has(m.id))) {
    timelines = { ...timelines, [channelId]: { ...t, messages: t.messages.filter((m) => !ids.has(m.id)) } };
  }
  let threads = state.threads;
  for (const [key, th] of Object.entries(state.threads)) {
    if (th.root.channel_id !== channelId) continue;
    if (ids.has(th.root.id)) {
      const { [Number(key)]: _gone, ...rest } = threads;
      threads = rest;
    } else if (th.replies.some((m) => ids.has(m.id))) {
      threads = { ...threads, [Number(key)]: { ...th, replies: th.replies.filter((m) => !ids.has(m.id)) } };
    }
  }
  return timelines === state.timelines && threads === state.threads ? state : { ...state, timelines, threads };
}

export function withReaction(reactions: Reaction[], emoji: string, userId: UserId, add: boolean): Reaction[] {
  const i = reactions.findIndex((r) => r.emoji === emoji);
  if (add) {
    if (i < 0) return [...reactions, { emoji, user_ids: [userId] }];
    const r = reactions[i]!;
    if (r.user_ids.includes(userId)) return reactions;
    const next = reactions.slice();
    next[i] = { emoji, user_ids: [...r.user_ids, userId] };
    return next;
  }
  if (i < 0) return reactions;
  const users = reactions[i]!.user_ids.filter((u) => u !== userId);
  const next = reactions.slice();
  if (users.length === 0) next.splice(i, 1);
  else next[i] = { emoji, user_ids: users };
  return next;
}

function addMessage(state: ChatState, m: Message, viewer: Viewer): ChatState {
  let next = state;
  if (m.client_msg_id && m.sender_id === viewer.meId) {
    next = { ...next, pending: next.pending.filter((p) => p.clientMsgId !== m.client_msg_id) };
  }
  const t = next.timelines[m.channel_id];
  const th = m.thread_root_id !== null ? next.threads[m.thread_root_id] : undefined;
  const seen = (t?.messages.some((x) => x.id === m.id) ?? false) || (th?.replies.some((x) => x.id === m.id) ?? false);
  if (seen) {
    // Already shown (a REST answer and the stream overlapping): counted once already.
    return updateMessage(next, m.channel_id, m.id, () => m);
  }
  if (t && !t.hasMoreAfter) {
    next = { ...next, timelines: { ...next.timelines, [m.channel_id]: { ...t, messages: mergeMessages(t.messages, [m]) } } };
  }
  if (m.thread_root_id !== null) {
    const rootId = m.thread_root_id;
    if (th) {
      next = { ...next, threads: { ...next.threads, [rootId]: { ...th, replies: mergeMessages(th.replies, [m]) } } };
    }
    next = updateMessage(next, m.channel_id, rootId, (root) => ({ ...root, reply_count: root.reply_count + 1 }));
  }
  const mc = next.channels[m.channel_id];
  if (mc) next = { ...next, channels: { ...next.channels, [m.channel_id]: countMessage(mc, m, viewer) } };
  return next;
}

export interface ApplyResult {
  state: ChatState;
  /** The channel list must be fetched again (a join, or a read marker moved backwards). */
  refetchChannels: boolean;
}

/** Applies one event of the stream (durable or ephemeral). */
export function applyEvent(state: ChatState, event: ChatEvent, viewer: Viewer, now = Date.now()): ApplyResult {
  const done = (s: ChatState, refetchChannels = false): ApplyResult => ({ state: s, refetchChannels });
  switch (event.type) {
    case "message.created": {
      const cleared = clearTyping(state, event.message.channel_id, event.message.sender_id);
      return done(addMessage(cleared, event.message, viewer));
    }
    case "message.edited":
      return done(updateMessage(state, event.message.channel_id, event.message.id, () => event.message));
    case "message.deleted":
      return done(
        updateMessage(state, event.channel_id, event.message_id, (m) => ({ ...m, deleted: true, text: "", reactions: [] })),
      );
    case "messages.pruned":
      return done(pruneMessages(state, event.channel_id, new Set(event.message_ids)));
    case "reaction.added":
    case "reaction.removed": {
      const add = event.type === "reaction.added";
      return done(
        updateMessage(state, event.channel_id, event.message_id, (m) => ({
          ...m,
          reactions: withReaction(m.reactions, event.emoji, event.user_id, add),
        })),
      );
    }
    case "message.pinned":
    case "message.unpinned": {
      const pinned = event.type === "message.pinned";
      return done(updateMessage(state, event.channel_id, event.message_id, (m) => ({ ...m, pinned })));
    }
    case "channel.read": {
      const mc = state.channels[event.channel_id];
      if (!mc || event.user_id !== viewer.meId) return done(state);
      const r = markRead(mc, event.last_read_seq);
      return done({ ...state, channels: { ...state.channels, [mc.channel.id]: r.channel } }, r.needsRefetch);
    }
    case "channel.created": {
      if (!event.member_ids.includes(viewer.meId) || state.channels[event.channel.id]) return done(state);
      const direct = event.channel.kind === "dm" || event.channel.kind === "group_dm";
      const mc: MyChannel = {
        channel: event.channel,
        role: event.channel.created_by === viewer.meId ? "admin" : "member",
        dm_members: direct ? event.member_ids : [],
        last_read_seq: 0,
        unread_count: 0,
        mention_count: 0,
      };
      return done({
        ...state,
        channels: { ...state.channels, [mc.channel.id]: mc },
        members: { ...state.members, [mc.channel.id]: event.member_ids },
      });
    }
    case "channel.updated": {
      const mc = state.channels[event.channel.id];
      if (!mc) return done(state);
      const channel = { ...event.channel, last_seq: Math.max(event.channel.last_seq, mc.channel.last_seq) };
      return done({ ...state, channels: { ...state.channels, [channel.id]: { ...mc, channel } } });
    }
    case "member.joined": {
      const list = state.members[event.channel_id];
      const members =
        list && !list.includes(event.user_id)
          ? { ...state.members, [event.channel_id]: [...list, event.user_id] }
          : state.members;
      const mine = event.user_id === viewer.meId && !state.channels[event.channel_id];
      return done({ ...state, members }, mine);
    }
    case "member.left": {
      const list = state.members[event.channel_id];
      let next: ChatState = list
        ? { ...state, members: { ...state.members, [event.channel_id]: list.filter((u) => u !== event.user_id) } }
        : state;
      if (event.user_id === viewer.meId) {
        const { [event.channel_id]: _gone, ...channels } = next.channels;
        const { [event.channel_id]: _t, ...timelines } = next.timelines;
        next = { ...next, channels, timelines };
      }
      return done(next);
    }
    case "typing": {
      if (event.user_id === viewer.meId) return done(state);
      const forChannel = { ...(state.typing[event.channel_id] ?? {}) };
      forChannel[event.user_id] = { until: now + TYPING_MS, threadRootId: event.thread_root_id };
      return done({ ...state, typing: { ...state.typing, [event.channel_id]: forChannel } });
    }
    case "presence":
      if (state.presence[event.user_id] === event.status) return done(state);
      return done({ ...state, presence: { ...state.presence, [event.user_id]: event.status } });
    // Files have their own state (state/files.ts); messages keep the reference they were sent with.
    case "file.created":
    case "file.updated":
    case "file.deleted":
    case "file.commented":
      return done(state);
  }
}

function clearTyping(state: ChatState, channelId: number, userId: UserId): ChatState {
  const forChannel = state.typing[channelId];
  if (!forChannel || !forChannel[userId]) return state;
  const { [userId]: _gone, ...rest } = forChannel;
  return { ...state, typing: { ...state.typing, [channelId]: rest } };
}

/** Drops typing indicators that ran out; returns the same state when none did. */
export function expireTyping(state: ChatState, now: number): ChatState {
  let changed = false;
  const typing: ChatState["typing"] = {};
  for (const [channel, users] of Object.entries(state.typing)) {
    const kept: Record<UserId, { until: number; threadRootId: MessageId | null }> = {};
    for (const [user, v] of Object.entries(users)) {
      if (v.until > now) kept[Number(user)] = v;
      else changed = true;
    }
    typing[Number(channel)] = kept;
  }
  return changed ? { ...state, typing } : state;
}

/** Who is typing in a channel (or in one thread of it), oldest first, without the viewer. */
export function typingUsers(
  forChannel: ChatState["typing"][number] | undefined,
  threadRootId: MessageId | null,
  now: number,
): UserId[] {
  return Object.entries(forChannel ?? {})
    .filter(([, v]) => v.until > now && v.threadRootId === threadRootId)
    .map(([u]) => Number(u));
}

/** Messages shown in the channel's main list: thread replies live in their thread. */
export function channelRows(t: Timeline | undefined): Message[] {
  return t ? t.messages.filter((m) => m.thread_root_id === null) : [];
}

/** The display name of a DM or group DM: the other members, or yourself in a self-DM. */
export function channelTitle(mc: MyChannel, users: Record<UserId, User>, meId: number | null): string {
  if (mc.channel.kind !== "dm" && mc.channel.kind !== "group_dm") return mc.channel.name;
  const others = mc.dm_members.filter((u) => u !== meId);
  const ids = others.length ? others : mc.dm_members;
  return ids.map((u) => users[u]?.display_name || users[u]?.username || `#${u}`).join(", ");
}
