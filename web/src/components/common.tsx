// Small shared pieces: avatars with presence, the modal dialog, and helpers for user names.

import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import type { User, UserId } from "../api/types";
import { useT } from "../i18n";
import { Icon } from "./icons";

export function displayName(u: User | undefined, fallback: string): string {
  return u ? u.display_name || u.username : fallback;
}

function hue(id: number): number {
  return (id * 137) % 360;
}

export function initials(u: User | undefined): string {
  const name = (u?.display_name || u?.username || "?").trim();
  const parts = name.split(/\s+/).filter(Boolean);
  if (parts.length >= 2) return (Array.from(parts[0]!)[0]! + Array.from(parts[1]!)[0]!).toUpperCase();
  return Array.from(name).slice(0, 2).join("").toUpperCase();
}

export function Avatar({
  user,
  id,
  size = 36,
  presence,
}: {
  user: User | undefined;
  id: UserId;
  size?: number;
  presence?: "online" | "offline" | undefined;
}) {
  return (
    <span
      class="avatar"
      style={{ width: `${size}px`, height: `${size}px`, background: `hsl(${hue(id)} 45% 42%)`, fontSize: `${size * 0.4}px` }}
      aria-hidden="true"
    >
      {initials(user)}
      {presence && <span class={`presence-dot ${presence}`} />}
    </span>
  );
}

export function PresenceDot({ status, label }: { status: "online" | "offline" | undefined; label: string }) {
  return <span class={`presence-inline ${status ?? "offline"}`} role="img" aria-label={label} title={label} />;
}

/** A modal dialog: focus moves in, Esc or the backdrop closes it, focus returns after. */
export function Modal({
  title,
  onClose,
  children,
  wide,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  wide?: boolean;
}) {
  const t = useT();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    const first = box.current?.querySelector<HTMLElement>("input, textarea, select, button:not(.modal-close)");
    (first ?? box.current)?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        onClose();
      } else if (e.key === "Tab" && box.current) {
        const focusable = [...box.current.querySelectorAll<HTMLElement>("button, input, textarea, select, a[href], [tabindex='0']")].filter(
          (el) => !el.hasAttribute("disabled"),
        );
        const firstEl = focusable[0];
        const lastEl = focusable[focusable.length - 1];
        if (!firstEl || !lastEl) return;
        if (e.shiftKey && document.activeElement === firstEl) {
          e.preventDefault();
          lastEl.focus();
        } else if (!e.shiftKey && document.activeElement === lastEl) {
          e.preventDefault();
          firstEl.focus();
        }
      }
    };
    document.addEventListener("keydown", onKey, true);
    return () => {
      document.removeEventListener("keydown", onKey, true);
      previous?.focus?.();
    };
  }, []);
  return (
    <div class="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div class={`modal ${wide ? "modal-wide" : ""}`} role="dialog" aria-modal="true" aria-labelledby="modal-title" ref={box} tabIndex={-1}>
        <header class="modal-head">
          <h2 id="modal-title">{title}</h2>
          <button type="button" class="icon-btn modal-close" onClick={onClose} aria-label={t("dialog.close")}>
            <Icon name="close" />
          </button>
        </header>
        <div class="modal-body">{children}</div>
      </div>
    </div>
  );
}
