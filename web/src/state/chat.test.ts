// The chat state's reducers: idempotent message handling, threads, reactions, read state,
// membership, typing; and the unread counting rules.

import { describe, expect, it } from "vitest";
import type { Message, MyChannel } from "../api/types";
import { applyEvent, channelRows, emptyChat, expireTyping, mergeMessages, prependPage, typingUsers, type ChatState } from "./chat";
import { badgeCount, countMessage, documentTitle, markRead, shouldNotify, totals, type Viewer } from "./unread";

const me: Viewer = { meId: 1, username: "alice", readingChannelId: null };

function msg(seq: number, over: Partial<Message> = {}): Message {
  return {
    id: 100 + seq,
    channel_id: 7,
    seq,
    sender_id: 2,
    text: `m${seq}`,
    thread_root_id: null,
    reply_count: 0,
    client_msg_id: null,
    created_at: "2026-11-25T01:00:00Z",
    edited_at: null,
    deleted: false,
    pinned: false,
    reactions: [],
    ...over,
  };
}

function channel(over: Partial<MyChannel> = {}, kind: MyChannel["channel"]["kind"] = "public"): MyChannel {
  return {
    channel: { id: 7, kind, name: "general", topic: "", purpose: "", created_by: 1, created_at: "2026-11-25T00:00:00Z", last_seq: 3 },
    role: "member",
    dm_members: [],
    last_read_seq: 3,
    unread_count: 0,
    mention_count: 0,
    ...over,
  };
}

function state(): ChatState {
  return {
    ...emptyChat(),
    channels: { 7: channel() },
    timelines: { 7: { messages: [msg(1), msg(2), msg(3)], hasMoreBefore: false, hasMoreAfter: false } },
  };
}

