// The composer's tray of pending attachments as pure state: what was picked, how far each
// upload got, and whether the message may be sent. The controller (state/files.ts) performs
// the uploads and dispatches these actions; components only render the tray.

import type { FileId } from "../api/types";

/** The server attaches at most this many files to one message. */
export const MAX_ATTACHMENTS = 10;

export type AttachmentStatus = "preparing" | "uploading" | "done" | "failed";

export interface Attachment {
  key: string;
  /** What the user picked (kept to upload again, e.g. as the original). */
  original: File;
  /** The name and size being uploaded (a compressed image is a .jpg and smaller). */
  name: string;
  size: number;
  mime: string;
  /** An object URL for an image preview; revoked when the attachment leaves the tray. */
  previewUrl: string | null;
  /** Re-encoded by the client before upload. */
  compressed: boolean;
  /** The user asked for the original (no compression). */
  sendOriginal: boolean;
  status: AttachmentStatus;
  /** Bytes uploaded so far. */
  sent: number;
  fileId: FileId | null;
  /** What went wrong, ready to show. */
  error: string | null;
}

export type TrayAction =
  | { type: "add"; items: Attachment[] }
  | { type: "prepared"; key: string; name: string; size: number; compressed: boolean }
  | { type: "progress"; key: string; sent: number }
  | { type: "uploaded"; key: string; fileId: FileId }
  | { type: "failed"; key: string; error: string }
  | { type: "restart"; key: string; sendOriginal: boolean }
  | { type: "remove"; key: string }
  | { type: "clear" };

/** How many of `wanted` new files still fit in the tray. */
export function roomFor(tray: readonly Attachment[], wanted: number): number {
  return Math.max(0, Math.min(wanted, MAX_ATTACHMENTS - tray.length));
}

export function trayReducer(tray: Attachment[], action: TrayAction): Attachment[] {
  const update = (key: string, f: (a: Attachment) => Attachment) => {
    const i = tray.findIndex((a) => a.key === key);
    if (i < 0) return tray;
    const next = tray.slice();
    next[i] = f(tray[i]!);
    return next;
  };
  switch (action.type) {
    case "add": {
      const fresh = action.items.filter((a) => !tray.some((b) => b.key === a.key));
      const room = roomFor(tray, fresh.length);
      return room > 0 ? [...tray, ...fresh.slice(0, room)] : tray;
    }
    case "prepared":
      return update(action.key, (a) => ({
        ...a,
        name: action.name,
        size: action.size,
        compressed: action.compressed,
        status: "uploading",
        sent: 0,
      }));
    case "progress":
      return update(action.key, (a) => (a.status === "uploading" ? { ...a, sent: Math.min(action.sent, a.size) } : a));
    case "uploaded":
      return update(action.key, (a) => ({ ...a, status: "done", sent: a.size, fileId: action.fileId, error: null }));
    case "failed":
      return update(action.key, (a) => ({ ...a, status: "failed", error: action.error, fileId: null }));
    case "restart":
      return update(action.key, (a) => ({
        ...a,
        status: "preparing",
        sendOriginal: action.sendOriginal,
        sent: 0,
        fileId: null,
        error: null,
      }));
    case "remove":
      return tray.some((a) => a.key === action.key) ? tray.filter((a) => a.key !== action.key) : tray;
    case "clear":
      return tray.length ? [] : tray;
  }
}

/** Upload progress of one attachment, 0 to 1. */
export function progressOf(a: Attachment): number {
  if (a.status === "done") return 1;
  if (a.status !== "uploading" || a.size <= 0) return 0;
  return Math.min(1, a.sent / a.size);
}

/** The message may go when every attachment is uploaded and there is text or a file. */
export function canSend(tray: readonly Attachment[], text: string): boolean {
  if (tray.some((a) => a.status !== "done")) return false;
  return tray.length > 0 || text.trim().length > 0;
}

/** The uploaded files' ids, in tray order. */
export function fileIdsOf(tray: readonly Attachment[]): FileId[] {
  return tray.flatMap((a) => (a.status === "done" && a.fileId !== null ? [a.fileId] : []));
}

/** Which translated message explains a failed upload (status and error code of the answer). */
export function uploadErrorKey(
  status: number,
  code: string,
): "files.errorTooLarge" | "files.errorBlocked" | "files.errorType" | "error.network" | null {
  if (status === 0) return "error.network";
  if (status === 413) return "files.errorTooLarge";
  if (code === "dlp_blocked") return "files.errorBlocked";
  if (status === 415) return "files.errorType";
  return null;
}

/** A size for people: 980 B, 12.4 KB, 3.1 MB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}
