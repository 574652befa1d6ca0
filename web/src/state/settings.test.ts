// Stored settings: parsing what localStorage holds, defensively.

import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, effectiveTimeZone, isValidTimeZone, parseSettings } from "./settings";

describe("settings", () => {
  it("reads valid settings and ignores the rest", () => {
    expect(parseSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings("not json")).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings('{"language":"zh-CN","theme":"dark","notifications":false,"timeZone":"Asia/Shanghai"}')).toEqual({
      language: "zh-CN",
      theme: "dark",
      notifications: false,
      timeZone: "Asia/Shanghai",
    });
    expect(parseSettings('{"language":"fr","theme":"pink","notifications":"yes"}')).toEqual(DEFAULT_SETTINGS);
  });

  it("falls back to the device zone for an unknown zone", () => {
    expect(isValidTimeZone("Asia/Shanghai")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
    expect(effectiveTimeZone({ ...DEFAULT_SETTINGS, timeZone: "Asia/Shanghai" })).toBe("Asia/Shanghai");
    expect(effectiveTimeZone({ ...DEFAULT_SETTINGS, timeZone: "Mars/Olympus" })).toBe(
      Intl.DateTimeFormat().resolvedOptions().timeZone,
    );
  });
});