describe("chat reducers", () => {
  it("adds a new message once, counting it once", () => {
    const m = msg(4, { text: "hey @alice" });
    const once = applyEvent(state(), { type: "message.created", message: m }, me).state;
    const twice = applyEvent(once, { type: "message.created", message: m }, me).state;
    expect(twice.timelines[7]!.messages.map((x) => x.seq)).toEqual([1, 2, 3, 4]);
    expect(twice.channels[7]!.unread_count).toBe(1);
    expect(twice.channels[7]!.mention_count).toBe(1);
    expect(twice.channels[7]!.channel.last_seq).toBe(4);
  });

  it("does not count the viewer's own messages, nor the channel being read", () => {
    const own = applyEvent(state(), { type: "message.created", message: msg(4, { sender_id: 1 }) }, me).state;
    expect(own.channels[7]!.unread_count).toBe(0);
    const reading = applyEvent(state(), { type: "message.created", message: msg(4) }, { ...me, readingChannelId: 7 }).state;
    expect(reading.channels[7]!.unread_count).toBe(0);
    expect(reading.channels[7]!.channel.last_seq).toBe(4);
  });

  it("replaces the pending copy of a sent message", () => {
    const s = { ...state(), pending: [{ clientMsgId: "w-1", channelId: 7, threadRootId: null, text: "hi", failed: false }] };
    const next = applyEvent(s, { type: "message.created", message: msg(4, { sender_id: 1, client_msg_id: "w-1" }) }, me).state;
    expect(next.pending).toEqual([]);
  });

  it("keeps thread replies out of the channel list and counts them on the root once", () => {
    let s = state();
    s = { ...s, threads: { 101: { root: msg(1), replies: [] } } };
    const reply = msg(4, { thread_root_id: 101 });
    s = applyEvent(s, { type: "message.created", message: reply }, me).state;
    s = applyEvent(s, { type: "message.created", message: reply }, me).state;
    expect(s.threads[101]!.replies.map((r) => r.id)).toEqual([104]);
    expect(s.threads[101]!.root.reply_count).toBe(1);
    expect(s.timelines[7]!.messages.find((m) => m.id === 101)!.reply_count).toBe(1);
    expect(channelRows(s.timelines[7]).map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it("applies edits, deletes, reactions and pins everywhere the message shows", () => {
    let s: ChatState = { ...state(), threads: { 101: { root: msg(1), replies: [] } } };
    s = applyEvent(s, { type: "message.edited", message: msg(1, { text: "new", edited_at: "2026-11-25T02:00:00Z" }) }, me).state;
    expect(s.timelines[7]!.messages[0]!.text).toBe("new");
    expect(s.threads[101]!.root.text).toBe("new");
    s = applyEvent(s, { type: "reaction.added", channel_id: 7, message_id: 101, user_id: 2, emoji: "👍" }, me).state;
    s = applyEvent(s, { type: "reaction.added", channel_id: 7, message_id: 101, user_id: 2, emoji: "👍" }, me).state;
    s = applyEvent(s, { type: "reaction.added", channel_id: 7, message_id: 101, user_id: 3, emoji: "👍" }, me).state;
    expect(s.timelines[7]!.messages[0]!.reactions).toEqual([{ emoji: "👍", user_ids: [2, 3] }]);
    s = applyEvent(s, { type: "reaction.removed", channel_id: 7, message_id: 101, user_id: 2, emoji: "👍" }, me).state;
    s = applyEvent(s, { type: "reaction.removed", channel_id: 7, message_id: 101, user_id: 3, emoji: "👍" }, me).state;
    expect(s.threads[101]!.root.reactions).toEqual([]);
    s = applyEvent(s, { type: "message.pinned", channel_id: 7, message_id: 102, user_id: 1 }, me).state;
    expect(s.timelines[7]!.messages[1]!.pinned).toBe(true);
    s = applyEvent(s, { type: "message.deleted", channel_id: 7, message_id: 103, seq: 3 }, me).state;
    expect(s.timelines[7]!.messages[2]).toMatchObject({ deleted: true, text: "" });
  });

  it("drops messages retention pruned from the timeline and from open threads", () => {
    let s: ChatState = {
      ...state(),
      threads: { 101: { root: msg(1), replies: [msg(2, { thread_root_id: 101 })] }, 103: { root: msg(3), replies: [] } },
    };
    s = applyEvent(s, { type: "messages.pruned", channel_id: 7, message_ids: [101, 102] }, me).state;
    expect(s.timelines[7]!.messages.map((m) => m.seq)).toEqual([3]);
    expect(Object.keys(s.threads)).toEqual(["103"]);
    const same = applyEvent(s, { type: "messages.pruned", channel_id: 7, message_ids: [999] }, me).state;
    expect(same).toBe(s);
  });

  it("moves the read marker and asks for exact counts when it moved backwards", () => {
    const s = { ...state(), channels: { 7: channel({ last_read_seq: 1, unread_count: 2, mention_count: 1 }) } };
    const all = applyEvent(s, { type: "channel.read", channel_id: 7, user_id: 1, last_read_seq: 3 }, me);
    expect(all.state.channels[7]).toMatchObject({ last_read_seq: 3, unread_count: 0, mention_count: 0 });
    expect(all.refetchChannels).toBe(false);
    const part = applyEvent(s, { type: "channel.read", channel_id: 7, user_id: 1, last_read_seq: 2 }, me);
    expect(part.refetchChannels).toBe(true);
    const other = applyEvent(s, { type: "channel.read", channel_id: 7, user_id: 2, last_read_seq: 3 }, me);
    expect(other.state).toBe(s);
  });

  it("adds channels the viewer is in, and drops one the viewer left", () => {
    const created = {
      type: "channel.created" as const,
      channel: { ...channel().channel, id: 9, kind: "dm" as const, name: "" },
      member_ids: [1, 2],
    };
    let s = applyEvent(emptyChat(), created, me).state;
    expect(s.channels[9]).toMatchObject({ dm_members: [1, 2], unread_count: 0, role: "admin" });
    expect(applyEvent(emptyChat(), { ...created, member_ids: [2, 3] }, me).state.channels[9]).toBeUndefined();
    s = applyEvent(s, { type: "member.left", channel_id: 9, user_id: 1, actor_id: 1 }, me).state;
    expect(s.channels[9]).toBeUndefined();
    const joined = applyEvent(emptyChat(), { type: "member.joined", channel_id: 4, user_id: 1, actor_id: 2 }, me);
    expect(joined.refetchChannels).toBe(true);
  });

  it("shows typing until it expires or the message arrives", () => {
    let s = applyEvent(state(), { type: "typing", channel_id: 7, user_id: 2, thread_root_id: null }, me, 1000).state;
    expect(typingUsers(s.typing[7], null, 2000)).toEqual([2]);
    expect(typingUsers(s.typing[7], 101, 2000)).toEqual([]);
    expect(typingUsers(expireTyping(s, 8000).typing[7], null, 8000)).toEqual([]);
    s = applyEvent(s, { type: "message.created", message: msg(4) }, me, 1500).state;
    expect(typingUsers(s.typing[7], null, 2000)).toEqual([]);
    // The viewer's own typing is not shown.
    expect(applyEvent(state(), { type: "typing", channel_id: 7, user_id: 1, thread_root_id: null }, me).state.typing).toEqual({});
  });

  it("merges pages by sequence number", () => {
    expect(mergeMessages([msg(3), msg(4)], [msg(1), msg(2), msg(3, { text: "v2" })]).map((m) => [m.seq, m.text])).toEqual([
      [1, "m1"],
      [2, "m2"],
      [3, "v2"],
      [4, "m4"],
    ]);
    const t = prependPage({ messages: [msg(5)], hasMoreBefore: true, hasMoreAfter: false }, [msg(3), msg(4)], false);
    expect(t.messages.map((m) => m.seq)).toEqual([3, 4, 5]);
    expect(t.hasMoreBefore).toBe(false);
  });
});

describe("unread counting", () => {
  it("counts mentions of the viewer and broadcasts", () => {
    const c = channel();
    expect(countMessage(c, msg(4, { text: "@ALICE look" }), me)).toMatchObject({ unread_count: 1, mention_count: 1 });
    expect(countMessage(c, msg(4, { text: "@here" }), me).mention_count).toBe(1);
    expect(countMessage(c, msg(4, { text: "mail alice@example.com" }), me).mention_count).toBe(0);
    expect(countMessage(c, msg(3), me).unread_count).toBe(0);
  });

  it("badges DMs by unread and channels by mentions; totals and title", () => {
    const dm = channel({ unread_count: 2, mention_count: 0 }, "dm");
    const ch = channel({ unread_count: 5, mention_count: 1 });
    expect(badgeCount(dm)).toBe(2);
    expect(badgeCount(ch)).toBe(1);
    const t = totals([dm, ch]);
    expect(t).toEqual({ unread: 7, mentions: 3, channelsWithUnread: 2 });
    expect(documentTitle(t, "#general")).toBe("(3) #general · Concord");
    expect(documentTitle(totals([channel({ unread_count: 4 })]), null)).toBe("(4) Concord");
    expect(documentTitle(totals([]), "#x")).toBe("#x · Concord");
    expect(documentTitle({ unread: 0, mentions: 150, channelsWithUnread: 1 }, null)).toBe("(99+) Concord");
  });

  it("marks read", () => {
    expect(markRead(channel({ last_read_seq: 0, unread_count: 3 }), 3)).toEqual({
      channel: channel({ last_read_seq: 3, unread_count: 0, mention_count: 0 }),
      needsRefetch: false,
    });
  });

  it("notifies for DMs and mentions only while the tab is hidden", () => {
    const on = { enabled: true, hidden: true };
    expect(shouldNotify(channel({}, "dm"), msg(4), me, on)).toBe(true);
    expect(shouldNotify(channel(), msg(4), me, on)).toBe(false);
    expect(shouldNotify(channel(), msg(4, { text: "@alice" }), me, on)).toBe(true);
    expect(shouldNotify(channel(), msg(4, { text: "@alice" }), me, { enabled: true, hidden: false })).toBe(false);
    expect(shouldNotify(channel(), msg(4, { text: "@alice" }), me, { enabled: false, hidden: true })).toBe(false);
    expect(shouldNotify(channel({}, "dm"), msg(4, { sender_id: 1 }), me, on)).toBe(false);
  });
});
