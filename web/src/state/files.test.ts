// Files state: image compression decisions, the attachment tray, the signed-link cache and the
// file.* event reducer.

import { describe, expect, it } from "vitest";
import type { FileComment, FileInfo } from "../api/types";
import {
  canSend,
  fileIdsOf,
  formatBytes,
  MAX_ATTACHMENTS,
  progressOf,
  roomFor,
  trayReducer,
  uploadErrorKey,
  type Attachment,
} from "./attachments";
import { applyFileEvent, emptyFiles, LinkCache, linkKey, mergeFilePage } from "./files";
import { compressionPlan, fitWithin, jpegName, keepCompressed, MAX_BYTES, MAX_SIDE } from "./imageCompression";

describe("image compression decisions", () => {
  const photo = { mime: "image/jpeg", size: 4_000_000, width: 4032, height: 3024 };

  it("scales a large camera photo so its longer side is 2560 px", () => {
    expect(compressionPlan(photo, false)).toEqual({ compress: true, width: MAX_SIDE, height: 1920 });
    expect(compressionPlan({ ...photo, width: 3024, height: 4032 }, false)).toEqual({ compress: true, width: 1920, height: MAX_SIDE });
  });

  it("re-encodes a heavy image at its own size, leaves small ones alone", () => {
    expect(compressionPlan({ mime: "image/png", size: MAX_BYTES + 1, width: 1200, height: 800 }, false)).toEqual({
      compress: true,
      width: 1200,
      height: 800,
    });
    expect(compressionPlan({ mime: "image/png", size: MAX_BYTES, width: 2560, height: 1440 }, false)).toEqual({
      compress: false,
      reason: "small",
    });
  });

  it("never touches GIFs, other types, or what the user wants sent as the original", () => {
    expect(compressionPlan({ ...photo, mime: "image/gif" }, false)).toEqual({ compress: false, reason: "not-a-photo" });
    expect(compressionPlan({ ...photo, mime: "application/pdf" }, false)).toEqual({ compress: false, reason: "not-a-photo" });
    expect(compressionPlan(photo, true)).toEqual({ compress: false, reason: "original" });
    expect(compressionPlan({ ...photo, mime: "image/WEBP" }, false).compress).toBe(true);
  });

  it("fits within a box keeping the aspect ratio, never below one pixel", () => {
    expect(fitWithin(100, 50, 200)).toEqual({ width: 100, height: 50 });
    expect(fitWithin(10000, 1, 2560)).toEqual({ width: 2560, height: 1 });
  });

  it("keeps the name with a .jpg extension", () => {
    expect(jpegName("IMG_0001.PNG")).toBe("IMG_0001.jpg");
    expect(jpegName("holiday.photo.webp")).toBe("holiday.photo.jpg");
    expect(jpegName("scan")).toBe("scan.jpg");
    expect(jpegName(".png")).toBe(".png.jpg");
  });

  it("keeps a re-encoding only when it resized or saved bytes", () => {
    expect(keepCompressed(2_000_000, 2_100_000, false)).toBe(false);
    expect(keepCompressed(2_000_000, 500_000, false)).toBe(true);
    expect(keepCompressed(2_000_000, 2_100_000, true)).toBe(true);
  });
});

function attachment(key: string, over: Partial<Attachment> = {}): Attachment {
  return {
    key,
    original: { name: `${key}.png`, size: 1000 } as File,
    name: `${key}.png`,
    size: 1000,
    mime: "image/png",
    previewUrl: null,
    compressed: false,
    sendOriginal: false,
    status: "preparing",
    sent: 0,
    fileId: null,
    error: null,
    ...over,
  };
}

