// The virtual list's arithmetic (10,000 rows) and the rows built from a channel's messages.

import { describe, expect, it } from "vitest";
import type { Message } from "../api/types";
import { buildRows } from "./rows";
import { computeOffsets, rowAt, visibleRange } from "./virtual";

describe("virtual list arithmetic", () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `k${i}`);

  it("renders only the rows near the viewport of 10,000", () => {
    const offsets = computeOffsets(keys, new Map(), 50);
    expect(offsets[10_000]).toBe(500_000);
    const { start, end } = visibleRange(offsets, 250_000, 800, 400);
    expect(start).toBe(4992);
    expect(end).toBe(5025);
    expect(end - start).toBeLessThan(40);
    expect(visibleRange(offsets, 0, 800, 400)).toEqual({ start: 0, end: 25 });
    expect(visibleRange(offsets, 499_200, 800, 400)).toEqual({ start: 9976, end: 10_000 });
  });

  it("uses measured heights where known", () => {
    const heights = new Map([
      ["k0", 100],
      ["k2", 10],
    ]);
    const offsets = computeOffsets(keys.slice(0, 4), heights, 50);
    expect([...offsets]).toEqual([0, 100, 150, 160, 210]);
    expect(rowAt(offsets, 0)).toBe(0);
    expect(rowAt(offsets, 99)).toBe(0);
    expect(rowAt(offsets, 100)).toBe(1);
    expect(rowAt(offsets, 155)).toBe(2);
    expect(rowAt(offsets, 5000)).toBe(3);
  });

  it("computes 10,000 offsets quickly", () => {
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) computeOffsets(keys, new Map(), 50);
    expect((performance.now() - t0) / 100).toBeLessThan(5);
  });

  it("handles an empty list", () => {
    expect(visibleRange(computeOffsets([], new Map(), 50), 0, 800, 400)).toEqual({ start: 0, end: 0 });
  });
});

const m = (seq: number, sender: number, at: string, over: Partial<Message> = {}): Message => ({
  id: seq,
  channel_id: 1,
  seq,
  sender_id: sender,
  text: `m${seq}`,
  thread_root_id: null,
  reply_count: 0,
  client_msg_id: null,
  created_at: at,
  edited_at: null,
  deleted: false,
  pinned: false,
  reactions: [],
  ...over,
});

describe("rows", () => {
  it("adds day separators in the zone, the new-messages line, and groups runs", () => {
    const messages = [
      m(1, 2, "2026-11-24T15:00:00Z"), // 23:00 on the 24th in Shanghai
      m(2, 2, "2026-11-24T15:01:00Z"),
      m(3, 2, "2026-11-24T16:30:00Z"), // 00:30 on the 25th
      m(4, 3, "2026-11-24T16:31:00Z"),
      m(5, 3, "2026-11-24T16:32:00Z"),
      m(6, 3, "2026-11-24T16:50:00Z"),
    ];
    const rows = buildRows(messages, { timeZone: "Asia/Shanghai", hasMoreBefore: false, lastReadSeq: 4, meId: 1, pending: [] });
    expect(rows.map((r) => (r.kind === "message" ? `${r.message.seq}${r.compact ? "c" : ""}` : r.kind))).toEqual([
      "intro",
      "day",
      "1",
      "2c",
      "day",
      "3",
      "4",
      "unread",
      "5",
      "6",
    ]);
    const shanghai = rows.filter((r) => r.kind === "day").map((r) => r.key);
    expect(shanghai).toEqual(["day-2026-11-24", "day-2026-11-25"]);
    const utc = buildRows(messages, { timeZone: "UTC", hasMoreBefore: true, lastReadSeq: null, meId: 1, pending: [] });
    expect(utc[0]!.kind).toBe("loading");
    expect(utc.filter((r) => r.kind === "day").length).toBe(1);
    expect(utc.some((r) => r.kind === "unread")).toBe(false);
  });

  it("puts pending messages last", () => {
    const rows = buildRows([m(1, 1, "2026-11-24T15:00:00Z")], {
      timeZone: "UTC",
      hasMoreBefore: false,
      lastReadSeq: 0,
      meId: 1,
      pending: [{ clientMsgId: "w-1", channelId: 1, threadRootId: null, text: "x", failed: false }],
    });
    expect(rows.map((r) => r.kind)).toEqual(["intro", "day", "message", "pending"]);
  });
});
