// Turns a channel's messages into the rows of its list: day separators, the "new messages"
// line, and messages grouped under one header when the same person writes again shortly.

import type { Message } from "../api/types";
import { dayKey } from "../i18n/time";
import type { PendingMessage } from "../state/chat";

export type Row =
  | { kind: "intro"; key: string }
  | { kind: "loading"; key: string }
  | { kind: "day"; key: string; at: string }
  | { kind: "unread"; key: string }
  | { kind: "message"; key: string; message: Message; compact: boolean }
  | { kind: "pending"; key: string; pending: PendingMessage };

const GROUP_MS = 5 * 60 * 1000;

export function buildRows(
  messages: readonly Message[],
  opts: {
    timeZone: string;
    hasMoreBefore: boolean;
    /** Messages with seq above this and from others are new (null: no line). */
    lastReadSeq: number | null;
    meId: number;
    pending: readonly PendingMessage[];
  },
): Row[] {
  const rows: Row[] = [opts.hasMoreBefore ? { kind: "loading", key: "loading" } : { kind: "intro", key: "intro" }];
  let lastDay = "";
  let prev: Message | null = null;
  let unreadPlaced = false;
  for (const m of messages) {
    const day = dayKey(m.created_at, opts.timeZone);
    let breakGroup = false;
    if (day !== lastDay) {
      rows.push({ kind: "day", key: `day-${day}`, at: m.created_at });
      lastDay = day;
      breakGroup = true;
    }
    if (!unreadPlaced && opts.lastReadSeq !== null && m.seq > opts.lastReadSeq && m.sender_id !== opts.meId) {
      rows.push({ kind: "unread", key: "unread" });
      unreadPlaced = true;
      breakGroup = true;
    }
    const compact =
      !breakGroup &&
      prev !== null &&
      prev.sender_id === m.sender_id &&
      !prev.deleted &&
      new Date(m.created_at).getTime() - new Date(prev.created_at).getTime() < GROUP_MS;
    rows.push({ kind: "message", key: `m-${m.id}`, message: m, compact });
    prev = m;
  }
  for (const p of opts.pending) rows.push({ kind: "pending", key: `p-${p.clientMsgId}`, pending: p });
  return rows;
}
