// Retention admin rules as pure functions: reading a policy form (days, or keep forever),
// finding the policy of a scope, and building a legal-hold request from its form. The server
// validates everything again; these only catch mistakes before a round trip.

import type { CreateLegalHold, RetentionPolicy, RetentionScope, SetRetentionPolicy } from "../api/types";

/** The longest policy the server accepts (100 years). */
export const MAX_KEEP_DAYS = 36500;

/** The scopes in the order they are listed, least specific first. */
export const SCOPES: readonly RetentionScope[] = ["org", "public", "private", "dm", "channel"];

export interface PolicyForm {
  scope: RetentionScope;
  /** Required for `channel`. */
  channelId: string;
  /** `forever`, `inherit` (remove the policy) or a number of days. */
  keep: "days" | "forever" | "inherit";
  days: string;
}

export const EMPTY_POLICY_FORM: PolicyForm = { scope: "org", channelId: "", keep: "days", days: "30" };

/** The request for a policy form, or the key of what is wrong with it. */
export function policyRequest(f: PolicyForm): SetRetentionPolicy | "retention.badChannel" | "retention.badDays" {
  const req: SetRetentionPolicy = { scope: f.scope };
  if (f.scope === "channel") {
    const id = Number(f.channelId.trim());
    if (!Number.isInteger(id) || id <= 0) return "retention.badChannel";
    req.channel_id = id;
  }
  if (f.keep === "inherit") return { ...req, inherit: true };
  if (f.keep === "forever") return { ...req, keep_days: null };
  const days = Number(f.days.trim());
  if (!Number.isInteger(days) || days < 1 || days > MAX_KEEP_DAYS) return "retention.badDays";
  return { ...req, keep_days: days };
}

/** The policy set for exactly this scope, if any. */
export function policyOf(policies: RetentionPolicy[], scope: RetentionScope, channelId: number | null = null) {
  return policies.find((p) => p.scope === scope && (scope !== "channel" || p.channel_id === channelId));
}

/** Policies in listing order: by scope, channels by id. */
export function sortPolicies(policies: RetentionPolicy[]): RetentionPolicy[] {
  return [...policies].sort(
    (a, b) => SCOPES.indexOf(a.scope) - SCOPES.indexOf(b.scope) || (a.channel_id ?? 0) - (b.channel_id ?? 0),
  );
}

export interface HoldForm {
  on: "user" | "channel";
  targetId: string;
  reason: string;
  /** A local date-time (`YYYY-MM-DDTHH:MM`) or empty for "until released". */
  endsAt: string;
}

export const EMPTY_HOLD_FORM: HoldForm = { on: "user", targetId: "", reason: "", endsAt: "" };

/** The request for a hold form (`endsAt` read in the browser's zone), or what is wrong. */
export function holdRequest(
  f: HoldForm,
  now = new Date(),
): CreateLegalHold | "retention.badTarget" | "retention.badReason" | "retention.badEnd" {
  const id = Number(f.targetId.trim());
  if (!Number.isInteger(id) || id <= 0) return "retention.badTarget";
  const reason = f.reason.trim();
  if (!reason || [...reason].length > 500) return "retention.badReason";
  const req: CreateLegalHold = f.on === "user" ? { user_id: id, reason } : { channel_id: id, reason };
  if (f.endsAt) {
    const end = new Date(f.endsAt);
    if (Number.isNaN(end.getTime()) || end <= now) return "retention.badEnd";
    req.ends_at = end.toISOString();
  }
  return req;
}