describe("attachment tray", () => {
  it("takes at most ten files, ignoring one added twice", () => {
    const twelve = Array.from({ length: 12 }, (_, i) => attachment(`a${i}`));
    const tray = trayReducer([], { type: "add", items: twelve });
    expect(tray).toHaveLength(MAX_ATTACHMENTS);
    expect(roomFor(tray, 3)).toBe(0);
    expect(trayReducer(tray, { type: "add", items: [attachment("more")] })).toBe(tray);
    const one = trayReducer([], { type: "add", items: [attachment("x")] });
    expect(trayReducer(one, { type: "add", items: [attachment("x")] })).toBe(one);
  });

  it("follows an upload from preparing to done, and a send waits for it", () => {
    let tray = trayReducer([], { type: "add", items: [attachment("a")] });
    expect(canSend(tray, "hello")).toBe(false);
    tray = trayReducer(tray, { type: "prepared", key: "a", name: "a.jpg", size: 400, compressed: true });
    expect(tray[0]).toMatchObject({ name: "a.jpg", size: 400, compressed: true, status: "uploading" });
    tray = trayReducer(tray, { type: "progress", key: "a", sent: 100 });
    expect(progressOf(tray[0]!)).toBe(0.25);
    tray = trayReducer(tray, { type: "progress", key: "a", sent: 9999 });
    expect(progressOf(tray[0]!)).toBe(1);
    expect(canSend(tray, "")).toBe(false);
    tray = trayReducer(tray, { type: "uploaded", key: "a", fileId: 42 });
    expect(canSend(tray, "")).toBe(true);
    expect(fileIdsOf(tray)).toEqual([42]);
  });

  it("a failure blocks sending until it is retried or removed", () => {
    let tray = trayReducer([], { type: "add", items: [attachment("a"), attachment("b", { status: "done", fileId: 7 })] });
    tray = trayReducer(tray, { type: "failed", key: "a", error: "too large" });
    expect(tray[0]).toMatchObject({ status: "failed", error: "too large" });
    expect(canSend(tray, "text")).toBe(false);
    const retried = trayReducer(tray, { type: "restart", key: "a", sendOriginal: true });
    expect(retried[0]).toMatchObject({ status: "preparing", sendOriginal: true, error: null });
    tray = trayReducer(tray, { type: "remove", key: "a" });
    expect(canSend(tray, "")).toBe(true);
    expect(fileIdsOf(tray)).toEqual([7]);
    expect(trayReducer(tray, { type: "clear" })).toEqual([]);
  });

  it("an empty message needs text", () => {
    expect(canSend([], "  ")).toBe(false);
    expect(canSend([], "hi")).toBe(true);
  });

  it("explains failed uploads", () => {
    expect(uploadErrorKey(413, "file_too_large")).toBe("files.errorTooLarge");
    expect(uploadErrorKey(422, "dlp_blocked")).toBe("files.errorBlocked");
    expect(uploadErrorKey(0, "network")).toBe("error.network");
    expect(uploadErrorKey(403, "forbidden")).toBeNull();
  });

  it("formats sizes", () => {
    expect(formatBytes(980)).toBe("980 B");
    expect(formatBytes(12_700)).toBe("12.4 KB");
    expect(formatBytes(3_250_000)).toBe("3.1 MB");
    expect(formatBytes(500 * 1024 * 1024)).toBe("500 MB");
  });
});

describe("signed-link cache", () => {
  const at = (ms: number) => new Date(ms).toISOString();

  it("serves a link until shortly before it expires, then asks again", () => {
    const cache = new LinkCache(30_000);
    const key = linkKey(7, "thumbnail", 2);
    cache.set(key, { url: "/api/v1/files/7/thumbnail?sig=a", expires_at: at(300_000) });
    expect(cache.get(key, 0)).toBe("/api/v1/files/7/thumbnail?sig=a");
    expect(cache.get(key, 269_999)).toBe("/api/v1/files/7/thumbnail?sig=a");
    expect(cache.get(key, 270_000)).toBeNull();
    expect(cache.get(linkKey(7, "preview", 2), 0)).toBeNull();
  });

  it("keeps variants and versions apart and forgets a changed file", () => {
    const cache = new LinkCache(0);
    cache.set(linkKey(7, "content", 1), { url: "v1", expires_at: at(1000) });
    cache.set(linkKey(7, "content", undefined), { url: "cur", expires_at: at(1000) });
    cache.set(linkKey(70, "content", 1), { url: "other", expires_at: at(1000) });
    expect(cache.get(linkKey(7, "content", 1), 0)).toBe("v1");
    expect(cache.get(linkKey(7, "content", undefined), 0)).toBe("cur");
    cache.forget(7);
    expect(cache.get(linkKey(7, "content", 1), 0)).toBeNull();
    expect(cache.get(linkKey(70, "content", 1), 0)).toBe("other");
  });

  it("ignores a link with an unreadable expiry", () => {
    const cache = new LinkCache();
    cache.set("k", { url: "u", expires_at: "soon" });
    expect(cache.get("k", 0)).toBeNull();
  });
});

