// The retention admin forms: policy and hold requests, and policy lookup and order.

import { describe, expect, it } from "vitest";
import type { RetentionPolicy } from "../api/types";
import { EMPTY_HOLD_FORM, EMPTY_POLICY_FORM, holdRequest, policyOf, policyRequest, sortPolicies } from "./retention";

const policy = (scope: RetentionPolicy["scope"], channel_id: number | null, keep_days: number | null): RetentionPolicy => ({
  scope,
  channel_id,
  keep_days,
  updated_at: "2026-11-25T00:00:00Z",
});

describe("policy form", () => {
  it("builds the seed's policies: 30 days by default, the finance group 3 years", () => {
    expect(policyRequest(EMPTY_POLICY_FORM)).toEqual({ scope: "org", keep_days: 30 });
    expect(policyRequest({ scope: "channel", channelId: "9", keep: "days", days: "1095" })).toEqual({
      scope: "channel",
      channel_id: 9,
      keep_days: 1095,
    });
  });

  it("keeps forever, inherits, and refuses bad input", () => {
    expect(policyRequest({ ...EMPTY_POLICY_FORM, scope: "dm", keep: "forever" })).toEqual({ scope: "dm", keep_days: null });
    expect(policyRequest({ ...EMPTY_POLICY_FORM, scope: "private", keep: "inherit" })).toEqual({ scope: "private", inherit: true });
    expect(policyRequest({ ...EMPTY_POLICY_FORM, scope: "channel", channelId: "x" })).toBe("retention.badChannel");
    expect(policyRequest({ ...EMPTY_POLICY_FORM, days: "0" })).toBe("retention.badDays");
    expect(policyRequest({ ...EMPTY_POLICY_FORM, days: "2.5" })).toBe("retention.badDays");
    expect(policyRequest({ ...EMPTY_POLICY_FORM, days: "36501" })).toBe("retention.badDays");
  });
});

describe("policies", () => {
  const list = [policy("channel", 9, 1095), policy("org", null, 30), policy("channel", 3, null), policy("dm", null, 7)];

  it("finds the policy of exactly one scope", () => {
    expect(policyOf(list, "org")?.keep_days).toBe(30);
    expect(policyOf(list, "channel", 9)?.keep_days).toBe(1095);
    expect(policyOf(list, "channel", 4)).toBeUndefined();
    expect(policyOf(list, "public")).toBeUndefined();
  });

  it("lists from least to most specific", () => {
    expect(sortPolicies(list).map((p) => [p.scope, p.channel_id])).toEqual([
      ["org", null],
      ["dm", null],
      ["channel", 3],
      ["channel", 9],
    ]);
  });
});

describe("hold form", () => {
  const now = new Date("2026-11-25T08:00:00Z");

  it("holds a person or a channel, until released or a future time", () => {
    expect(holdRequest({ ...EMPTY_HOLD_FORM, targetId: "7", reason: " case 17 " }, now)).toEqual({ user_id: 7, reason: "case 17" });
    const req = holdRequest({ on: "channel", targetId: "3", reason: "audit", endsAt: "2027-01-01T00:00" }, now);
    expect(req).toMatchObject({ channel_id: 3, reason: "audit" });
    expect(typeof (req as { ends_at: string }).ends_at).toBe("string");
  });

  it("refuses a missing target, an empty reason or an end in the past", () => {
    expect(holdRequest({ ...EMPTY_HOLD_FORM, reason: "x" }, now)).toBe("retention.badTarget");
    expect(holdRequest({ ...EMPTY_HOLD_FORM, targetId: "7", reason: "  " }, now)).toBe("retention.badReason");
    expect(holdRequest({ ...EMPTY_HOLD_FORM, targetId: "7", reason: "r", endsAt: "2020-01-01T00:00" }, now)).toBe("retention.badEnd");
  });
});
