// The application controller: the session, the stores the components read, and every action
// (REST calls, the live stream, read markers, notifications). Components call these functions
// and render the stores; the rules themselves live in the pure modules (chat, unread, resume).

import { ApiClient, ApiError } from "../api/client";
import type { ChannelId, FileId, Message, MessageId, MyChannel, User, UserId, UserProfile } from "../api/types";
import { currentT } from "../i18n";
import { Realtime, type ConnectionStatus } from "../realtime/socket";
import type { FrameAction } from "../realtime/resume";
import {
  applyEvent,
  channelTitle,
  emptyChat,
  expireTyping,
  mergeMessages,
  prependPage,
  type ChatState,
} from "./chat";
import { onFileEvent, resyncFiles } from "./filesController";
import { navigate, route } from "./router";
import { permissions, showDirectory } from "./perms";
import { mergeServerPrefs, settings, updateSettings } from "./settings";
import { createStore } from "./store";
import { clientSettings, loadClientSettings } from "./watermark";
import { documentTitle, shouldNotify, totals, type Viewer } from "./unread";

export interface Session {
  token: string;
  user: User;
}

const SESSION_KEY = "concord.session";

function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return typeof s.token === "string" && s.user ? s : null;
  } catch {
    return null;
  }
}

export const session = createStore<Session | null>(loadSession());
export const chat = createStore<ChatState>(emptyChat());
/** The signed-in user's own profile (attributes, preferences), once loaded. */
export const myProfile = createStore<UserProfile | null>(null);

export interface UiState {
  connection: ConnectionStatus;
  /** Set once the first channel list arrived. */
  ready: boolean;
  threadRootId: MessageId | null;
  drawerOpen: boolean;
  panel: "pins" | "members" | "profile" | "files" | null;
  /** Whose profile the side panel shows (panel "profile"). */
  profileUserId: UserId | null;
  /** The channel settings dialog (membership rule, geofence) is open. */
  channelSettings: boolean;
  /** The active channel's list is scrolled to the newest message. */
  atBottom: boolean;
  /** channel → last_read_seq when it was opened: where the "new messages" line goes. */
  unreadMarker: Record<number, number>;
  toast: string | null;
  dialog: "create-channel" | "new-dm" | null;
  /** A message to scroll to and highlight (a search hit that was opened). */
  focus: { channelId: ChannelId; seq: number } | null;
}

export const ui = createStore<UiState>({
  connection: "connecting",
  ready: false,
  threadRootId: null,
  drawerOpen: false,
  panel: null,
  profileUserId: null,
  channelSettings: false,
  atBottom: true,
  unreadMarker: {},
  toast: null,
  dialog: null,
  focus: null,
});

export const api = new ApiClient({
  getToken: () => session.get()?.token ?? null,
  onUnauthorized: () => signOut(false),
});

export function patchUi(patch: Partial<UiState>): void {
  ui.set((s) => ({ ...s, ...patch }));
}

let toastTimer: ReturnType<typeof setTimeout> | null = null;
export function showToast(text: string): void {
  patchUi({ toast: text });
  if (toastTimer) clearTimeout(toastTimer);
  toastTimer = setTimeout(() => patchUi({ toast: null }), 5000);
}

/** Shows a failed request's message; returns nothing so callers can `.catch(reportError)`. */
export function reportError(e: unknown): void {
  const t = currentT();
  if (e instanceof ApiError) showToast(e.isNetwork ? t("error.network") : e.message);
  else showToast(t("error.generic"));
}

export function activeChannelId(): ChannelId | null {
  const r = route.get();
  return r.name === "channel" ? r.channelId : null;
}

function viewer(): Viewer {
  const me = chat.get().me ?? session.get()?.user ?? null;
  const active = activeChannelId();
  const visible = typeof document === "undefined" || document.visibilityState === "visible";
  return {
    meId: me?.id ?? 0,
    username: me?.username ?? "",
    readingChannelId: active !== null && visible && ui.get().atBottom ? active : null,
  };
}

// ---------------------------------------------------------------- session

export async function signIn(login: string, password: string): Promise<void> {
  const res = await api.login(login, password);
  const s: Session = { token: res.token, user: res.user };
  localStorage.setItem(SESSION_KEY, JSON.stringify(s));
  session.set(s);
  start();
}

