// @mentions: finding them in text (the same rule as the server's concord-core mentions.rs) and
// the composer's autocomplete (which token is being typed, which members match, inserting one).

import type { User } from "../api/types";

export interface Mentions {
  usernames: string[];
  channel: boolean;
  here: boolean;
}

const NAME_CHAR = /[A-Za-z0-9._-]/;
const WORD_BEFORE = /[A-Za-z0-9_]/;
export const BROADCASTS = ["channel", "here", "all"] as const;

/** `@name` where the `@` does not follow a Latin letter or digit, like the server. */
export function parseMentions(text: string): Mentions {
  const out: Mentions = { usernames: [], channel: false, here: false };
  const chars = Array.from(text);
  let i = 0;
  while (i < chars.length) {
    const prev = i > 0 ? chars[i - 1]! : "";
    if (chars[i] === "@" && !(prev && WORD_BEFORE.test(prev))) {
      const start = i + 1;
      let end = start;
      while (end < chars.length && NAME_CHAR.test(chars[end]!)) end++;
      while (end > start && (chars[end - 1] === "." || chars[end - 1] === "-")) end--;
      if (end > start) {
        const name = chars.slice(start, end).join("").toLowerCase();
        if (name === "channel" || name === "all" || name === "everyone") out.channel = true;
        else if (name === "here") out.here = true;
        else if (!out.usernames.includes(name)) out.usernames.push(name);
      }
      i = Math.max(end, start);
    } else {
      i++;
    }
  }
  return out;
}

/** Whether a message mentions `username` personally or the whole channel. */
export function mentionsUser(text: string, username: string): boolean {
  const m = parseMentions(text);
  return m.channel || m.here || m.usernames.includes(username.toLowerCase());
}

export interface MentionQuery {
  /** Index of the `@` in the text. */
  start: number;
  /** What follows the `@` up to the caret. */
  query: string;
}

/** The `@query` being typed just before the caret, if any. */
export function mentionQueryAt(text: string, caret: number): MentionQuery | null {
  let i = caret;
  while (i > 0 && NAME_CHAR.test(text[i - 1]!)) i--;
  if (i === 0 || text[i - 1] !== "@") return null;
  const at = i - 1;
  const before = at > 0 ? text[at - 1]! : "";
  if (before && WORD_BEFORE.test(before)) return null;
  const query = text.slice(i, caret);
  if (query.length > 32) return null;
  return { start: at, query };
}

export type MentionCandidate =
  | { kind: "user"; user: User }
  | { kind: "broadcast"; name: (typeof BROADCASTS)[number] };

function rank(user: User, q: string): number {
  const username = user.username.toLowerCase();
  const display = user.display_name.toLowerCase();
  if (!q) return 3;
  if (username === q) return 0;
  if (username.startsWith(q)) return 1;
  if (display.startsWith(q) || display.split(/\s+/).some((w) => w.startsWith(q))) return 2;
  if (username.includes(q) || display.includes(q)) return 4;
  return -1;
}

/**
 * Members matching `query`, best first: exact username, username prefix, display-name (word)
 * prefix, then substring; ties by username. `@channel`/`@here`/`@all` are offered when they
 * match. The current user is left out.
 */
export function matchMentions(members: User[], query: string, meId: number | null, limit = 8): MentionCandidate[] {
  const q = query.toLowerCase();
  const scored: { user: User; score: number }[] = [];
  for (const user of members) {
    if (user.id === meId) continue;
    const score = rank(user, q);
    if (score >= 0) scored.push({ user, score });
  }
  scored.sort((a, b) => a.score - b.score || a.user.username.localeCompare(b.user.username));
  const out: MentionCandidate[] = scored.slice(0, limit).map((s) => ({ kind: "user", user: s.user }));
  for (const name of BROADCASTS) {
    if (out.length >= limit + BROADCASTS.length) break;
    if (q && name.startsWith(q)) out.push({ kind: "broadcast", name });
  }
  return out;
}

/** Replaces the `@query` at `q` (ending at `caret`) with `@name `; returns the text and caret. */
export function insertMention(text: string, q: MentionQuery, caret: number, name: string): { text: string; caret: number } {
  const insert = `@${name} `;
  const after = text.slice(caret).replace(/^\s/, "");
  const next = text.slice(0, q.start) + insert + after;
  return { text: next, caret: q.start + insert.length };
}
