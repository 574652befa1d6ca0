// The live connection: opens the WebSocket, feeds frames through the resume logic, reconnects
// with backoff (at once when the browser says it is back online), and keeps the connection
// warm with pings.

import type { ClientFrame, ServerFrame } from "../api/types";
import { backoffDelay, initialCursor, onFrame, socketUrl, type CursorState, type FrameAction } from "./resume";

export type ConnectionStatus = "connecting" | "online" | "offline";

export interface RealtimeOptions {
  origin: string;
  getToken: () => string | null;
  onAction: (action: FrameAction) => void;
  onStatus: (status: ConnectionStatus) => void;
  /** Called after a connection attempt failed before opening (the session may have ended). */
  onConnectFailed?: () => void;
  /** Frames to send on every (re)connection once hello arrived, e.g. presence_subscribe. */
  onLive?: () => void;
}

const PING_MS = 25_000;

export class Realtime {
  private ws: WebSocket | null = null;
  private cursor: CursorState = initialCursor();
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private stopped = true;
  private live = false;

  constructor(private readonly opts: RealtimeOptions) {}

  /** The last durable position applied (what a reconnect resumes from). */
  get position(): number | null {
    return this.cursor.position;
  }

  get isLive(): boolean {
    return this.live;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.onOnline);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    this.live = false;
    if (ws) ws.close(1000, "bye");
  }

  /** Sends a frame if the stream is live; typing and presence are best-effort anyway. */
  send(frame: ClientFrame): boolean {
    if (!this.ws || !this.live) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  private readonly onOnline = () => {
    if (this.stopped || this.ws) return;
    this.attempt = 0;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connect();
  };

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
  }

  private connect(): void {
    const token = this.opts.getToken();
    if (!token || this.stopped) return;
    this.opts.onStatus("connecting");
    const ws = new WebSocket(socketUrl(this.opts.origin, token, this.cursor.position));
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (e: MessageEvent) => {
      if (this.ws !== ws || typeof e.data !== "string") return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(e.data) as ServerFrame;
      } catch {
        return;
      }
      const { state, action } = onFrame(this.cursor, frame);
      this.cursor = state;
      if (action.kind === "hello") {
        this.live = true;
        this.attempt = 0;
        this.opts.onStatus("online");
        this.startPing(ws);
      }
      this.opts.onAction(action);
      if (action.kind === "hello") this.opts.onLive?.();
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.live = false;
      if (this.pingTimer) clearInterval(this.pingTimer);
      this.pingTimer = null;
      if (this.stopped) return;
      this.opts.onStatus("offline");
      if (!opened) this.opts.onConnectFailed?.();
      this.scheduleRetry();
    };
  }

  private startPing(ws: WebSocket): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      if (this.ws === ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ping" }));
    }, PING_MS);
  }

  private scheduleRetry(): void {
    const delay = backoffDelay(this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }
}
