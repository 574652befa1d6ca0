// Unread and mention counting as pure functions: how a new message or a read marker changes a
// channel's counts, the totals for the sidebar and the tab title, and when to notify.

import type { Message, MyChannel } from "../api/types";
import { mentionsUser } from "./mentions";

export interface Viewer {
  meId: number;
  username: string;
  /** The channel the user is looking at right now, scrolled to the newest message. */
  readingChannelId: number | null;
}

/** The channel's counts after `message` arrived (the server counts messages from others). */
export function countMessage(mc: MyChannel, message: Message, viewer: Viewer): MyChannel {
  const channel =
    message.seq > mc.channel.last_seq ? { ...mc.channel, last_seq: message.seq } : mc.channel;
  if (message.sender_id === viewer.meId || message.deleted || message.seq <= mc.last_read_seq) {
    return { ...mc, channel };
  }
  if (viewer.readingChannelId === mc.channel.id) {
    return { ...mc, channel };
  }
  const mentioned = mentionsUser(message.text, viewer.username);
  return {
    ...mc,
    channel,
    unread_count: mc.unread_count + 1,
    mention_count: mc.mention_count + (mentioned ? 1 : 0),
  };
}

/**
 * The counts after the read marker moved to `seq`. When it reaches the newest message both
 * counts are zero; otherwise the exact count needs the server (`needsRefetch`).
 */
export function markRead(mc: MyChannel, seq: number): { channel: MyChannel; needsRefetch: boolean } {
  if (seq >= mc.channel.last_seq) {
    return { channel: { ...mc, last_read_seq: seq, unread_count: 0, mention_count: 0 }, needsRefetch: false };
  }
  return { channel: { ...mc, last_read_seq: seq }, needsRefetch: seq !== mc.last_read_seq };
}

export function isDirect(mc: MyChannel): boolean {
  return mc.channel.kind === "dm" || mc.channel.kind === "group_dm";
}

/**
 * The number a badge shows: mentions in channels, every unread message in DMs (a DM is
 * addressed to you). Zero means no badge; the name is then bold only if `unread_count > 0`.
 */
export function badgeCount(mc: MyChannel): number {
  return isDirect(mc) ? mc.unread_count : mc.mention_count;
}

export interface Totals {
  unread: number;
  mentions: number;
  channelsWithUnread: number;
}

export function totals(channels: Iterable<MyChannel>): Totals {
  const t: Totals = { unread: 0, mentions: 0, channelsWithUnread: 0 };
  for (const mc of channels) {
    t.unread += mc.unread_count;
    t.mentions += badgeCount(mc);
    if (mc.unread_count > 0) t.channelsWithUnread += 1;
  }
  return t;
}

/** The tab title: `(3) #general · Concord`, the count being mentions + DMs, else unread. */
export function documentTitle(t: Totals, place: string | null, app = "Concord"): string {
  const count = t.mentions > 0 ? t.mentions : t.unread;
  const prefix = count > 0 ? `(${count > 99 ? "99+" : count}) ` : "";
  return prefix + (place ? `${place} · ${app}` : app);
}

/** Whether a live message deserves a browser notification. */
export function shouldNotify(
  mc: MyChannel | undefined,
  message: Message,
  viewer: Viewer,
  opts: { enabled: boolean; hidden: boolean },
): boolean {
  if (!opts.enabled || !opts.hidden || !mc) return false;
  if (message.sender_id === viewer.meId || message.deleted) return false;
  return isDirect(mc) || mentionsUser(message.text, viewer.username);
}
