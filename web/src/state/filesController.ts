// The files controller: signed links (cached, one request at a time), the channel files the
// panel shows, versions and comments, the file.* events of the stream, and the uploads of each
// composer's attachment tray (compressed first where it pays, with progress).

import { ApiError } from "../api/client";
import type { ChannelId, FileEvent, FileId, FileInfo, FileLinkVariant } from "../api/types";
import { currentT } from "../i18n";
import { api } from "./app";
import { trayReducer, uploadErrorKey, type Attachment, type TrayAction } from "./attachments";
import { applyFileEvent, emptyFiles, LinkCache, linkKey, mergeFilePage, type FilesState } from "./files";
import { prepareImage } from "./imageCompression";
import { createStore } from "./store";

const links = new LinkCache();
const inflight = new Map<string, Promise<string>>();

/** A signed URL for a file's content, thumbnail or preview; one request per link at a time. */
export function fileLink(id: FileId, variant: FileLinkVariant, version?: number): Promise<string> {
  const key = linkKey(id, variant, version);
  const hit = links.get(key, Date.now());
  if (hit) return Promise.resolve(hit);
  const running = inflight.get(key);
  if (running) return running;
  const p = api
    .fileLink(id, variant, version)
    .then((link) => {
      links.set(key, link);
      return link.url;
    })
    .finally(() => inflight.delete(key));
  inflight.set(key, p);
  return p;
}

/** Opens a download of a file (a version of it) through a fresh signed link. */
export async function downloadFile(id: FileId, version?: number): Promise<void> {
  const url = await fileLink(id, "content", version);
  const a = document.createElement("a");
  a.href = url;
  a.rel = "noopener";
  a.download = "";
  document.body.appendChild(a);
  a.click();
  a.remove();
}

export const files = createStore<FilesState>(emptyFiles());

/** Called by the app controller for every file.* event of the stream. */
export function onFileEvent(event: FileEvent): void {
  if (event.type !== "file.commented") links.forget(event.type === "file.deleted" ? event.file_id : event.file.id);
  files.set((s) => applyFileEvent(s, event));
}

export async function loadChannelFiles(channelId: ChannelId, older: boolean): Promise<void> {
  const before = older ? (files.get().byChannel[channelId]?.nextBefore ?? undefined) : undefined;
  if (older && before === undefined) return;
  const page = await api.channelFiles(channelId, before);
  files.set((s) => mergeFilePage(s, channelId, page, older));
}

const infoRequested = new Set<FileId>();
/** Fetches a file's details once (an attachment's sensitive badge); failures stay silent. */
export function ensureFileInfo(id: FileId): void {
  if (files.get().info[id] || infoRequested.has(id)) return;
  infoRequested.add(id);
  api.file(id).then(
    (f) => files.set((s) => ({ ...s, info: { ...s.info, [f.id]: f } })),
    () => undefined,
  );
}

/**
 * After a resync (events were missed): forgets what only events kept current and reloads the
 * file lists already shown; versions and comments reload when next shown.
 */
export function resyncFiles(): void {
  const shown = Object.keys(files.get().byChannel).map(Number);
  infoRequested.clear();
  files.set((s) => ({ ...s, info: {}, versions: {}, comments: {} }));
  for (const id of shown) loadChannelFiles(id, false).catch(() => undefined);
}

export async function loadVersions(id: FileId): Promise<void> {
  const list = await api.fileVersions(id);
  files.set((s) => ({ ...s, versions: { ...s.versions, [id]: list } }));
}

export async function loadComments(id: FileId): Promise<void> {
  const list = await api.fileComments(id);
  files.set((s) => ({ ...s, comments: { ...s.comments, [id]: list } }));
}

function learnFile(f: FileInfo): void {
  links.forget(f.id);
  files.set((s) => applyFileEvent(s, { type: "file.updated", file: f }));
}

export async function restoreVersion(id: FileId, version: number): Promise<void> {
  learnFile(await api.restoreFileVersion(id, version));
  await loadVersions(id);
}

export async function uploadVersion(id: FileId, file: File, comment: string): Promise<void> {
  learnFile(await api.upload({ fileId: id }, file, file.name, { comment: comment || undefined }));
  await loadVersions(id);
}

export async function commentOnFile(id: FileId, text: string): Promise<void> {
  const c = await api.commentFile(id, text);
  files.set((s) => {
    const list = s.comments[id] ?? [];
    return list.some((x) => x.id === c.id) ? s : { ...s, comments: { ...s.comments, [id]: [...list, c] } };
  });
}

// ---------------------------------------------------------------- the composer's uploads

