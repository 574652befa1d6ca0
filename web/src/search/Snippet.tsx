// A search hit's snippet: its segments as text, matches inside <mark>. Never HTML: the server's
// text reaches the DOM only as text nodes.

import type { SnippetPart } from "../api/types";

export function Snippet({ parts }: { parts: readonly SnippetPart[] }) {
  return (
    <span class="snippet">
      {parts.map((p, i) => (p.highlighted ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>))}
    </span>
  );
}
