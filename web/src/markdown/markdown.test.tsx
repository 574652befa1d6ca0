// The Markdown renderer: what it understands, and that nothing in a message becomes markup.

import { describe, expect, it } from "vitest";
import { renderToString } from "preact-render-to-string";
import { parseBlocks, parseInline, safeHref } from "./parse";
import { Markdown, type RenderContext } from "./render";

const ctx: RenderContext = { isUser: (n) => ["alice", "bob"].includes(n), me: "alice" };
const html = (text: string) => renderToString(<Markdown text={text} ctx={ctx} />);

describe("markdown", () => {
  it("renders the chat dialect", () => {
    expect(html("**bold** *em* _em_ ~~gone~~ `code`")).toBe(
      '<div class="md"><p><strong>bold</strong> <em>em</em> <em>em</em> <del>gone</del> <code>code</code></p></div>',
    );
    expect(html("line one\nline two")).toBe('<div class="md"><p>line one<br/>line two</p></div>');
    expect(html("```\nlet x = 1;\n<b>\n```")).toBe('<div class="md"><pre><code>let x = 1;\n&lt;b></code></pre></div>');
    expect(html("- a\n- b")).toBe('<div class="md"><ul><li>a</li><li>b</li></ul></div>');
    expect(html("3. c\n4. d")).toBe('<div class="md"><ol start="3"><li>c</li><li>d</li></ol></div>');
    expect(html("> quoted\n\nafter")).toBe('<div class="md"><blockquote><p>quoted</p></blockquote><p>after</p></div>');
    expect(html("# Title")).toBe('<div class="md"><p class="md-h md-h1">Title</p></div>');
  });

  it("keeps snake_case and arithmetic as text", () => {
    expect(html("snake_case_name and 2 * 3 * 4")).toBe('<div class="md"><p>snake_case_name and 2 * 3 * 4</p></div>');
    expect(html("\\*not em\\*")).toBe('<div class="md"><p>*not em*</p></div>');
  });

  it("links only to http, https and mailto, in a new tab without opener", () => {
    expect(html("[docs](https://example.com/a?b=1)")).toBe(
      '<div class="md"><p><a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer nofollow">docs</a></p></div>',
    );
    expect(html("see https://example.com/x_(y). next")).toContain('href="https://example.com/x_(y)"');
    expect(html("see https://example.com/x_(y). next")).toContain("</a>. next");
    expect(safeHref("mailto:a@example.com")).toBe("mailto:a@example.com");
    for (const bad of ["javascript:alert(1)", "JAVASCRIPT:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>", "vbscript:x", "/relative", "//evil.example"]) {
      expect(safeHref(bad)).toBeNull();
    }
  });

  it("renders mentions of known users and broadcasts, highlighting the viewer", () => {
    expect(html("hi @alice and @bob, @channel, @nobody, a@bob.com")).toBe(
      '<div class="md"><p>hi <span class="mention mention-me">@alice</span> and <span class="mention">@bob</span>, ' +
        '<span class="mention mention-me">@channel</span>, @nobody, a@bob.com</p></div>',
    );
  });

  const vectors = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<svg onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    "**<img src=x onerror=alert(1)>**",
    "`<script>`",
    '[<img src=x onerror=alert(1)>](https://example.com)',
    '"><script>alert(1)</script>',
    "<style>body{display:none}</style>",
    "javascript:alert(1)",
  ];

  const text = (out: string) =>
    out
      .replace(/<br\/>/g, "\n")
      .replace(/<[^>]+>/g, "")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, "&");

  it.each(vectors)("renders %s as text", (v) => {
    const out = html(v);
    // Every tag in the output is one the renderer makes, with no event handler attributes.
    const tags = [...out.matchAll(/<\/?([a-z0-9]+)/g)].map((m) => m[1]);
    for (const tag of tags) {
      expect(["div", "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "span"]).toContain(tag);
    }
    expect(out).not.toMatch(/<[^>]*\son[a-z]+=/i);
    expect(out).not.toMatch(/href="\s*(javascript|data|vbscript):/i);
    // The would-be markup is still visible, as text.
    const name = /<([a-z]+)/i.exec(v)?.[1];
    if (name) expect(text(out)).toContain(`<${name}`);
    if (v.includes("alert(1)")) expect(text(out)).toContain("alert(1)");
  });

  it("escapes angle brackets and ampersands in text", () => {
    expect(html("a < b && c > d")).toBe('<div class="md"><p>a &lt; b &amp;&amp; c > d</p></div>');
  });

  it("does not recurse without bound", () => {
    const deep = "> ".repeat(50) + "x";
    expect(() => parseBlocks(deep)).not.toThrow();
    const nested = "**".repeat(200) + "x" + "**".repeat(200);
    expect(() => parseInline(nested)).not.toThrow();
  });
});
