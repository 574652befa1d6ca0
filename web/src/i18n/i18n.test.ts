// The catalogues: same keys, no empty values, same placeholders; language choice; plurals;
// dates and times in a chosen zone.

import { describe, expect, it } from "vitest";
import { catalogs, pickLocale, translate, translatePlural } from "./index";
import { en } from "./en";
import { zhCN } from "./zh-CN";
import { dayKey, formatDay, formatTime } from "./time";

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("catalogues", () => {
  it("have exactly the same keys", () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
    expect(Object.keys(catalogs)).toEqual(["en", "zh-CN"]);
  });

  it("have no empty values", () => {
    for (const [locale, cat] of Object.entries(catalogs)) {
      for (const [key, value] of Object.entries(cat)) {
        expect(value.trim(), `${locale} ${key}`).not.toBe("");
      }
    }
  });

  it("use the same placeholders in both languages", () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(zhCN[key]), key).toEqual(placeholders(en[key]));
    }
  });

  it("translate Chinese strings into Chinese", () => {
    // Most zh-CN values contain CJK characters (names like "Concord" excepted).
    const cjk = Object.values(zhCN).filter((v) => /[\u4e00-\u9fff]/.test(v)).length;
    expect(cjk / Object.keys(zhCN).length).toBeGreaterThan(0.95);
  });
});

describe("language choice", () => {
  it("follows the setting, else the browser, else English", () => {
    expect(pickLocale("zh-CN", ["en-US"])).toBe("zh-CN");
    expect(pickLocale("en", ["zh-CN"])).toBe("en");
    expect(pickLocale("auto", ["zh-TW", "en"])).toBe("zh-CN");
    expect(pickLocale("auto", ["fr-FR", "en-GB"])).toBe("en");
    expect(pickLocale("auto", ["fr-FR"])).toBe("en");
    expect(pickLocale("auto", [])).toBe("en");
  });

  it("interpolates and picks plural forms", () => {
    expect(translate("en", "composer.placeholder", { name: "#general" })).toBe("Message #general");
    expect(translate("zh-CN", "composer.placeholder", { name: "#general" })).toBe("发送消息到 #general");
    expect(translatePlural("en", "message.replies", 1)).toBe("1 reply");
    expect(translatePlural("en", "message.replies", 3)).toBe("3 replies");
    expect(translatePlural("zh-CN", "message.replies", 1)).toBe("1 条回复");
  });
});

describe("time", () => {
  const at = "2026-11-25T16:30:00Z"; // 00:30 on the 26th in Shanghai, 11:30 on the 25th in New York

  it("formats times in the chosen zone", () => {
    expect(formatTime(at, { locale: "en", timeZone: "Asia/Shanghai" })).toBe("12:30 AM");
    expect(formatTime(at, { locale: "en", timeZone: "America/New_York" })).toBe("11:30 AM");
    expect(formatTime(at, { locale: "zh-CN", timeZone: "Asia/Shanghai" })).toBe("00:30");
    expect(formatTime(at, { locale: "en", timeZone: "UTC" })).toBe("4:30 PM");
  });

  it("puts a message under the day of the zone", () => {
    expect(dayKey(at, "Asia/Shanghai")).toBe("2026-11-26");
    expect(dayKey(at, "America/New_York")).toBe("2026-11-25");
  });

  it("names today and yesterday, and dates otherwise", () => {
    const words = { today: "Today", yesterday: "Yesterday" };
    const now = new Date("2026-11-26T03:00:00Z"); // 11:00 on the 26th in Shanghai
    const ctx = { locale: "en", timeZone: "Asia/Shanghai" };
    expect(formatDay(at, ctx, words, now)).toBe("Today");
    expect(formatDay("2026-11-25T03:00:00Z", ctx, words, now)).toBe("Yesterday");
    expect(formatDay("2026-11-20T03:00:00Z", ctx, words, now)).toBe("Friday, November 20");
    expect(formatDay("2025-11-20T03:00:00Z", ctx, words, now)).toBe("Thursday, November 20, 2025");
    expect(formatDay("2026-11-20T03:00:00Z", { locale: "zh-CN", timeZone: "Asia/Shanghai" }, words, now)).toBe("11月20日星期五");
  });
});