export function signOut(callServer = true): void {
  const s = session.get();
  if (callServer && s) api.logout().catch(() => undefined);
  localStorage.removeItem(SESSION_KEY);
  realtime?.stop();
  realtime = null;
  session.set(null);
  chat.set(emptyChat());
  permissions.set(null);
  myProfile.set(null);
  clientSettings.set({ watermark: false });
  patchUi({ ready: false, threadRootId: null, panel: null, profileUserId: null, channelSettings: false, unreadMarker: {}, dialog: null });
}

// ---------------------------------------------------------------- live stream

let realtime: Realtime | null = null;
let typingTimer: ReturnType<typeof setInterval> | null = null;
let fallbackTimer: ReturnType<typeof setTimeout> | null = null;

/** Starts the stream; the first `hello` triggers loading state over REST. */
export function start(): void {
  const s = session.get();
  if (!s || realtime) return;
  chat.set((c) => ({ ...c, me: s.user, users: { ...c.users, [s.user.id]: s.user } }));
  realtime = new Realtime({
    origin: location.origin,
    getToken: () => session.get()?.token ?? null,
    onAction: handleAction,
    onStatus: (connection) => patchUi({ connection }),
    onConnectFailed: () => {
      // A refused upgrade looks like a network error: ask REST whether the session is alive.
      api.me().catch(() => undefined);
    },
    onLive: () => syncPresence(true),
  });
  realtime.start();
  // If the stream cannot be reached, still show what REST has.
  fallbackTimer = setTimeout(() => {
    if (!ui.get().ready) refresh().catch(reportError);
  }, 4000);
  if (!typingTimer) {
    typingTimer = setInterval(() => {
      const next = expireTyping(chat.get(), Date.now());
      if (next !== chat.get()) chat.set(next);
    }, 1000);
  }
}

function handleAction(action: FrameAction): void {
  switch (action.kind) {
    case "hello":
      if (action.fresh) {
        if (fallbackTimer) clearTimeout(fallbackTimer);
        refresh().catch(reportError);
      }
      return;
    case "resync":
      refresh().catch(reportError);
      return;
    case "apply":
    case "ephemeral": {
      const event = action.event;
      const v = viewer();
      const before = chat.get();
      const result = applyEvent(before, event, v);
      chat.set(result.state);
      if (result.refetchChannels) loadChannels().catch(reportError);
      if (event.type === "message.created") {
        const m = event.message;
        ensureUsers([m.sender_id]);
        if (m.channel_id === v.readingChannelId && m.sender_id !== v.meId) scheduleMarkRead();
        notify(result.state.channels[m.channel_id], m, v);
      }
      if (event.type.startsWith("file.")) onFileEvent(event as Parameters<typeof onFileEvent>[0]);
      if (event.type === "channel.created") syncPresence(false);
      if (event.type === "member.joined" || event.type === "member.left") {
        if (event.channel_id === activeChannelId()) syncPresence(false);
      }
      if (event.type === "member.left" && event.user_id === v.meId && event.channel_id === activeChannelId()) {
        navigate({ name: "home" }, true);
      }
      return;
    }
    default:
      return;
  }
}

/** Loads (or reloads after a resync) everything shown: channels, directory, open views. */
export async function refresh(): Promise<void> {
  const [channels] = await Promise.all([loadChannels(), loadPermissions().then(loadDirectory), loadMyProfile(), loadClientSettings(api)]);
  const wasReady = ui.get().ready;
  chat.set((c) => ({ ...c, timelines: {}, threads: {} }));
  if (wasReady) resyncFiles();
  patchUi({ ready: true });
  // On the first load the channel view opens its channel when it sees `ready`; after a resync
  // the open views are reloaded here.
  if (!wasReady) return;
  const active = activeChannelId();
  if (active !== null && channels.some((mc) => mc.channel.id === active)) await openChannel(active);
  const root = ui.get().threadRootId;
  if (root !== null) await loadThread(root);
}

export async function loadChannels(): Promise<MyChannel[]> {
  const list = await api.myChannels();
  const channels: Record<number, MyChannel> = {};
  for (const mc of list) channels[mc.channel.id] = mc;
  chat.set((c) => ({ ...c, channels }));
  ensureUsers(list.flatMap((mc) => mc.dm_members));
  syncPresence(false);
  return list;
}

/** What the user may do: decides which screens show (and which requests are worth making). */
export async function loadPermissions(): Promise<void> {
  try {
    permissions.set(await api.myPermissions());
  } catch (e) {
    // An older server without roles: fall back to "admins may do everything, others the basics".
    if (e instanceof ApiError && e.status === 404) {
      const admin = !!session.get()?.user.is_admin;
      permissions.set({ org: admin ? ["directory.read", "user.manage"] : ["directory.read"], departments: [] });
    } else throw e;
  }
}

