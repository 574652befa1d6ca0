// The user's settings. Kept in localStorage until the server has a user-preferences API; the
// shape is what that API will carry.

import { createStore } from "./store";

export type LanguageSetting = "auto" | "en" | "zh-CN";
export type ThemeSetting = "system" | "light" | "dark";

export interface Settings {
  language: LanguageSetting;
  /** An IANA zone, or "auto" for the browser's. */
  timeZone: string;
  theme: ThemeSetting;
  notifications: boolean;
}

export const DEFAULT_SETTINGS: Settings = {
  language: "auto",
  timeZone: "auto",
  theme: "system",
  notifications: true,
};

const KEY = "concord.settings";

/** Reads stored settings, ignoring anything malformed or unknown. */
export function parseSettings(raw: string | null): Settings {
  if (!raw) return { ...DEFAULT_SETTINGS };
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
  if (!v || typeof v !== "object") return { ...DEFAULT_SETTINGS };
  const s = { ...DEFAULT_SETTINGS };
  if (v.language === "auto" || v.language === "en" || v.language === "zh-CN") s.language = v.language;
  if (typeof v.timeZone === "string" && v.timeZone) s.timeZone = v.timeZone;
  if (v.theme === "system" || v.theme === "light" || v.theme === "dark") s.theme = v.theme;
  if (typeof v.notifications === "boolean") s.notifications = v.notifications;
  return s;
}

function load(): Settings {
  try {
    return parseSettings(localStorage.getItem(KEY));
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

export const settings = createStore<Settings>(typeof localStorage === "undefined" ? { ...DEFAULT_SETTINGS } : load());

export function updateSettings(patch: Partial<Settings>): void {
  settings.set((s) => ({ ...s, ...patch }));
  try {
    localStorage.setItem(KEY, JSON.stringify(settings.get()));
  } catch {
    // Private mode or a full quota: the setting still holds for this tab.
  }
}

/** The zone to format times in. */
export function effectiveTimeZone(s: Settings): string {
  if (s.timeZone !== "auto" && isValidTimeZone(s.timeZone)) return s.timeZone;
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Applies the theme to <html data-theme>, following the system when asked. */
export function applyTheme(s: Settings): void {
  const dark =
    s.theme === "dark" ||
    (s.theme === "system" && typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  const meta = document.querySelector('meta[name="theme-color"]');
  if (meta) meta.setAttribute("content", dark ? "#1a1d21" : "#3f0e40");
}

/** The language setting for a profile's BCP 47 locale (`zh-Hans-CN` → zh-CN), or "auto". */
export function languageFromLocale(locale: string | null | undefined): LanguageSetting {
  const l = (locale ?? "").toLowerCase();
  if (l.startsWith("zh")) return "zh-CN";
  if (l.startsWith("en")) return "en";
  return "auto";
}

/** The profile's locale for a language setting (`null`: follow the browser). */
export function localeFromLanguage(language: LanguageSetting): string | null {
  return language === "auto" ? null : language;
}

/**
 * The settings after the server profile's preferences: its language and time zone win when
 * set (so they follow the user between browsers); unset ones leave this browser's settings.
 * Returns `s` itself when nothing changes.
 */
export function mergeServerPrefs(s: Settings, p: { locale: string | null; time_zone: string | null }): Settings {
  const fromServer = languageFromLocale(p.locale);
  const language = fromServer === "auto" ? s.language : fromServer;
  const timeZone = p.time_zone && isValidTimeZone(p.time_zone) ? p.time_zone : s.timeZone;
  if (language === s.language && timeZone === s.timeZone) return s;
  return { ...s, language, timeZone };
}
