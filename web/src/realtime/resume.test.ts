// The resume logic: dedupe by position across replay and live, hello, resync, backoff, URLs.

import { describe, expect, it } from "vitest";
import type { ChatEvent, ServerFrame } from "../api/types";
import { backoffDelay, initialCursor, onFrame, socketUrl, type CursorState, type FrameAction } from "./resume";

const typing: ChatEvent = { type: "typing", channel_id: 1, user_id: 2, thread_root_id: null };
const read = (seq: number): ChatEvent => ({ type: "channel.read", channel_id: 1, user_id: 2, last_read_seq: seq });
const ev = (position: number): ServerFrame => ({ type: "event", position, at: "2026-11-25T01:02:03Z", event: read(position) });
const hello = (position: number, replayed = 0): ServerFrame => ({ type: "hello", user_id: 2, position, replayed });

/** Feeds frames through the cursor; returns the positions applied and the last state. */
function feed(state: CursorState, frames: ServerFrame[]): { state: CursorState; applied: number[]; actions: FrameAction[] } {
  const applied: number[] = [];
  const actions: FrameAction[] = [];
  for (const f of frames) {
    const r = onFrame(state, f);
    state = r.state;
    actions.push(r.action);
    if (r.action.kind === "apply") applied.push(r.action.position);
  }
  return { state, applied, actions };
}

describe("resume", () => {
  it("the first hello is fresh and sets the cursor", () => {
    const r = onFrame(initialCursor(), hello(40));
    expect(r.action).toEqual({ kind: "hello", position: 40, replayed: 0, fresh: true });
    expect(r.state.position).toBe(40);
  });

  it("applies each durable event once across a reconnect's replay and live stream", () => {
    // First connection: live events 41..43, then the socket drops.
    let s = feed(initialCursor(), [hello(40), ev(41), ev(42), ev(43)]);
    expect(s.applied).toEqual([41, 42, 43]);
    expect(s.state.position).toBe(43);
    // The reconnect asks since=43; a server that overlaps (replays 42, 43 again) and then
    // streams live events that were also in the replay must not produce duplicates.
    s = feed(s.state, [ev(42), ev(43), ev(44), ev(45), hello(45, 2), ev(45), ev(46)]);
    expect(s.applied).toEqual([44, 45, 46]);
    expect(s.actions.filter((a) => a.kind === "duplicate").length).toBe(3);
    expect(s.actions.find((a) => a.kind === "hello")).toEqual({ kind: "hello", position: 45, replayed: 2, fresh: false });
  });

  it("moves the cursor to hello's position when nothing visible was replayed", () => {
    const s = feed({ position: 10 }, [hello(25)]);
    expect(s.state.position).toBe(25);
    // and never backwards
    expect(feed({ position: 30 }, [hello(25)]).state.position).toBe(30);
  });

  it("passes ephemeral events through without touching the cursor", () => {
    const r = onFrame({ position: 5 }, { type: "event", position: null, at: null, event: typing });
    expect(r.action).toEqual({ kind: "ephemeral", event: typing });
    expect(r.state.position).toBe(5);
  });

  it("resync_required asks for a refetch and continues from its position", () => {
    const r = onFrame({ position: 5 }, { type: "resync_required", position: 900 });
    expect(r.action).toEqual({ kind: "resync", position: 900 });
    const after = feed(r.state, [hello(900), ev(900), ev(901)]);
    expect(after.applied).toEqual([901]);
  });

  it("leaves other frames alone", () => {
    const r = onFrame({ position: 5 }, { type: "pong" });
    expect(r.action.kind).toBe("other");
    expect(r.state).toEqual({ position: 5 });
  });

  it("backs off exponentially with jitter, capped", () => {
    const lo = () => 0;
    const hi = () => 1;
    expect(backoffDelay(0, lo)).toBe(250);
    expect(backoffDelay(0, hi)).toBe(500);
    expect(backoffDelay(3, lo)).toBe(2000);
    expect(backoffDelay(3, hi)).toBe(4000);
    expect(backoffDelay(20, hi)).toBe(30_000);
    expect(backoffDelay(20, lo)).toBe(15_000);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(4);
      expect(d).toBeGreaterThanOrEqual(4000);
      expect(d).toBeLessThanOrEqual(8000);
    }
  });

  it("builds the socket URL with the token and the resume position", () => {
    expect(socketUrl("http://chat.example:8080", "t0k", null)).toBe("ws://chat.example:8080/api/v1/ws?token=t0k");
    expect(socketUrl("https://chat.example", "a b", 42)).toBe("wss://chat.example/api/v1/ws?token=a+b&since=42");
  });
});