/** The user's own profile; its time zone and language, when set, override the browser's. */
export async function loadMyProfile(): Promise<void> {
  const me = session.get()?.user;
  if (!me) return;
  try {
    const p = await api.profile(me.id);
    myProfile.set(p);
    const next = mergeServerPrefs(settings.get(), p);
    if (next !== settings.get()) updateSettings(next);
  } catch {
    // Not fatal: the settings kept in this browser apply.
  }
}

/** Saves the user's own profile fields and keeps the local copy in step. */
export async function saveMyProfile(patch: Parameters<typeof api.updateMe>[0]): Promise<UserProfile> {
  const p = await api.updateMe(patch);
  myProfile.set(p);
  const user: User = { id: p.id, username: p.username, display_name: p.display_name, email: p.email, is_admin: p.is_admin, created_at: p.created_at };
  chat.set((c) => ({ ...c, me: c.me?.id === p.id ? user : c.me, users: { ...c.users, [p.id]: user } }));
  return p;
}

/** Shows a person's profile: in the side panel beside a conversation, else in the directory. */
export function openProfile(userId: UserId): void {
  if (activeChannelId() !== null) patchUi({ panel: "profile", profileUserId: userId, threadRootId: null });
  else navigate({ name: "directory", userId });
}

/** The first page of the people directory: enough to name most senders without a request each. */
async function loadDirectory(): Promise<void> {
  // Guests may not list people; they learn names from their channels one by one.
  if (!showDirectory(permissions.get())) return;
  const page = await api.users(undefined, 200);
  chat.set((c) => {
    const users = { ...c.users };
    for (const u of page.users) users[u.id] = u;
    return { ...c, users };
  });
}

const userRequests = new Set<UserId>();
/** Fetches users the client has not seen yet (senders, DM members). */
export function ensureUsers(ids: UserId[]): void {
  const users = chat.get().users;
  const missing = [...new Set(ids)].filter((id) => !users[id] && !userRequests.has(id));
  for (const id of missing) {
    userRequests.add(id);
    api
      .user(id)
      .then((u) => chat.set((c) => ({ ...c, users: { ...c.users, [u.id]: u } })))
      .catch(() => undefined)
      .finally(() => userRequests.delete(id));
  }
}

// ---------------------------------------------------------------- channels

const PAGE = 50;

export async function openChannel(id: ChannelId): Promise<void> {
  const mc = chat.get().channels[id];
  if (mc) patchUi({ unreadMarker: { ...ui.get().unreadMarker, [id]: mc.last_read_seq } });
  const jobs: Promise<unknown>[] = [loadMembers(id)];
  if (!chat.get().timelines[id]) jobs.push(loadNewest(id));
  await Promise.all(jobs);
  scheduleMarkRead();
}

async function loadNewest(id: ChannelId): Promise<void> {
  const page = await api.history(id, { limit: PAGE });
  chat.set((c) => ({
    ...c,
    timelines: {
      ...c.timelines,
      [id]: {
        messages: mergeMessages(c.timelines[id]?.messages ?? [], page.messages),
        hasMoreBefore: page.has_more_before,
        hasMoreAfter: false,
      },
    },
  }));
  ensureUsers(page.messages.map((m) => m.sender_id));
}

const olderInFlight = new Set<ChannelId>();
/** Loads the page before the oldest loaded message (as the user scrolls up). */
export async function loadOlder(id: ChannelId): Promise<void> {
  const t = chat.get().timelines[id];
  if (!t || !t.hasMoreBefore || olderInFlight.has(id)) return;
  const first = t.messages[0];
  if (!first) return;
  olderInFlight.add(id);
  try {
    const page = await api.history(id, { before: first.seq, limit: 100 });
    chat.set((c) => ({
      ...c,
      timelines: { ...c.timelines, [id]: prependPage(c.timelines[id], page.messages, page.has_more_before) },
    }));
    ensureUsers(page.messages.map((m) => m.sender_id));
  } finally {
    olderInFlight.delete(id);
  }
}

/** How many older pages a jump may load before it gives up on a contiguous timeline. */
const JUMP_PAGES = 50;

/**
 * Opens a channel at message `seq` (a search hit): loads the newest page if needed, then older
 * pages until the message is loaded (the timeline stays contiguous up to the newest message,
 * so live messages keep arriving), and asks the channel view to scroll to it.
 */
