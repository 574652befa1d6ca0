// Dates and times with Intl, in the user's chosen time zone and language.

export interface TimeContext {
  locale: string;
  timeZone: string;
}

const cache = new Map<string, Intl.DateTimeFormat>();

function fmt(ctx: TimeContext, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${ctx.locale}|${ctx.timeZone}|${JSON.stringify(opts)}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(ctx.locale, { ...opts, timeZone: ctx.timeZone });
    cache.set(key, f);
  }
  return f;
}

/** `14:05` (24-hour in zh-CN, `2:05 PM` in en). */
export function formatTime(iso: string | Date, ctx: TimeContext): string {
  const opts: Intl.DateTimeFormatOptions = ctx.locale.startsWith("zh")
    ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }
    : { hour: "numeric", minute: "2-digit" };
  return fmt(ctx, opts).format(new Date(iso));
}

/** A date, e.g. "Nov 25, 2026" / "2026年11月25日". */
export function formatDate(iso: string | Date, ctx: TimeContext): string {
  return fmt(ctx, { dateStyle: "medium" }).format(new Date(iso));
}

/** The full date and time, for tooltips. */
export function formatDateTime(iso: string | Date, ctx: TimeContext): string {
  return fmt(ctx, { dateStyle: "full", timeStyle: "short" }).format(new Date(iso));
}

/** The calendar day in the zone, as `YYYY-MM-DD`: which day separator a message falls under. */
export function dayKey(iso: string | Date, timeZone: string): string {
  const parts = fmt({ locale: "en-CA", timeZone }, { year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(
    new Date(iso),
  );
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "00";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/**
 * A day separator's label: "Today", "Yesterday" (from the catalogue) or the date, with the
 * year only when it is not the current one.
 */
export function formatDay(
  iso: string | Date,
  ctx: TimeContext,
  words: { today: string; yesterday: string },
  now: Date = new Date(),
): string {
  const day = dayKey(iso, ctx.timeZone);
  const today = dayKey(now, ctx.timeZone);
  if (day === today) return words.today;
  const yesterday = dayKey(new Date(now.getTime() - 86_400_000), ctx.timeZone);
  if (day === yesterday) return words.yesterday;
  const sameYear = day.slice(0, 4) === today.slice(0, 4);
  return fmt(ctx, { weekday: "long", month: "long", day: "numeric", ...(sameYear ? {} : { year: "numeric" }) }).format(
    new Date(iso),
  );
}

/** Every IANA zone the browser knows, for the settings picker. */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  const zones = intl.supportedValuesOf?.("timeZone") ?? [];
  return zones.includes("UTC") ? zones : ["UTC", ...zones];
}
