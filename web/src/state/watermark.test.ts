// The org watermark's image: the viewer's name and id in an SVG tile, with user-controlled text
// escaped (no markup, no breaking out of the CSS url), and the setting loaded from the server.

import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import {
  MAX_WATERMARK_NAME,
  cleanName,
  clientSettings,
  escapeXml,
  loadClientSettings,
  watermarkBackground,
  watermarkLines,
  watermarkSvg,
} from "./watermark";

/** The SVG inside a `url("data:image/svg+xml,...")` value. */
function svgOf(background: string): string {
  const m = /^url\("data:image\/svg\+xml,([^"]*)"\)$/.exec(background);
  expect(m, background).not.toBeNull();
  return decodeURIComponent(m![1]!);
}

/** The text a tile shows: its tspans' contents with the XML entities resolved. */
function textOf(svg: string): string[] {
  return [...svg.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) =>
    m[1]!
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, "&"),
  );
}

describe("watermark image", () => {
  it("shows the display name, then the username and the user id", () => {
    expect(watermarkLines("Alice Liddell", "alice", 42)).toEqual(["Alice Liddell", "@alice · #42"]);
    const svg = svgOf(watermarkBackground("Alice Liddell", "alice", 42));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('rotate(-30');
    expect(textOf(svg)).toEqual(["Alice Liddell", "@alice · #42"]);
  });

  it("falls back to the username when there is no display name", () => {
    expect(watermarkLines("", "bob", 7)[0]).toBe("bob");
    expect(watermarkLines(" \u202E ", "bob", 7)[0]).toBe("bob");
  });

  it("escapes markup in the name so it stays text", () => {
    expect(escapeXml(`<a href="x">&'`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
    const hostile = `</tspan></text><script>alert(1)</script><image href="x" onerror="alert(2)"/>`;
    const svg = watermarkSvg([hostile, "@x · #1"]);
    expect(svg).not.toContain("<script");
    expect(svg).not.toContain("<image");
    expect(svg.match(/<text /g)).toHaveLength(1);
    expect(textOf(svg)).toEqual([hostile, "@x · #1"]);
  });

  it("cannot end the CSS url early or add declarations", () => {
    const background = watermarkBackground(`") ; background: red; x:url("`, `a")b`, 1);
    // The only quotes and parentheses are the url("...") wrapper's own.
    const inner = background.slice('url("'.length, -'")'.length);
    expect(inner).not.toMatch(/["\\\s;]/);
    expect(textOf(svgOf(background))[0]).toBe(`") ; background: red; x:url("`);
  });

  it("drops characters XML or the URL cannot carry and bidi overrides", () => {
    expect(cleanName("a\u0000b\u0007c\u202Ed\uFFFFe")).toBe("abcde");
    // A lone surrogate would make encodeURIComponent throw.
    expect(cleanName("x\uD800y\uDC00z")).toBe("xyz");
    expect(() => watermarkBackground("x\uD800y", "u\uDFFF", 3)).not.toThrow();
    // A pair stays: it is one character.
    expect(cleanName("猫😀")).toBe("猫😀");
  });

  it("cuts long names", () => {
    const long = "名".repeat(200);
    const cut = cleanName(long);
    expect([...cut]).toHaveLength(MAX_WATERMARK_NAME);
    expect(cut.endsWith("…")).toBe(true);
    expect(cleanName("short")).toBe("short");
  });

  it("draws whole user ids only", () => {
    expect(watermarkLines("A", "a", 12.7)[1]).toBe("@a · #12");
  });
});

describe("client settings", () => {
  it("turns the watermark on only when the server says so", async () => {
    await loadClientSettings({ clientSettings: async () => ({ watermark: true }) });
    expect(clientSettings.get().watermark).toBe(true);
    await loadClientSettings({ clientSettings: async () => ({}) });
    expect(clientSettings.get().watermark).toBe(false);
  });

  it("treats a server without the endpoint as off and passes other errors on", async () => {
    clientSettings.set({ watermark: true });
    await loadClientSettings({
      clientSettings: async () => {
        throw new ApiError(404, "not_found", "no such endpoint");
      },
    });
    expect(clientSettings.get().watermark).toBe(false);
    await expect(
      loadClientSettings({
        clientSettings: async () => {
          throw new ApiError(500, "internal", "bug");
        },
      }),
    ).rejects.toThrow();
  });
});
