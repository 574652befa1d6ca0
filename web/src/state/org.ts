// Pure organisation logic for the directory and the admin console: the department tree from
// the server's flat list, paths and subtrees, the audit log's filter query, compact JSON diffs,
// and wall-clock times in a chosen zone. No DOM, no requests: unit-tested in org.test.ts.

import type { AuditQuery, Department, DepartmentId, UpdateUserRequest, UserProfile, UserStatus } from "../api/types";

export interface DeptNode {
  dept: Department;
  depth: number;
  children: DeptNode[];
  /** People placed here or anywhere below (a person in two of them counts twice). */
  totalMembers: number;
}

/**
 * Builds the tree from the flat list (any order). Children are sorted by name; a department
 * whose parent is missing from the list (not visible, or a cycle) becomes a root, so nothing
 * is dropped.
 */
export function buildTree(list: readonly Department[], collator: Intl.Collator = new Intl.Collator()): DeptNode[] {
  const nodes = new Map<DepartmentId, DeptNode>();
  for (const dept of list) nodes.set(dept.id, { dept, depth: 0, children: [], totalMembers: 0 });
  const roots: DeptNode[] = [];
  for (const node of nodes.values()) {
    const parentId = node.dept.parent_id;
    const parent = parentId !== null ? nodes.get(parentId) : undefined;
    if (parent && parent !== node && !isAncestor(nodes, node.dept.id, parentId!)) parent.children.push(node);
    else roots.push(node);
  }
  const byName = (a: DeptNode, b: DeptNode) => collator.compare(a.dept.name, b.dept.name) || a.dept.id - b.dept.id;
  const finish = (node: DeptNode, depth: number): number => {
    node.depth = depth;
    node.children.sort(byName);
    node.totalMembers = node.dept.member_count + node.children.reduce((n, c) => n + finish(c, depth + 1), 0);
    return node.totalMembers;
  };
  roots.sort(byName);
  for (const r of roots) finish(r, 0);
  return roots;
}

/** True when `ancestor` is `id` or above it in the parent links (guards against cycles). */
function isAncestor(nodes: Map<DepartmentId, DeptNode>, ancestor: DepartmentId, id: DepartmentId): boolean {
  const seen = new Set<DepartmentId>();
  let cur: DepartmentId | null = id;
  while (cur !== null && !seen.has(cur)) {
    if (cur === ancestor) return true;
    seen.add(cur);
    cur = nodes.get(cur)?.dept.parent_id ?? null;
  }
  return false;
}

/** The rows a tree view shows: depth-first, children only under expanded nodes. */
export function visibleRows(roots: readonly DeptNode[], expanded: ReadonlySet<DepartmentId>): DeptNode[] {
  const out: DeptNode[] = [];
  const walk = (nodes: readonly DeptNode[]) => {
    for (const n of nodes) {
      out.push(n);
      if (expanded.has(n.dept.id)) walk(n.children);
    }
  };
  walk(roots);
  return out;
}

/** Every node, depth-first (for pickers that show the whole tree indented). */
export function allRows(roots: readonly DeptNode[]): DeptNode[] {
  const out: DeptNode[] = [];
  const walk = (nodes: readonly DeptNode[]) => {
    for (const n of nodes) {
      out.push(n);
      walk(n.children);
    }
  };
  walk(roots);
  return out;
}

/** The department and everything below it: what a move may not target. */
export function subtreeIds(list: readonly Department[], id: DepartmentId): Set<DepartmentId> {
  const children = new Map<DepartmentId, DepartmentId[]>();
  for (const d of list) {
    if (d.parent_id === null) continue;
    const kids = children.get(d.parent_id) ?? [];
    kids.push(d.id);
    children.set(d.parent_id, kids);
  }
  const out = new Set<DepartmentId>();
  const stack = [id];
  while (stack.length) {
    const cur = stack.pop()!;
    if (out.has(cur)) continue;
    out.add(cur);
    stack.push(...(children.get(cur) ?? []));
  }
  return out;
}

/** The path from the top of the tree down to `id` (names), for breadcrumbs and pickers. */
export function pathTo(list: readonly Department[], id: DepartmentId): Department[] {
  const byId = new Map(list.map((d) => [d.id, d]));
  const out: Department[] = [];
  const seen = new Set<DepartmentId>();
  let cur = byId.get(id);
  while (cur && !seen.has(cur.id)) {
    out.unshift(cur);
    seen.add(cur.id);
    cur = cur.parent_id !== null ? byId.get(cur.parent_id) : undefined;
  }
  return out;
}

/** The ids to expand so that `id` is visible (its ancestors). */
export function ancestorsOf(list: readonly Department[], id: DepartmentId): DepartmentId[] {
  return pathTo(list, id)
    .slice(0, -1)
    .map((d) => d.id);
}

// ---------------------------------------------------------------- audit log

export interface AuditFilters {
  /** A user id, as typed (digits), or empty. */
  actor: string;
  /** `role.` (prefix), `role` (taken as the prefix `role.`), or an exact action. */
  action: string;
  target: string;
  /** `datetime-local` values (`2026-11-25T09:00`), read in `timeZone`. */
  from: string;
  to: string;
}

export const EMPTY_AUDIT_FILTERS: AuditFilters = { actor: "", action: "", target: "", from: "", to: "" };

/**
 * The audit query for the filters: blanks left out, a bare word (`role`) becomes the prefix
 * `role.`, times go to UTC from the viewer's zone, `before` pages to older entries.
 */
