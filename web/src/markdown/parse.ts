// A small Markdown dialect for chat, parsed into a tree of known node kinds. There is no HTML
// in it at all: text stays text (the renderer makes DOM text nodes, never markup), and links
// are kept only when their URL is absolute http(s) or mailto. What it understands: paragraphs
// with line breaks, ``` code blocks, `code`, **bold**, *italic* / _italic_, ~~strike~~,
// [links](https://…), bare https:// links, > quotes, - and 1. lists, # headings, @mentions,
// and backslash escapes.

export type Inline =
  | { t: "text"; v: string }
  | { t: "code"; v: string }
  | { t: "strong"; c: Inline[] }
  | { t: "em"; c: Inline[] }
  | { t: "del"; c: Inline[] }
  | { t: "link"; href: string; c: Inline[] }
  | { t: "mention"; name: string }
  | { t: "br" };

export type Block =
  | { t: "p"; c: Inline[] }
  | { t: "pre"; lang: string; v: string }
  | { t: "quote"; c: Block[] }
  | { t: "ul"; items: Inline[][] }
  | { t: "ol"; start: number; items: Inline[][] }
  | { t: "h"; level: 1 | 2 | 3; c: Inline[] };

const SAFE_PROTOCOLS = new Set(["http:", "https:", "mailto:"]);

/** The URL if it is absolute http(s) or mailto and has no whitespace or control characters. */
export function safeHref(raw: string): string | null {
  const url = raw.trim();
  // eslint-disable-next-line no-control-regex
  if (!url || /[\s\u0000-\u001f\u007f]/.test(url)) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (!SAFE_PROTOCOLS.has(parsed.protocol)) return null;
  return parsed.href;
}

const MAX_DEPTH = 4;
const ESCAPABLE = "\\`*_{}[]()#+-.!~>@|";
const WORD = /[A-Za-z0-9_]/;
const NAME = /[A-Za-z0-9._-]/;

function pushText(out: Inline[], v: string): void {
  if (!v) return;
  const last = out[out.length - 1];
  if (last && last.t === "text") last.v += v;
  else out.push({ t: "text", v });
}

/** Finds the closing `delim` for an emphasis opened at `from`; content must not be padded. */
function findClose(s: string, from: number, delim: string): number {
  let j = s.indexOf(delim, from);
  while (j >= 0) {
    const inner = s.slice(from, j);
    if (inner && inner.trim() === inner && s[j - 1] !== "\\") {
      if (delim === "_" || delim === "__") {
        const after = s[j + delim.length];
        if (!after || !WORD.test(after)) return j;
      } else {
        return j;
      }
    }
    j = s.indexOf(delim, j + 1);
  }
  return -1;
}

/** Trailing punctuation is not part of a bare URL; a `)` stays only if it closes a `(`. */
function trimUrl(url: string): string {
  let end = url.length;
  while (end > 0) {
    const c = url[end - 1]!;
    if (".,;:!?'\"".includes(c)) end--;
    else if (c === ")") {
      const open = (url.slice(0, end).match(/\(/g) ?? []).length;
      const close = (url.slice(0, end).match(/\)/g) ?? []).length;
      if (close > open) end--;
      else break;
    } else break;
  }
  return url.slice(0, end);
}

