// The message search box in the page headers, and its keyboard shortcuts: Ctrl/Cmd+K anywhere,
// or "/" when not typing, focus it (or open the search page where there is no box). Enter opens
// the results (the results view itself is loaded on first use).

import { useEffect, useRef, useState } from "preact/hooks";
import { useT } from "../i18n";
import { navigate, route } from "../state/router";
import { useStore } from "../state/store";
import { Icon } from "./icons";

export const SEARCH_INPUT = "input.search-input";

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT";
}

/** Installs the shortcuts; returns the uninstaller. */
export function installSearchShortcuts(): () => void {
  const onKey = (e: KeyboardEvent) => {
    const combo = (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "k";
    const slash = e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !typing(e.target);
    if (!combo && !slash) return;
    e.preventDefault();
    const box = document.querySelector<HTMLInputElement>(SEARCH_INPUT);
    if (box && box.offsetParent !== null) {
      box.focus();
      box.select();
    } else {
      const r = route.get();
      navigate({ name: "search", q: r.name === "search" ? r.q : "" });
      requestAnimationFrame(() => document.querySelector<HTMLInputElement>(SEARCH_INPUT)?.focus());
    }
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}

export function SearchBox() {
  const t = useT();
  const current = useStore(route, (r) => (r.name === "search" ? r.q : null));
  const [value, setValue] = useState(current ?? "");
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (current !== null) setValue(current);
  }, [current]);
  const submit = (e: Event) => {
    e.preventDefault();
    const q = value.trim();
    navigate({ name: "search", q }, current !== null);
  };
  return (
    <form class="search-box" role="search" onSubmit={submit}>
      <label for="search-q" class="search-box-icon" aria-hidden="true">
        <Icon name="search" size={15} />
      </label>
      <input
        ref={input}
        id="search-q"
        class="search-input"
        type="search"
        name="q"
        value={value}
        onInput={(e) => setValue(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape" && value === "") input.current?.blur();
        }}
        placeholder={t("search.placeholder")}
        aria-label={t("search.label")}
        aria-keyshortcuts="Control+K Meta+K /"
        enterKeyHint="search"
        autoComplete="off"
      />
    </form>
  );
}
