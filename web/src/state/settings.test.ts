// Stored settings: parsing what localStorage holds, defensively.

import { describe, expect, it } from "vitest";
import {
  DEFAULT_SETTINGS,
  effectiveTimeZone,
  isValidTimeZone,
  languageFromLocale,
  localeFromLanguage,
  mergeServerPrefs,
  parseSettings,
} from "./settings";

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

describe("preferences from the server profile", () => {
  it("take the profile's language and zone when set, else keep this browser's", () => {
    const local = { ...DEFAULT_SETTINGS, language: "en" as const, timeZone: "Europe/Berlin" };
    expect(mergeServerPrefs(local, { locale: "zh-Hans-CN", time_zone: "Asia/Shanghai" })).toEqual({
      ...local,
      language: "zh-CN",
      timeZone: "Asia/Shanghai",
    });
    expect(mergeServerPrefs(local, { locale: null, time_zone: null })).toBe(local);
    // Unknown languages and zones leave the local choice.
    expect(mergeServerPrefs(local, { locale: "fr-FR", time_zone: "Mars/Olympus" })).toBe(local);
  });

  it("map languages to locales and back", () => {
    expect(languageFromLocale("en-GB")).toBe("en");
    expect(languageFromLocale(null)).toBe("auto");
    expect(localeFromLanguage("auto")).toBeNull();
    expect(localeFromLanguage("zh-CN")).toBe("zh-CN");
  });
});
