// The arithmetic of the virtualised list: row offsets from measured (or estimated) heights, and
// which rows intersect the viewport. Pure, so it is tested without a browser.

/** offsets[i] is the top of row i; offsets[n] is the total height. */
export function computeOffsets(keys: readonly string[], heights: ReadonlyMap<string, number>, estimate: number): Float64Array {
  const offsets = new Float64Array(keys.length + 1);
  for (let i = 0; i < keys.length; i++) {
    offsets[i + 1] = offsets[i]! + (heights.get(keys[i]!) ?? estimate);
  }
  return offsets;
}

/** The index of the row containing pixel `y` (clamped to the rows that exist). */
export function rowAt(offsets: Float64Array, y: number): number {
  const n = offsets.length - 1;
  if (n <= 0) return 0;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (offsets[mid]! <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Rows [start, end) to render: those in the viewport plus `overscan` pixels either side. */
export function visibleRange(
  offsets: Float64Array,
  scrollTop: number,
  viewportHeight: number,
  overscan: number,
): { start: number; end: number } {
  const n = offsets.length - 1;
  if (n <= 0) return { start: 0, end: 0 };
  const start = rowAt(offsets, Math.max(0, scrollTop - overscan));
  const end = Math.min(n, rowAt(offsets, scrollTop + viewportHeight + overscan) + 1);
  return { start, end };
}
