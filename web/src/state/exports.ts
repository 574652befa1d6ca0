// Compliance export rules as pure functions: reading the criteria form (channel and user ids,
// a local date-time range, files or not) into the request the server takes, and naming the
// downloaded archive. The server validates everything again; these catch mistakes early.

import type { ComplianceExportRequest } from "../api/types";

/** Most channels, and most people, one export may name (the server's limit). */
export const MAX_EXPORT_IDS = 500;

export interface ExportForm {
  /** Ids separated by commas or spaces. */
  channelIds: string;
  userIds: string;
  /** Local date-times (`YYYY-MM-DDTHH:MM`), read in the browser's zone; empty: unbounded. */
  from: string;
  to: string;
  includeFiles: boolean;
}

export const EMPTY_EXPORT_FORM: ExportForm = { channelIds: "", userIds: "", from: "", to: "", includeFiles: false };

export type ExportFormError = "export.badIds" | "export.tooMany" | "export.noCriteria" | "export.badTime" | "export.badRange";

/** Positive integer ids from free text, duplicates dropped; `null` if any piece is not one. */
export function parseIds(text: string): number[] | null {
  const pieces = text.split(/[\s,，]+/).filter((p) => p.length > 0);
  const ids: number[] = [];
  for (const p of pieces) {
    if (!/^\d+$/.test(p)) return null;
    const id = Number(p);
    if (!Number.isSafeInteger(id) || id <= 0) return null;
    if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

function instant(local: string): string | null | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** The request for a criteria form, or the key of what is wrong with it. */
export function exportRequest(f: ExportForm): ComplianceExportRequest | ExportFormError {
  const channel_ids = parseIds(f.channelIds);
  const user_ids = parseIds(f.userIds);
  if (!channel_ids || !user_ids) return "export.badIds";
  if (channel_ids.length > MAX_EXPORT_IDS || user_ids.length > MAX_EXPORT_IDS) return "export.tooMany";
  if (channel_ids.length === 0 && user_ids.length === 0) return "export.noCriteria";
  const from = instant(f.from);
  const to = instant(f.to);
  if (from === null || to === null) return "export.badTime";
  if (from && to && from >= to) return "export.badRange";
  const req: ComplianceExportRequest = { channel_ids, user_ids, include_files: f.includeFiles };
  if (from) req.from = from;
  if (to) req.to = to;
  return req;
}

/** The archive's file name: `concord-export-20261125T093000Z.zip` (UTC). */
export function exportFileName(now: Date, kind: "compliance" | "personal" = "compliance"): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `concord-${kind === "personal" ? "my-data" : "export"}-${stamp}.zip`;
}
