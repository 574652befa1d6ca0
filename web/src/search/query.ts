// Message search: the filters the results page edits, and the `GET /search` parameters for them
// (blanks left out, the date range read as whole days in the viewer's zone).

import type { SearchHit, SearchKind, SearchParams, SearchSort } from "../api/types";
import { zonedToUtc } from "../state/org";

export interface SearchFilters {
  q: string;
  /** A channel id, or null for every readable channel. */
  channelId: number | null;
  senderId: number | null;
  /** `date` input values (`2026-11-25`), days in the viewer's zone; empty for no bound. */
  fromDay: string;
  /** The last day included (the query's `to` is the start of the next day). */
  toDay: string;
  inThread: boolean;
  mentionsMe: boolean;
  hasFile: boolean;
  /** Messages, files (names and the text of text files and PDFs) or both. */
  kind: SearchKind;
  sort: SearchSort;
}

export const EMPTY_SEARCH: SearchFilters = {
  q: "",
  channelId: null,
  senderId: null,
  fromDay: "",
  toDay: "",
  inThread: false,
  mentionsMe: false,
  hasFile: false,
  kind: "all",
  sort: "relevance",
};

export const SEARCH_PAGE = 20;

/** `2026-11-25` → the day after, `2026-11-26` (calendar arithmetic, no zone); null if malformed. */
export function nextDay(day: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return null;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]! + 1));
  return d.toISOString().slice(0, 10);
}

/** The start of `day` (`YYYY-MM-DD`) in `timeZone`, as UTC RFC 3339; null if malformed. */
export function dayStart(day: string, timeZone: string): string | null {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? zonedToUtc(`${day}T00:00`, timeZone) : null;
}

/** True when the filters ask for something (a query, or at least one narrowing filter). */
export function hasCriteria(f: SearchFilters): boolean {
  return (
    f.q.trim() !== "" ||
    f.channelId !== null ||
    f.senderId !== null ||
    f.fromDay !== "" ||
    f.toDay !== "" ||
    f.inThread ||
    f.mentionsMe ||
    f.hasFile
  );
}

/** The search parameters for the filters and page. */
export function searchParams(f: SearchFilters, timeZone: string, offset = 0, limit = SEARCH_PAGE): SearchParams {
  const p: SearchParams = {};
  const q = f.q.trim();
  if (q) p.q = q;
  if (f.channelId !== null) p.channel_id = f.channelId;
  if (f.senderId !== null) p.sender_id = f.senderId;
  const from = f.fromDay ? dayStart(f.fromDay, timeZone) : null;
  if (from) p.from = from;
  const after = f.toDay ? nextDay(f.toDay) : null;
  const to = after ? dayStart(after, timeZone) : null;
  if (to) p.to = to;
  if (f.hasFile) p.has_file = "true";
  if (f.inThread) p.in_thread = "true";
  if (f.mentionsMe) p.mentions_me = "true";
  // The server returns only messages unless asked.
  if (f.kind !== "message") p.kind = f.kind;
  if (f.sort !== "relevance") p.sort = f.sort;
  if (offset > 0) p.offset = offset;
  p.limit = limit;
  return p;
}

/** Whether a hit is a file (servers that predate file search send only messages). */
export function isFileHit(h: SearchHit): boolean {
  return h.kind === "file" && h.file !== undefined;
}

/** A key unique across message and file hits (their ids come from different sequences). */
export function hitKey(h: SearchHit): string {
  return isFileHit(h) ? `file-${h.file_id}` : `message-${h.message_id}`;
}
