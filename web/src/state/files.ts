// Files in the client as pure state: the signed-link cache (for <img src> and downloads, which
// cannot carry a bearer token), the files known per channel with their versions and comments,
// and the reducer of the file.* events. The controller is state/filesController.ts.

import type {
  ChannelId,
  FileComment,
  FileEvent,
  FileId,
  FileInfo,
  FileLink,
  FileLinkVariant,
  FilePage,
  FileVersion,
} from "../api/types";

// ---------------------------------------------------------------- signed links

/** Links are renewed this long before they expire, so an image never loads a dead link. */
export const LINK_MARGIN_MS = 30_000;

export function linkKey(id: FileId, variant: FileLinkVariant, version: number | undefined): string {
  return `${id}:${variant}:${version ?? "current"}`;
}

/** Signed links by file, variant and version, until shortly before they expire. */
export class LinkCache {
  private readonly links = new Map<string, { url: string; until: number }>();

  constructor(private readonly marginMs = LINK_MARGIN_MS) {}

  get(key: string, nowMs: number): string | null {
    const hit = this.links.get(key);
    if (!hit) return null;
    if (hit.until <= nowMs) {
      this.links.delete(key);
      return null;
    }
    return hit.url;
  }

  set(key: string, link: FileLink): void {
    const expires = Date.parse(link.expires_at);
    if (Number.isNaN(expires)) return;
    this.links.set(key, { url: link.url, until: expires - this.marginMs });
  }

  /** Forgets every link of a file (it changed or was deleted). */
  forget(id: FileId): void {
    for (const key of [...this.links.keys()]) if (key.startsWith(`${id}:`)) this.links.delete(key);
  }
}

// ---------------------------------------------------------------- files state

export interface ChannelFiles {
  files: FileInfo[];
  /** Pass as `before` for the next page; null when everything is loaded. */
  nextBefore: FileId | null;
}

export interface FilesState {
  byChannel: Record<ChannelId, ChannelFiles>;
  /** Everything known about single files (e.g. whether an attachment is sensitive). */
  info: Record<FileId, FileInfo>;
  versions: Record<FileId, FileVersion[]>;
  comments: Record<FileId, FileComment[]>;
}

export function emptyFiles(): FilesState {
  return { byChannel: {}, info: {}, versions: {}, comments: {} };
}

/** Adds a page of a channel's files (newest first); `older` appends to what is loaded. */
export function mergeFilePage(state: FilesState, channelId: ChannelId, page: FilePage, older: boolean): FilesState {
  const have = older ? (state.byChannel[channelId]?.files ?? []) : [];
  const seen = new Set(have.map((f) => f.id));
  const files = [...have, ...page.files.filter((f) => !seen.has(f.id))];
  const info = { ...state.info };
  for (const f of page.files) info[f.id] = f;
  return { ...state, info, byChannel: { ...state.byChannel, [channelId]: { files, nextBefore: page.next_before } } };
}

function withoutKey<T>(record: Record<number, T>, key: number): Record<number, T> {
  if (!(key in record)) return record;
  const { [key]: _gone, ...rest } = record;
  return rest;
}

/** Applies a file.* event; idempotent, so a REST page and a live event may overlap. */
export function applyFileEvent(state: FilesState, event: FileEvent): FilesState {
  switch (event.type) {
    case "file.created":
    case "file.updated": {
      const f = event.file;
      const known = state.info[f.id];
      // An older copy arriving late (a replayed event after a fresh page) changes nothing.
      if (known && known.updated_at > f.updated_at) return state;
      const list = state.byChannel[f.channel_id];
      let byChannel = state.byChannel;
      if (list) {
        const i = list.files.findIndex((x) => x.id === f.id);
        const files = i >= 0 ? list.files.map((x) => (x.id === f.id ? f : x)) : [f, ...list.files];
        byChannel = { ...byChannel, [f.channel_id]: { ...list, files } };
      }
      // A new version: the history is fetched again when shown.
      const versions = known && known.version !== f.version ? withoutKey(state.versions, f.id) : state.versions;
      return { ...state, byChannel, info: { ...state.info, [f.id]: f }, versions };
    }
    case "file.deleted": {
      const list = state.byChannel[event.channel_id];
      const byChannel =
        list && list.files.some((f) => f.id === event.file_id)
          ? { ...state.byChannel, [event.channel_id]: { ...list, files: list.files.filter((f) => f.id !== event.file_id) } }
          : state.byChannel;
      return {
        byChannel,
        info: withoutKey(state.info, event.file_id),
        versions: withoutKey(state.versions, event.file_id),
        comments: withoutKey(state.comments, event.file_id),
      };
    }
    case "file.commented": {
      const c = event.comment;
      const list = state.comments[c.file_id];
      // Comments not loaded yet are fetched whole when the file is opened.
      if (!list || list.some((x) => x.id === c.id)) return state;
      return { ...state, comments: { ...state.comments, [c.file_id]: [...list, c] } };
    }
  }
}