export async function jumpToMessage(id: ChannelId, seq: number): Promise<void> {
  patchUi({ focus: null });
  navigate({ name: "channel", channelId: id });
  if (!chat.get().timelines[id]) await loadNewest(id);
  for (let i = 0; i < JUMP_PAGES; i++) {
    const t = chat.get().timelines[id];
    const first = t?.messages[0];
    if (!t || !first || first.seq <= seq || !t.hasMoreBefore) break;
    // Enough to include the message and a little context above it.
    const limit = Math.min(200, first.seq - seq + 10);
    const page = await api.history(id, { before: first.seq, limit });
    chat.set((c) => ({
      ...c,
      timelines: { ...c.timelines, [id]: prependPage(c.timelines[id], page.messages, page.has_more_before) },
    }));
    ensureUsers(page.messages.map((m) => m.sender_id));
  }
  patchUi({ focus: { channelId: id, seq }, atBottom: false });
}

export async function loadMembers(id: ChannelId): Promise<void> {
  const members = await api.members(id);
  const ids = members.map((m) => m.user_id);
  chat.set((c) => ({ ...c, members: { ...c.members, [id]: ids } }));
  ensureUsers(ids);
  syncPresence(false);
}

let markTimer: ReturnType<typeof setTimeout> | null = null;
/** Marks the active channel read up to its newest message, soon, if the user is reading it. */
export function scheduleMarkRead(): void {
  if (markTimer) return;
  markTimer = setTimeout(() => {
    markTimer = null;
    const id = viewer().readingChannelId;
    if (id === null) return;
    const mc = chat.get().channels[id];
    if (!mc || (mc.last_read_seq >= mc.channel.last_seq && mc.unread_count === 0)) return;
    const seq = mc.channel.last_seq;
    chat.set((c) => {
      const cur = c.channels[id];
      if (!cur) return c;
      return { ...c, channels: { ...c.channels, [id]: { ...cur, last_read_seq: seq, unread_count: 0, mention_count: 0 } } };
    });
    api.markRead(id, seq).catch(() => undefined);
  }, 250);
}

export async function createChannel(name: string, kind: "public" | "private", topic: string): Promise<void> {
  const channel = await api.createChannel({ name, kind, topic });
  await loadChannels();
  navigate({ name: "channel", channelId: channel.id });
}

export async function joinChannel(id: ChannelId): Promise<void> {
  await api.join(id);
  await loadChannels();
  navigate({ name: "channel", channelId: id });
}

export async function leaveChannel(id: ChannelId): Promise<void> {
  await api.leave(id);
  chat.set((c) => {
    const { [id]: _gone, ...channels } = c.channels;
    return { ...c, channels };
  });
  navigate({ name: "home" }, true);
}

export async function openDm(userIds: UserId[]): Promise<void> {
  const channel = await api.openDm(userIds);
  await loadChannels();
  navigate({ name: "channel", channelId: channel.id });
}

// ---------------------------------------------------------------- messages

function newClientMsgId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return "w-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Sends a message; it shows as pending until the server has it, and can be retried. */
export async function sendMessage(
  channelId: ChannelId,
  text: string,
  threadRootId: MessageId | null,
  fileIds: FileId[] = [],
): Promise<void> {
  const clientMsgId = newClientMsgId();
  chat.set((c) => ({
    ...c,
    pending: [...c.pending, { clientMsgId, channelId, threadRootId, text, failed: false, fileIds }],
  }));
  await deliver(clientMsgId);
}

async function deliver(clientMsgId: string): Promise<void> {
  const p = chat.get().pending.find((x) => x.clientMsgId === clientMsgId);
  if (!p) return;
  try {
    const message = await api.send(p.channelId, p.text, clientMsgId, p.threadRootId, p.fileIds ?? []);
    // The stream delivers it too; this covers a stream that is down right now.
    insertSent(message);
  } catch (e) {
    chat.set((c) => ({
      ...c,
      pending: c.pending.map((x) => (x.clientMsgId === clientMsgId ? { ...x, failed: true } : x)),
    }));
    reportError(e);
  }
}

export function retrySend(clientMsgId: string): void {
  chat.set((c) => ({
    ...c,
    pending: c.pending.map((x) => (x.clientMsgId === clientMsgId ? { ...x, failed: false } : x)),
  }));
  deliver(clientMsgId).catch(reportError);
}

export function discardSend(clientMsgId: string): void {
  chat.set((c) => ({ ...c, pending: c.pending.filter((x) => x.clientMsgId !== clientMsgId) }));
}

