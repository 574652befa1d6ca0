// The org watermark: a faint, tiled, rotated image of the viewer's name and id drawn over the
// chat area, as one CSS background (an SVG data URL) so it costs no DOM per message. The name
// is user-controlled text, so it is escaped for XML and the URL is percent-encoded.

import { ApiError, type ApiClient } from "../api/client";
import { createStore } from "./store";

export interface ClientSettings {
  watermark: boolean;
}

/** The org's settings for this client; all off until the server says otherwise. */
export const clientSettings = createStore<ClientSettings>({ watermark: false });

/** Asks the server for the org's client settings (an older server has none: all stay off). */
export async function loadClientSettings(client: Pick<ApiClient, "clientSettings">): Promise<void> {
  try {
    const s = await client.clientSettings();
    clientSettings.set({ watermark: s.watermark === true });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) clientSettings.set({ watermark: false });
    else throw e;
  }
}

/** Longest name drawn; a longer one is cut with an ellipsis so the tile stays readable. */
export const MAX_WATERMARK_NAME = 40;

const TILE_WIDTH = 320;
const TILE_HEIGHT = 200;

/** Escapes text for an XML text node or attribute value. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/**
 * Drops what XML 1.0 cannot hold (control characters, U+FFFE/U+FFFF) or what cannot be
 * percent-encoded (lone surrogates), plus bidi controls that would reorder the line; cuts to
 * `MAX_WATERMARK_NAME` characters.
 */
export function cleanName(name: string): string {
  const clean = name
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]/g, "")
    .trim();
  const chars = [...clean];
  return chars.length > MAX_WATERMARK_NAME ? chars.slice(0, MAX_WATERMARK_NAME - 1).join("") + "…" : clean;
}

/** The two lines of the watermark: the display name, then the username and user id. */
export function watermarkLines(displayName: string, username: string, userId: number): [string, string] {
  const name = cleanName(displayName) || cleanName(username);
  return [name, `@${cleanName(username)} · #${Math.trunc(userId)}`];
}

/**
 * One tile as SVG: the lines rotated by -30°, mid grey at low opacity so they stay faint yet
 * readable on the light and the dark theme alike.
 */
export function watermarkSvg(lines: readonly string[]): string {
  const cx = TILE_WIDTH / 2;
  const cy = TILE_HEIGHT / 2;
  const spans = lines
    .map((line, i) => `<tspan x="${cx}" dy="${i === 0 ? -0.2 : 1.4}em">${escapeXml(line)}</tspan>`)
    .join("");
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${TILE_WIDTH}" height="${TILE_HEIGHT}">` +
    `<text x="${cx}" y="${cy}" transform="rotate(-30 ${cx} ${cy})" text-anchor="middle" ` +
    `font-family="system-ui, sans-serif" font-size="14" fill="#808080" fill-opacity="0.2">` +
    spans +
    `</text></svg>`
  );
}

/** The CSS `background-image` value for the viewer's watermark. */
export function watermarkBackground(displayName: string, username: string, userId: number): string {
  const svg = watermarkSvg(watermarkLines(displayName, username, userId));
  // encodeURIComponent leaves no `"` or `)` that could end the url("...") early.
  return `url("data:image/svg+xml,${encodeURIComponent(svg)}")`;
}