/** The pending attachments of each conversation's composer (key: `channel:threadRoot`). */
export const trays = createStore<Record<string, Attachment[]>>({});

export function trayKey(channelId: ChannelId, threadRootId: number | null): string {
  return `${channelId}:${threadRootId ?? ""}`;
}

function dispatch(tray: string, action: TrayAction): void {
  trays.set((all) => {
    const before = all[tray] ?? [];
    const after = trayReducer(before, action);
    return after === before ? all : { ...all, [tray]: after };
  });
}

function findAttachment(tray: string, key: string): Attachment | undefined {
  return trays.get()[tray]?.find((a) => a.key === key);
}

const uploads = new Map<string, AbortController>();
let nextKey = 0;

/** Adds picked, dropped or pasted files to a tray and starts uploading them; returns how many did not fit. */
export function addAttachments(channelId: ChannelId, threadRootId: number | null, picked: File[]): number {
  const tray = trayKey(channelId, threadRootId);
  const before = trays.get()[tray] ?? [];
  const items: Attachment[] = picked.map((f) => ({
    key: `a${++nextKey}`,
    original: f,
    name: f.name || "file",
    size: f.size,
    mime: f.type,
    previewUrl: null,
    compressed: false,
    sendOriginal: false,
    status: "preparing",
    sent: 0,
    fileId: null,
    error: null,
  }));
  dispatch(tray, { type: "add", items });
  const added = (trays.get()[tray] ?? []).slice(before.length);
  for (const a of added) {
    if (a.mime.startsWith("image/") && typeof URL.createObjectURL === "function") {
      const url = URL.createObjectURL(a.original);
      trays.set((all) => ({ ...all, [tray]: (all[tray] ?? []).map((x) => (x.key === a.key ? { ...x, previewUrl: url } : x)) }));
    }
    void startUpload(channelId, tray, a.key);
  }
  return picked.length - added.length;
}

async function startUpload(channelId: ChannelId, tray: string, key: string): Promise<void> {
  const a = findAttachment(tray, key);
  if (!a) return;
  const abort = new AbortController();
  uploads.get(key)?.abort();
  uploads.set(key, abort);
  try {
    const prepared = await prepareImage(a.original, a.sendOriginal);
    if (abort.signal.aborted) return;
    dispatch(tray, { type: "prepared", key, name: prepared.name, size: prepared.blob.size, compressed: prepared.compressed });
    const info = await api.upload({ channelId }, prepared.blob, prepared.name, {
      signal: abort.signal,
      onProgress: (sent) => dispatch(tray, { type: "progress", key, sent }),
    });
    files.set((s) => ({ ...s, info: { ...s.info, [info.id]: info } }));
    dispatch(tray, { type: "uploaded", key, fileId: info.id });
  } catch (e) {
    if (abort.signal.aborted) return;
    dispatch(tray, { type: "failed", key, error: describeUploadError(e) });
  } finally {
    if (uploads.get(key) === abort) uploads.delete(key);
  }
}

function describeUploadError(e: unknown): string {
  const t = currentT();
  if (!(e instanceof ApiError)) return t("error.generic");
  const key = uploadErrorKey(e.status, e.code);
  return key === "files.errorBlocked" ? `${t(key)} ${e.message}` : key ? t(key) : e.message;
}

/** Uploads an attachment again: after a failure, or as the original instead of compressed. */
export function restartAttachment(channelId: ChannelId, threadRootId: number | null, key: string, sendOriginal: boolean): void {
  const tray = trayKey(channelId, threadRootId);
  dispatch(tray, { type: "restart", key, sendOriginal });
  void startUpload(channelId, tray, key);
}

export function removeAttachment(channelId: ChannelId, threadRootId: number | null, key: string): void {
  const tray = trayKey(channelId, threadRootId);
  const a = findAttachment(tray, key);
  uploads.get(key)?.abort();
  if (a?.previewUrl) URL.revokeObjectURL(a.previewUrl);
  dispatch(tray, { type: "remove", key });
  // Uploaded but never sent: take it back, so the channel's files do not keep it.
  if (a?.fileId != null) api.deleteFile(a.fileId).catch(() => undefined);
}

/** Empties a tray once its message is on its way (the previews are no longer needed). */
export function clearTray(channelId: ChannelId, threadRootId: number | null): void {
  const tray = trayKey(channelId, threadRootId);
  for (const a of trays.get()[tray] ?? []) if (a.previewUrl) URL.revokeObjectURL(a.previewUrl);
  dispatch(tray, { type: "clear" });
}
