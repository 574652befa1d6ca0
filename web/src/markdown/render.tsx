// Renders the Markdown tree as Preact elements from a fixed set (p, br, strong, em, del, code,
// pre, blockquote, ul, ol, li, h1-h3 as styled spans, a, span). Text is always a text node, so
// nothing in a message can become markup; links open in a new tab without an opener.

import type { ComponentChildren } from "preact";
import { parseMarkdown, type Block, type Inline } from "./parse";

export interface RenderContext {
  /** Usernames known to the client (lowercase), so unknown @words stay plain text. */
  isUser: (name: string) => boolean;
  /** The viewer's username (lowercase): their mentions are highlighted. */
  me: string | null;
}

function inline(nodes: Inline[], ctx: RenderContext): ComponentChildren[] {
  return nodes.map((n, i) => {
    switch (n.t) {
      case "text":
        return n.v;
      case "br":
        return <br key={i} />;
      case "code":
        return <code key={i}>{n.v}</code>;
      case "strong":
        return <strong key={i}>{inline(n.c, ctx)}</strong>;
      case "em":
        return <em key={i}>{inline(n.c, ctx)}</em>;
      case "del":
        return <del key={i}>{inline(n.c, ctx)}</del>;
      case "link":
        return (
          <a key={i} href={n.href} target="_blank" rel="noopener noreferrer nofollow">
            {inline(n.c, ctx)}
          </a>
        );
      case "mention": {
        const lower = n.name.toLowerCase();
        const broadcast = lower === "channel" || lower === "here" || lower === "all" || lower === "everyone";
        if (!broadcast && !ctx.isUser(lower)) return `@${n.name}`;
        const mine = broadcast || lower === ctx.me;
        return (
          <span key={i} class={mine ? "mention mention-me" : "mention"}>
            @{n.name}
          </span>
        );
      }
    }
  });
}

function block(b: Block, i: number, ctx: RenderContext): ComponentChildren {
  switch (b.t) {
    case "p":
      return <p key={i}>{inline(b.c, ctx)}</p>;
    case "pre":
      return (
        <pre key={i}>
          <code>{b.v}</code>
        </pre>
      );
    case "quote":
      return <blockquote key={i}>{b.c.map((c, j) => block(c, j, ctx))}</blockquote>;
    case "ul":
      return (
        <ul key={i}>
          {b.items.map((item, j) => (
            <li key={j}>{inline(item, ctx)}</li>
          ))}
        </ul>
      );
    case "ol":
      return (
        <ol key={i} start={b.start}>
          {b.items.map((item, j) => (
            <li key={j}>{inline(item, ctx)}</li>
          ))}
        </ol>
      );
    case "h":
      return (
        <p key={i} class={`md-h md-h${b.level}`}>
          {inline(b.c, ctx)}
        </p>
      );
  }
}

export function Markdown({ text, ctx }: { text: string; ctx: RenderContext }) {
  const blocks = parseMarkdown(text);
  return <div class="md">{blocks.map((b, i) => block(b, i, ctx))}</div>;
}