function info(id: number, over: Partial<FileInfo> = {}): FileInfo {
  return {
    id,
    channel_id: 1,
    name: `f${id}.png`,
    mime: "image/png",
    size: 10,
    sha256: "00",
    version: 1,
    sensitive: false,
    effective_sensitive: false,
    width: 10,
    height: 10,
    created_by: 1,
    created_at: "2026-11-25T09:00:00Z",
    updated_at: "2026-11-25T09:00:00Z",
    ...over,
  };
}

describe("file events", () => {
  const loaded = mergeFilePage(emptyFiles(), 1, { files: [info(2), info(1)], next_before: 1 }, false);

  it("pages append older files without duplicates", () => {
    const more = mergeFilePage(loaded, 1, { files: [info(1), info(0)], next_before: null }, true);
    expect(more.byChannel[1]!.files.map((f) => f.id)).toEqual([2, 1, 0]);
    expect(more.byChannel[1]!.nextBefore).toBeNull();
    expect(more.info[0]?.name).toBe("f0.png");
  });

  it("a created file goes first, once", () => {
    const s = applyFileEvent(loaded, { type: "file.created", file: info(3) });
    expect(s.byChannel[1]!.files.map((f) => f.id)).toEqual([3, 2, 1]);
    expect(applyFileEvent(s, { type: "file.created", file: info(3) }).byChannel[1]!.files).toHaveLength(3);
    // A channel whose files were never loaded only learns the file's details.
    const other = applyFileEvent(loaded, { type: "file.created", file: info(9, { channel_id: 5 }) });
    expect(other.byChannel[5]).toBeUndefined();
    expect(other.info[9]?.channel_id).toBe(5);
  });

  it("a new version replaces the file in place and drops its stale history", () => {
    const withVersions = { ...loaded, versions: { 2: [] } };
    const v2 = info(2, { version: 2, size: 20, updated_at: "2026-11-25T10:00:00Z" });
    const s = applyFileEvent(withVersions, { type: "file.updated", file: v2 });
    expect(s.byChannel[1]!.files.map((f) => [f.id, f.version])).toEqual([
      [2, 2],
      [1, 1],
    ]);
    expect(s.versions[2]).toBeUndefined();
    // The older copy replayed afterwards changes nothing.
    expect(applyFileEvent(s, { type: "file.updated", file: info(2) })).toBe(s);
  });

  it("a deleted file leaves the list and the caches", () => {
    const s = applyFileEvent({ ...loaded, comments: { 2: [] } }, { type: "file.deleted", channel_id: 1, file_id: 2 });
    expect(s.byChannel[1]!.files.map((f) => f.id)).toEqual([1]);
    expect(s.info[2]).toBeUndefined();
    expect(s.comments[2]).toBeUndefined();
  });

  it("comments append once, and only to loaded comment lists", () => {
    const comment: FileComment = {
      id: 5,
      file_id: 2,
      version: 1,
      author_id: 1,
      text: "@bob looks good",
      mentions: [2],
      created_at: "2026-11-25T09:30:00Z",
    };
    expect(applyFileEvent(loaded, { type: "file.commented", channel_id: 1, comment })).toBe(loaded);
    const open = { ...loaded, comments: { 2: [] } };
    const s = applyFileEvent(open, { type: "file.commented", channel_id: 1, comment });
    expect(s.comments[2]).toEqual([comment]);
    expect(applyFileEvent(s, { type: "file.commented", channel_id: 1, comment })).toBe(s);
  });
});
