// The resume logic of the event stream as pure functions: what to do with each server frame
// given the last log position applied, how long to wait before reconnecting, and which URL
// to reconnect to. The socket wrapper (socket.ts) only wires these to a WebSocket.
//
// The protocol: connecting with `since=P0` replays the durable events in (P0, P] the user may
// see, then sends `hello` with P, then streams live events after P. Every durable event has a
// position; applying only events past the last applied position makes replay + live free of
// duplicates, and giving that position back on every reconnect makes it free of gaps.

import type { ChatEvent, Position, ServerFrame } from "../api/types";

export interface CursorState {
  /** The last durable position applied, or null before the first hello. */
  position: Position | null;
}

export type FrameAction =
  /** A durable event past the cursor: apply it. */
  | { kind: "apply"; event: ChatEvent; position: Position }
  /** A durable event at or before the cursor: already applied (replay overlap), drop it. */
  | { kind: "duplicate"; position: Position }
  /** Typing or presence: apply, nothing to remember. */
  | { kind: "ephemeral"; event: ChatEvent }
  /** The stream is live. `fresh` is true on the first connection (load state over REST). */
  | { kind: "hello"; position: Position; replayed: number; fresh: boolean }
  /** The client was away longer than the log keeps: refetch over REST, then go on. */
  | { kind: "resync"; position: Position }
  | { kind: "other"; frame: ServerFrame };

export function initialCursor(): CursorState {
  return { position: null };
}

/** Decides what a frame means and moves the cursor. Never mutates `state`. */
export function onFrame(state: CursorState, frame: ServerFrame): { state: CursorState; action: FrameAction } {
  switch (frame.type) {
    case "event": {
      if (frame.position === null) return { state, action: { kind: "ephemeral", event: frame.event } };
      if (state.position !== null && frame.position <= state.position) {
        return { state, action: { kind: "duplicate", position: frame.position } };
      }
      return {
        state: { position: frame.position },
        action: { kind: "apply", event: frame.event, position: frame.position },
      };
    }
    case "hello": {
      const fresh = state.position === null;
      // Everything visible up to `position` was replayed before hello, so the cursor may move
      // there even when nothing visible happened in between.
      const position = fresh ? frame.position : Math.max(state.position ?? 0, frame.position);
      return {
        state: { position },
        action: { kind: "hello", position, replayed: frame.replayed, fresh },
      };
    }
    case "resync_required":
      return { state: { position: frame.position }, action: { kind: "resync", position: frame.position } };
    default:
      return { state, action: { kind: "other", frame } };
  }
}

export interface BackoffOptions {
  /** Delay of the first retry, in ms. */
  baseMs: number;
  /** Ceiling of the exponential part, in ms. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * The wait before reconnect attempt `attempt` (0-based): exponential with "equal jitter", so
 * a server restart does not see every client come back in the same millisecond, yet no client
 * waits less than half the exponential step.
 */
export function backoffDelay(attempt: number, random: () => number = Math.random, opts = DEFAULT_BACKOFF): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(exp / 2 + (r * exp) / 2);
}

/** The WebSocket URL for a page served from `origin` (http(s)://host[:port]). */
export function socketUrl(origin: string, token: string, since: Position | null): string {
  const url = new URL("/api/v1/ws", origin);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("token", token);
  if (since !== null) url.searchParams.set("since", String(since));
  return url.toString();
}
