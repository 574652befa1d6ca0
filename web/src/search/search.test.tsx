// Message search: the query string for the filters (blanks left out, days in the viewer's zone,
// `to` exclusive), and snippets rendered as text with the matches in <mark>.

import { describe, expect, it } from "vitest";
import { renderToString } from "preact-render-to-string";
import { query } from "../api/client";
import type { SearchHit } from "../api/types";
import { dayStart, EMPTY_SEARCH, hasCriteria, hitKey, isFileHit, nextDay, searchParams } from "./query";
import { Snippet } from "./Snippet";

const qs = (f: Partial<typeof EMPTY_SEARCH>, zone = "UTC", offset = 0) =>
  query({ ...searchParams({ ...EMPTY_SEARCH, ...f }, zone, offset) });

describe("search query", () => {
  it("leaves out blanks and defaults", () => {
    expect(qs({ q: "  release  " })).toBe("?q=release&kind=all&limit=20");
    expect(qs({})).toBe("?kind=all&limit=20");
    expect(hasCriteria(EMPTY_SEARCH)).toBe(false);
    expect(hasCriteria({ ...EMPTY_SEARCH, q: "   " })).toBe(false);
    expect(hasCriteria({ ...EMPTY_SEARCH, mentionsMe: true })).toBe(true);
  });

  it("encodes Chinese, quotes and exclusions", () => {
    expect(qs({ q: '即时通讯 "go live" -draft' })).toBe(
      "?q=%E5%8D%B3%E6%97%B6%E9%80%9A%E8%AE%AF%20%22go%20live%22%20-draft&kind=all&limit=20",
    );
    expect(qs({ q: "a&b=c#d" })).toBe("?q=a%26b%3Dc%23d&kind=all&limit=20");
  });

  it("passes the filters, the sort and the page", () => {
    expect(
      qs({ q: "x", channelId: 4, senderId: 9, inThread: true, mentionsMe: true, hasFile: true, sort: "newest" }, "UTC", 40),
    ).toBe("?q=x&channel_id=4&sender_id=9&has_file=true&in_thread=true&mentions_me=true&kind=all&sort=newest&offset=40&limit=20");
    expect(qs({ q: "x", sort: "relevance" })).toBe("?q=x&kind=all&limit=20");
    expect(qs({ q: "x", sort: "oldest" })).toBe("?q=x&kind=all&sort=oldest&limit=20");
  });

  it("asks for messages and files unless told otherwise; the kind alone is no search", () => {
    expect(qs({ q: "x", kind: "message" })).toBe("?q=x&limit=20");
    expect(qs({ q: "x", kind: "file" })).toBe("?q=x&kind=file&limit=20");
    expect(hasCriteria({ ...EMPTY_SEARCH, kind: "file" })).toBe(false);
  });

  it("tells file hits from message hits, old servers' hits being messages", () => {
    const base = { channel_id: 1, sender_id: 2, created_at: "2026-11-25T00:00:00Z", thread_root_id: null, score: 1, snippet: [] };
    const file: SearchHit = {
      ...base,
      kind: "file",
      file_id: 7,
      snippet_source: "file_name",
      file: { id: 7, channel_id: 1, name: "季度报告.pdf", mime: "application/pdf", size: 10, version: 1, created_by: 2, created_at: base.created_at, updated_at: base.created_at },
    };
    const legacy = { ...base, message_id: 7, snippet_source: "body" } as SearchHit;
    expect(isFileHit(file)).toBe(true);
    expect(isFileHit(legacy)).toBe(false);
    expect(isFileHit({ ...legacy, kind: "message" })).toBe(false);
    expect(hitKey(file)).toBe("file-7");
    expect(hitKey(legacy)).toBe("message-7");
  });

  it("reads the date range as whole days in the viewer's zone, `to` exclusive", () => {
    const p = searchParams({ ...EMPTY_SEARCH, fromDay: "2026-11-01", toDay: "2026-11-25" }, "Asia/Shanghai");
    expect(p.from).toBe("2026-10-31T16:00:00.000Z");
    expect(p.to).toBe("2026-11-25T16:00:00.000Z");
    // The `+`-free UTC form survives the query string.
    expect(query({ from: p.from })).toBe("?from=2026-10-31T16%3A00%3A00.000Z");
    const ny = searchParams({ ...EMPTY_SEARCH, fromDay: "2026-07-01", toDay: "2026-07-01" }, "America/New_York");
    expect(ny.from).toBe("2026-07-01T04:00:00.000Z");
    expect(ny.to).toBe("2026-07-02T04:00:00.000Z");
    expect(searchParams({ ...EMPTY_SEARCH, fromDay: "garbage" }, "UTC").from).toBeUndefined();
  });

  it("steps days across months, years and leap days", () => {
    expect(nextDay("2026-01-31")).toBe("2026-02-01");
    expect(nextDay("2026-12-31")).toBe("2027-01-01");
    expect(nextDay("2028-02-28")).toBe("2028-02-29");
    expect(nextDay("nope")).toBeNull();
    expect(dayStart("2026-03-08", "America/New_York")).toBe("2026-03-08T05:00:00.000Z");
  });
});

describe("snippets", () => {
  const html = (parts: { text: string; highlighted: boolean }[]) => renderToString(<Snippet parts={parts} />);

  it("marks the matched segments", () => {
    expect(
      html([
        { text: "企业级", highlighted: false },
        { text: "即时通讯", highlighted: true },
        { text: "工具上线", highlighted: false },
      ]),
    ).toBe('<span class="snippet"><span>企业级</span><mark>即时通讯</mark><span>工具上线</span></span>');
  });

  it("renders markup in the text as text", () => {
    const out = html([
      { text: "<img src=x onerror=alert(1)>", highlighted: false },
      { text: "<script>alert(2)</script>", highlighted: true },
    ]);
    expect(out).toBe(
      '<span class="snippet"><span>&lt;img src=x onerror=alert(1)></span><mark>&lt;script>alert(2)&lt;/script></mark></span>',
    );
    expect(out).not.toContain("<img");
    expect(out).not.toContain("<script");
  });

  it("renders an empty snippet as an empty span", () => {
    expect(html([])).toBe('<span class="snippet"></span>');
  });
});
