// A virtualised vertical list of variable-height rows: only the rows near the viewport are in
// the DOM. Rows are measured as they render (ResizeObserver); the list keeps the row under the
// top of the viewport in place when rows are added above, and sticks to the bottom while the
// user is there (a chat log).

import type { ComponentChildren } from "preact";
import { useLayoutEffect, useReducer, useRef, useState } from "preact/hooks";
import { computeOffsets, rowAt, visibleRange } from "../util/virtual";

export interface VirtualListProps<T> {
  items: readonly T[];
  itemKey: (item: T) => string;
  renderItem: (item: T) => ComponentChildren;
  estimate?: number;
  overscan?: number;
  /** Called when the user scrolls near the top (load older rows). */
  onNearTop?: () => void;
  /** Called when "scrolled to the newest row" changes. */
  onAtBottomChange?: (atBottom: boolean) => void;
  /** Rows that keep their place when rows are added above (others are skipped as anchors). */
  anchorable?: (item: T) => boolean;
  /** Changing this value scrolls to the bottom (e.g. a new conversation, or the user sent). */
  scrollToBottomToken?: unknown;
  /** A row to scroll into view (centred) when this key changes and the row is in `items`. */
  scrollToKey?: string | null;
  label: string;
  class?: string;
}

const BOTTOM_SLACK = 48;

export function VirtualList<T>(props: VirtualListProps<T>) {
  const { items, itemKey, estimate = 64, overscan = 600 } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const rowEls = useRef(new Map<string, HTMLElement>());
  const refFns = useRef(new Map<string, (el: HTMLElement | null) => void>());
  const [, remeasured] = useReducer((n: number) => n + 1, 0);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(800);
  const stick = useRef(true);
  const anchor = useRef<{ key: string; delta: number } | null>(null);
  const atBottomReported = useRef<boolean | null>(null);
  const observer = useRef<ResizeObserver | null>(null);

  const keys = items.map(itemKey);
  const offsets = computeOffsets(keys, heights.current, estimate);
  const total = offsets[keys.length] ?? 0;
  const { start, end } = visibleRange(offsets, scrollTop, viewport, overscan);

  if (!observer.current && typeof ResizeObserver !== "undefined") {
    observer.current = new ResizeObserver((entries) => {
      let changed = false;
      for (const e of entries) {
        const el = e.target as HTMLElement;
        const key = el.dataset.key;
        if (!key) continue;
        const h = el.offsetHeight;
        if (h > 0 && heights.current.get(key) !== h) {
          heights.current.set(key, h);
          changed = true;
        }
      }
      if (changed) remeasured(0);
    });
  }

  const report = (el: HTMLDivElement) => {
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK;
    stick.current = atBottom;
    if (atBottomReported.current !== atBottom) {
      atBottomReported.current = atBottom;
      props.onAtBottomChange?.(atBottom);
    }
  };

  const rememberAnchor = (el: HTMLDivElement, offs: Float64Array, ks: string[]) => {
    if (ks.length === 0) {
      anchor.current = null;
      return;
    }
    // Anchor on the first row at or below the top edge that keeps its place in the content
    // (headers such as "loading earlier messages" stay first when a page is prepended).
    let i = rowAt(offs, el.scrollTop);
    const canAnchor = props.anchorable;
    if (canAnchor) {
      let j = i;
      while (j < ks.length && !canAnchor(items[j]!)) j++;
      if (j < ks.length) i = j;
    }
    anchor.current = { key: ks[i]!, delta: el.scrollTop - offs[i]! };
  };

  // After every render: measure the rendered rows (synchronously, so positions are exact
  // before the browser paints), then restore the anchor row's position or stay at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    let measured = false;
    for (const [key, row] of rowEls.current) {
      const h = row.offsetHeight;
      if (h > 0 && heights.current.get(key) !== h) {
        heights.current.set(key, h);
        measured = true;
      }
    }
    if (measured) {
      // Render again with the true heights; the next pass positions the scroll.
      remeasured(0);
      return;
    }
    if (stick.current) {
      const target = el.scrollHeight - el.clientHeight;
      if (Math.abs(el.scrollTop - target) > 1) el.scrollTop = target;
    } else if (anchor.current) {
      const i = keys.indexOf(anchor.current.key);
      if (i >= 0) {
        const target = offsets[i]! + anchor.current.delta;
        if (Math.abs(el.scrollTop - target) > 1) el.scrollTop = target;
      }
    }
    rememberAnchor(el, offsets, keys);
    if (Math.abs(el.scrollTop - scrollTop) >= 1) setScrollTop(el.scrollTop);
    if (el.clientHeight !== viewport) setViewport(el.clientHeight);
    report(el);
  });

  useLayoutEffect(() => {
    stick.current = true;
    const el = scroller.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [props.scrollToBottomToken]);

  // Scroll to a row (a search hit): to its estimated place now, then onto the rendered row once
  // the rows around it are measured; the anchor keeps it there as heights settle.
  useLayoutEffect(() => {
    const el = scroller.current;
    const key = props.scrollToKey;
    if (!el || !key) return;
    const i = keys.indexOf(key);
    if (i < 0) return;
    stick.current = false;
    el.scrollTop = Math.max(0, offsets[i]! - el.clientHeight / 3);
    // The anchor now is the row at the new position (not the one before the jump).
    rememberAnchor(el, offsets, keys);
    setScrollTop(el.scrollTop);
    let frames = 0;
    let raf = 0;
    const settle = () => {
      const row = rowEls.current.get(key);
      if (row && scroller.current) {
        const box = scroller.current.getBoundingClientRect();
        const r = row.getBoundingClientRect();
        const want = box.top + box.height / 3;
        if (Math.abs(r.top - want) > 2) {
          scroller.current.scrollTop += r.top - want;
          stick.current = false;
        }
      }
      if (++frames < 6) raf = requestAnimationFrame(settle);
    };
    raf = requestAnimationFrame(settle);
    return () => cancelAnimationFrame(raf);
  }, [props.scrollToKey, keys.includes(props.scrollToKey ?? "")]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const ro = new ResizeObserver(() => setViewport(el.clientHeight));
    ro.observe(el);
    return () => {
      ro.disconnect();
      observer.current?.disconnect();
    };
  }, []);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    setScrollTop(el.scrollTop);
    rememberAnchor(el, offsets, keys);
    report(el);
    if (el.scrollTop < overscan) props.onNearTop?.();
  };

  const rowRef = (key: string) => {
    let fn = refFns.current.get(key);
    if (!fn) {
      fn = (el: HTMLElement | null) => {
        const prev = rowEls.current.get(key);
        if (prev === el) return;
        if (prev) observer.current?.unobserve(prev);
        if (el) {
          rowEls.current.set(key, el);
          observer.current?.observe(el);
        } else {
          rowEls.current.delete(key);
        }
      };
      refFns.current.set(key, fn);
    }
    return fn;
  };

  const rows: ComponentChildren[] = [];
  for (let i = start; i < end; i++) {
    const item = items[i]!;
    const key = keys[i]!;
    rows.push(
      <div key={key} data-key={key} ref={rowRef(key)} class="vrow">
        {props.renderItem(item)}
      </div>,
    );
  }

  return (
    <div
      ref={scroller}
      class={`vlist ${props.class ?? ""}`}
      onScroll={onScroll}
      role="log"
      aria-label={props.label}
      tabIndex={0}
    >
      <div style={{ height: `${offsets[start] ?? 0}px` }} aria-hidden="true" />
      {rows}
      <div style={{ height: `${Math.max(0, total - (offsets[end] ?? total))}px` }} aria-hidden="true" />
    </div>
  );
}