function insertSent(m: Message): void {
  const result = applyEvent(chat.get(), { type: "message.created", message: m }, viewer());
  chat.set(result.state);
}

export function editMessage(id: MessageId, text: string): Promise<void> {
  return api.edit(id, text).then((m) => {
    chat.set(applyEvent(chat.get(), { type: "message.edited", message: m }, viewer()).state);
  });
}

export function deleteMessage(id: MessageId): Promise<void> {
  return api.remove(id);
}

export function toggleReaction(m: Message, emoji: string): void {
  const me = viewer().meId;
  const mine = m.reactions.some((r) => r.emoji === emoji && r.user_ids.includes(me));
  (mine ? api.unreact(m.id, emoji) : api.react(m.id, emoji)).catch(reportError);
}

export function togglePin(m: Message): void {
  (m.pinned ? api.unpin(m.id) : api.pin(m.id)).catch(reportError);
}

export async function openThread(rootId: MessageId): Promise<void> {
  patchUi({ threadRootId: rootId, panel: null });
  await loadThread(rootId);
}

export async function loadThread(rootId: MessageId): Promise<void> {
  const page = await api.thread(rootId);
  chat.set((c) => ({
    ...c,
    threads: {
      ...c.threads,
      [rootId]: { root: page.root, replies: mergeMessages(c.threads[rootId]?.replies ?? [], page.replies) },
    },
  }));
  ensureUsers([page.root.sender_id, ...page.replies.map((m) => m.sender_id)]);
}

export function closeThread(): void {
  patchUi({ threadRootId: null });
}

const lastTyping = new Map<string, number>();
/** Tells the others the user is typing, at most every 3 seconds per conversation. */
export function sendTyping(channelId: ChannelId, threadRootId: MessageId | null): void {
  const key = `${channelId}:${threadRootId ?? ""}`;
  const now = Date.now();
  if ((lastTyping.get(key) ?? 0) > now - 3000) return;
  lastTyping.set(key, now);
  realtime?.send({ type: "typing", channel_id: channelId, thread_root_id: threadRootId });
}

// ---------------------------------------------------------------- presence

let presenceKey = "";
/** Follows the presence of DM partners and the open channel's members. */
export function syncPresence(force: boolean): void {
  if (!realtime) return;
  const c = chat.get();
  const ids = new Set<UserId>();
  for (const mc of Object.values(c.channels)) for (const u of mc.dm_members) ids.add(u);
  const active = activeChannelId();
  if (active !== null) for (const u of c.members[active] ?? []) ids.add(u);
  const list = [...ids].sort((a, b) => a - b).slice(0, 1000);
  const key = list.join(",");
  if (!force && key === presenceKey) return;
  if (realtime.send({ type: "presence_subscribe", user_ids: list })) presenceKey = key;
}

// ---------------------------------------------------------------- notifications and title

function notify(mc: MyChannel | undefined, m: Message, v: Viewer): void {
  const hidden = typeof document !== "undefined" && document.visibilityState === "hidden";
  const enabled =
    settings.get().notifications && typeof Notification !== "undefined" && Notification.permission === "granted";
  if (!shouldNotify(mc, m, v, { enabled, hidden }) || !mc) return;
  const c = chat.get();
  const sender = c.users[m.sender_id];
  const name = sender?.display_name || sender?.username || "";
  const place = mc.channel.kind === "dm" ? name : `#${channelTitle(mc, c.users, v.meId)}`;
  try {
    const n = new Notification(place, { body: `${name}: ${m.text.slice(0, 200)}`, tag: `concord-${mc.channel.id}` });
    n.onclick = () => {
      window.focus();
      navigate({ name: "channel", channelId: mc.channel.id });
      n.close();
    };
  } catch {
    // Some browsers only allow notifications from a service worker; nothing to show then.
  }
}

/** Keeps the tab title in step with the unread counts and the open place. */
export function watchTitle(): () => void {
  const update = () => {
    const c = chat.get();
    const active = activeChannelId();
    const mc = active !== null ? c.channels[active] : undefined;
    const place = mc ? (mc.channel.kind === "public" || mc.channel.kind === "private" ? "#" : "") + channelTitle(mc, c.users, c.me?.id ?? null) : null;
    document.title = documentTitle(totals(Object.values(c.channels)), place);
  };
  const a = chat.subscribe(update);
  const b = route.subscribe(update);
  update();
  return () => {
    a();
    b();
  };
}

if (typeof document !== "undefined") {
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") scheduleMarkRead();
  });
}