export function parseInline(s: string, depth = 0): Inline[] {
  const out: Inline[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    const prev = i > 0 ? s[i - 1]! : "";
    if (c === "\\" && i + 1 < s.length && ESCAPABLE.includes(s[i + 1]!)) {
      pushText(out, s[i + 1]!);
      i += 2;
      continue;
    }
    if (c === "\n") {
      out.push({ t: "br" });
      i++;
      continue;
    }
    if (c === "`") {
      let run = 1;
      while (s[i + run] === "`") run++;
      const fence = "`".repeat(run);
      const close = s.indexOf(fence, i + run);
      if (close > i + run - 1) {
        const code = s.slice(i + run, close);
        const trimmed = code.length > 2 && code.startsWith(" ") && code.endsWith(" ") ? code.slice(1, -1) : code;
        if (trimmed) {
          out.push({ t: "code", v: trimmed });
          i = close + run;
          continue;
        }
      }
      pushText(out, fence);
      i += run;
      continue;
    }
    if (depth < MAX_DEPTH) {
      const emph: [string, "strong" | "em" | "del"][] = [
        ["**", "strong"],
        ["__", "strong"],
        ["~~", "del"],
        ["*", "em"],
        ["_", "em"],
      ];
      let matched = false;
      for (const [delim, kind] of emph) {
        if (!s.startsWith(delim, i)) continue;
        if (delim[0] === "_" && prev && WORD.test(prev)) continue;
        const close = findClose(s, i + delim.length, delim);
        if (close < 0) continue;
        out.push({ t: kind, c: parseInline(s.slice(i + delim.length, close), depth + 1) });
        i = close + delim.length;
        matched = true;
        break;
      }
      if (matched) continue;
    }
    if (c === "[") {
      const close = s.indexOf("]", i + 1);
      if (close > i + 1 && s[close + 1] === "(") {
        const end = s.indexOf(")", close + 2);
        if (end > close + 2) {
          const href = safeHref(s.slice(close + 2, end));
          if (href && depth < MAX_DEPTH) {
            out.push({ t: "link", href, c: parseInline(s.slice(i + 1, close), depth + 1) });
            i = end + 1;
            continue;
          }
          // Not a link we allow: show exactly what was written.
          pushText(out, s.slice(i, end + 1));
          i = end + 1;
          continue;
        }
      }
    }
    if ((c === "h" || c === "H") && (!prev || !WORD.test(prev))) {
      const m = /^https?:\/\/[^\s<>]+/i.exec(s.slice(i));
      if (m) {
        const url = trimUrl(m[0]);
        const href = safeHref(url);
        if (href && url.length > 8) {
          out.push({ t: "link", href, c: [{ t: "text", v: url }] });
          i += url.length;
          continue;
        }
      }
    }
    if (c === "@" && !(prev && WORD.test(prev))) {
      let end = i + 1;
      while (end < s.length && NAME.test(s[end]!)) end++;
      while (end > i + 1 && (s[end - 1] === "." || s[end - 1] === "-")) end--;
      if (end > i + 1) {
        out.push({ t: "mention", name: s.slice(i + 1, end) });
        i = end;
        continue;
      }
    }
    pushText(out, c);
    i++;
  }
  return out;
}

const FENCE = /^ {0,3}```\s*([\w+-]*)\s*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const BULLET = /^ {0,3}[-*+] +(.*)$/;
const ORDERED = /^ {0,3}(\d{1,9})[.)] +(.*)$/;
const HEADING = /^ {0,3}(#{1,3}) +(.+?)#*\s*$/;

function startsBlock(line: string): boolean {
  return FENCE.test(line) || QUOTE.test(line) || BULLET.test(line) || ORDERED.test(line) || HEADING.test(line);
}

export function parseBlocks(text: string, depth = 0): Block[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const out: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (!line.trim()) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !/^ {0,3}```\s*$/.test(lines[i]!)) body.push(lines[i++]!);
      i++;
      out.push({ t: "pre", lang: fence[1] ?? "", v: body.join("\n") });
      continue;
    }
    if (QUOTE.test(line) && depth < MAX_DEPTH) {
      const body: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i]!)) body.push(QUOTE.exec(lines[i++]!)![1]!);
      out.push({ t: "quote", c: parseBlocks(body.join("\n"), depth + 1) });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      out.push({ t: "h", level: heading[1]!.length as 1 | 2 | 3, c: parseInline(heading[2]!) });
      i++;
      continue;
    }
    if (BULLET.test(line)) {
      const items: Inline[][] = [];
      while (i < lines.length && BULLET.test(lines[i]!)) items.push(parseInline(BULLET.exec(lines[i++]!)![1]!));
      out.push({ t: "ul", items });
      continue;
    }
    const ordered = ORDERED.exec(line);
    if (ordered) {
      const items: Inline[][] = [];
      const start = Number(ordered[1]);
      while (i < lines.length && ORDERED.test(lines[i]!)) items.push(parseInline(ORDERED.exec(lines[i++]!)![2]!));
      out.push({ t: "ol", start, items });
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && lines[i]!.trim() && (para.length === 0 || !startsBlock(lines[i]!))) {
      para.push(lines[i++]!);
    }
    out.push({ t: "p", c: parseInline(para.join("\n")) });
  }
  return out;
}

const cache = new Map<string, Block[]>();

/** Parses with a bounded cache: the same texts are rendered again as the list scrolls. */
export function parseMarkdown(text: string): Block[] {
  let blocks = cache.get(text);
  if (!blocks) {
    blocks = parseBlocks(text);
    if (cache.size > 2000) cache.clear();
    cache.set(text, blocks);
  }
  return blocks;
}