export function auditQuery(f: AuditFilters, timeZone: string, before?: number, limit = 50): AuditQuery {
  const q: AuditQuery = { limit };
  const actor = f.actor.trim();
  if (/^\d+$/.test(actor)) q.actor_id = Number(actor);
  const action = f.action.trim();
  if (action) q.action = action.includes(".") ? action : `${action}.`;
  const target = f.target.trim();
  if (target) q.target = target;
  const from = f.from ? zonedToUtc(f.from, timeZone) : null;
  if (from) q.from = from;
  const to = f.to ? zonedToUtc(f.to, timeZone) : null;
  if (to) q.to = to;
  if (before !== undefined) q.before = before;
  return q;
}

/** The zone's offset from UTC at `date`, in minutes (Asia/Shanghai: +480). */
export function zoneOffsetMinutes(date: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(date);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? "0");
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour") % 24, get("minute"), get("second"));
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60_000);
}

/** `2026-11-25T09:00` on the wall clock of `timeZone` → `2026-11-25T01:00:00.000Z`; null if malformed. */
export function zonedToUtc(local: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!m) return null;
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0));
  // Two passes settle the offset across a daylight-saving change.
  let guess = wall - zoneOffsetMinutes(new Date(wall), timeZone) * 60_000;
  guess = wall - zoneOffsetMinutes(new Date(guess), timeZone) * 60_000;
  return new Date(guess).toISOString();
}

export interface DiffLine {
  key: string;
  before?: string;
  after?: string;
}

function show(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * What changed between an audit entry's before and after, compactly: one line per top-level
 * field that differs (added, removed or changed; a creation lists its fields). Other values
 * compare as a whole.
 */
export function diffJson(before: unknown, after: unknown): DiffLine[] {
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
  const absent = (v: unknown) => v === null || v === undefined;
  // A creation or deletion lists the fields it added or removed.
  if (absent(before) && isObj(after)) before = {};
  if (isObj(before) && absent(after)) after = {};
  if (!isObj(before) || !isObj(after)) {
    if (JSON.stringify(before ?? null) === JSON.stringify(after ?? null)) return [];
    const line: DiffLine = { key: "" };
    if (before !== null && before !== undefined) line.before = show(before);
    if (after !== null && after !== undefined) line.after = show(after);
    return [line];
  }
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const out: DiffLine[] = [];
  for (const key of keys) {
    const a = before[key];
    const b = after[key];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const line: DiffLine = { key };
    if (key in before) line.before = show(a);
    if (key in after) line.after = show(b);
    out.push(line);
  }
  return out;
}

// ---------------------------------------------------------------- forms

/** Parses a JSON textarea; `{ error }` carries the parser's message for the form. */
export function parseJsonInput(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** A text field's value for a PATCH: trimmed, empty → null (clears). */
export function blankToNull(v: string): string | null {
  const s = v.trim();
  return s ? s : null;
}

/** `a, b ,, c` → `["a","b","c"]` (project tags). */
export function splitTags(v: string): string[] {
  return [
    ...new Set(
      v
        .split(/[,，]/)
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
}

// ---------------------------------------------------------------- the admin's person form

export interface PersonForm {
  display_name: string;
  email: string;
  title: string;
  region: string;
  employee_no: string;
  phone: string;
  time_zone: string;
  locale: string;
  manager_id: number | null;
  project_tags: string;
  status: UserStatus;
  primary_department_id: DepartmentId | null;
  secondary_department_ids: DepartmentId[];
}

export function personForm(p: UserProfile): PersonForm {
  return {
    display_name: p.display_name,
    email: p.email ?? "",
    title: p.title ?? "",
    region: p.region ?? "",
    employee_no: p.employee_no ?? "",
    phone: p.phone ?? "",
    time_zone: p.time_zone ?? "",
    locale: p.locale ?? "",
    manager_id: p.manager_id,
    project_tags: p.project_tags.join(", "),
    status: p.status,
    primary_department_id: p.primary_department_id,
    secondary_department_ids: [...p.secondary_department_ids],
  };
}

/** The PATCH for what the form changed (and nothing else, so the audit entry is exact). */
export function personPatch(p: UserProfile, f: PersonForm): UpdateUserRequest {
  const out: UpdateUserRequest = {};
  const name = f.display_name.trim();
  if (name && name !== p.display_name) out.display_name = name;
  const text = ["email", "title", "region", "employee_no", "phone", "time_zone", "locale"] as const;
  for (const k of text) {
    const v = blankToNull(f[k]);
    if (v !== (p[k] ?? null)) out[k] = v;
  }
  if (f.manager_id !== p.manager_id) out.manager_id = f.manager_id;
  const tags = splitTags(f.project_tags);
  if (JSON.stringify(tags) !== JSON.stringify(p.project_tags)) out.project_tags = tags;
  if (f.status !== p.status) out.status = f.status;
  if (f.primary_department_id !== p.primary_department_id) out.primary_department_id = f.primary_department_id;
  const secondary = [...new Set(f.secondary_department_ids)].filter((d) => d !== f.primary_department_id).sort((a, b) => a - b);
  const before = [...p.secondary_department_ids].sort((a, b) => a - b);
  if (JSON.stringify(secondary) !== JSON.stringify(before)) out.secondary_department_ids = secondary;
  return out;
}

/** A GeoJSON upload's geometry: a Feature's, or a one-feature collection's; else as given. */
export function geometryOf(value: unknown): unknown {
  const v = value as { type?: unknown; geometry?: unknown; features?: unknown[] } | null;
  if (v && v.type === "Feature") return v.geometry;
  if (v && v.type === "FeatureCollection" && Array.isArray(v.features) && v.features.length === 1) {
    return geometryOf(v.features[0]);
  }
  return value;
}
