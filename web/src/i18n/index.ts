// Translation: the two catalogues, picking the language from the setting and the browser,
// `{name}` interpolation and plural forms (`key_one` / `key_other`).

import { useStore } from "../state/store";
import { createStore } from "../state/store";
import { settings, effectiveTimeZone, type LanguageSetting } from "../state/settings";
import { en, type MessageKey } from "./en";
import { zhCN } from "./zh-CN";
import type { TimeContext } from "./time";

export type Locale = "en" | "zh-CN";
export type { MessageKey };

export const catalogs: Record<Locale, Record<MessageKey, string>> = { en, "zh-CN": zhCN };

/** The language to show: the setting, else the first browser language we have. */
export function pickLocale(setting: LanguageSetting, browser: readonly string[]): Locale {
  if (setting !== "auto") return setting;
  for (const tag of browser) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

export type Params = Record<string, string | number>;

export function translate(locale: Locale, key: MessageKey, params?: Params): string {
  const text = catalogs[locale][key] ?? en[key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** A plural form: looks up `${base}_one` or `${base}_other` by the locale's rules. */
export function translatePlural(locale: Locale, base: string, count: number, params?: Params): string {
  const form = new Intl.PluralRules(locale).select(count) === "one" ? "one" : "other";
  return translate(locale, `${base}_${form}` as MessageKey, { count, ...params });
}

function browserLanguages(): readonly string[] {
  return typeof navigator === "undefined" ? [] : navigator.languages?.length ? navigator.languages : [navigator.language];
}

interface I18nState {
  locale: Locale;
  timeZone: string;
}

function compute(): I18nState {
  const s = settings.get();
  return { locale: pickLocale(s.language, browserLanguages()), timeZone: effectiveTimeZone(s) };
}

export const i18n = createStore<I18nState>(compute());
settings.subscribe(() => {
  const next = compute();
  const cur = i18n.get();
  if (next.locale !== cur.locale || next.timeZone !== cur.timeZone) i18n.set(next);
  if (typeof document !== "undefined") document.documentElement.lang = next.locale;
});

export interface Translator {
  (key: MessageKey, params?: Params): string;
  plural(base: string, count: number, params?: Params): string;
  locale: Locale;
  time: TimeContext;
}

export function translator(state: I18nState): Translator {
  const t = ((key: MessageKey, params?: Params) => translate(state.locale, key, params)) as Translator;
  t.plural = (base, count, params) => translatePlural(state.locale, base, count, params);
  t.locale = state.locale;
  t.time = { locale: state.locale, timeZone: state.timeZone };
  return t;
}

const translators = new WeakMap<I18nState, Translator>();

/** The translator for the current language; re-renders the component when it changes. */
export function useT(): Translator {
  const state = useStore(i18n, (s) => s);
  let t = translators.get(state);
  if (!t) {
    t = translator(state);
    translators.set(state, t);
  }
  return t;
}

/** The translator outside components (notifications, the title). */
export function currentT(): Translator {
  return translator(i18n.get());
}
