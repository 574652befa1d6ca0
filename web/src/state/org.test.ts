// The organisation logic: the tree from the flat department list, paths and subtrees, the
// audit filter query (with times in the viewer's zone), compact diffs, the person form's PATCH.

import { describe, expect, it } from "vitest";
import type { Department, UserProfile } from "../api/types";
import {
  allRows,
  ancestorsOf,
  auditQuery,
  buildTree,
  diffJson,
  EMPTY_AUDIT_FILTERS,
  geometryOf,
  parseJsonInput,
  pathTo,
  personForm,
  personPatch,
  splitTags,
  subtreeIds,
  visibleRows,
  zonedToUtc,
} from "./org";

const d = (id: number, name: string, parent_id: number | null, member_count = 0): Department => ({
  id,
  name,
  parent_id,
  member_count,
  created_at: "2026-01-01T00:00:00Z",
});

// HQ ─┬─ 人力资源部 ── 招聘组
//     └─ Engineering
// Sales (top level)
const list = [d(4, "招聘组", 2, 1), d(1, "HQ", null, 1), d(3, "Engineering", 1, 5), d(2, "人力资源部", 1, 2), d(5, "Sales", null, 3)];

describe("the department tree", () => {
  it("nests children under parents, sorted by name, with depth and subtree member counts", () => {
    const roots = buildTree(list, new Intl.Collator("en"));
    expect(roots.map((r) => r.dept.name)).toEqual(["HQ", "Sales"]);
    const hq = roots[0]!;
    expect(hq.children.map((c) => c.dept.name)).toEqual(["Engineering", "人力资源部"]);
    expect(hq.totalMembers).toBe(1 + 5 + 2 + 1);
    const hr = hq.children[1]!;
    expect(hr.depth).toBe(1);
    expect(hr.children[0]!.depth).toBe(2);
    expect(hr.totalMembers).toBe(3);
    expect(allRows(roots).map((n) => n.dept.id)).toEqual([1, 3, 2, 4, 5]);
  });

  it("shows children only under expanded nodes", () => {
    const roots = buildTree(list, new Intl.Collator("en"));
    expect(visibleRows(roots, new Set()).map((n) => n.dept.id)).toEqual([1, 5]);
    expect(visibleRows(roots, new Set([1])).map((n) => n.dept.id)).toEqual([1, 3, 2, 5]);
    // Expanding a node under a collapsed one shows nothing more.
    expect(visibleRows(roots, new Set([2])).map((n) => n.dept.id)).toEqual([1, 5]);
    expect(visibleRows(roots, new Set([1, 2])).map((n) => n.dept.id)).toEqual([1, 3, 2, 4, 5]);
  });

  it("keeps departments whose parent is missing or cyclic as roots", () => {
    const roots = buildTree([d(7, "Orphan", 99), d(8, "A", 9), d(9, "B", 8)], new Intl.Collator("en"));
    const ids = allRows(roots).map((n) => n.dept.id).sort();
    expect(ids).toEqual([7, 8, 9]);
  });

  it("handles an empty list", () => {
    expect(buildTree([])).toEqual([]);
  });

  it("finds paths, ancestors and subtrees", () => {
    expect(pathTo(list, 4).map((x) => x.name)).toEqual(["HQ", "人力资源部", "招聘组"]);
    expect(ancestorsOf(list, 4)).toEqual([1, 2]);
    expect([...subtreeIds(list, 1)].sort()).toEqual([1, 2, 3, 4]);
    expect([...subtreeIds(list, 5)]).toEqual([5]);
  });
});

describe("the audit filter query", () => {
  it("leaves blanks out and pages with before", () => {
    expect(auditQuery(EMPTY_AUDIT_FILTERS, "UTC")).toEqual({ limit: 50 });
    expect(auditQuery(EMPTY_AUDIT_FILTERS, "UTC", 120, 25)).toEqual({ limit: 25, before: 120 });
  });

  it("turns a bare word into an action prefix and keeps exact actions", () => {
    expect(auditQuery({ ...EMPTY_AUDIT_FILTERS, action: " role " }, "UTC").action).toBe("role.");
    expect(auditQuery({ ...EMPTY_AUDIT_FILTERS, action: "role." }, "UTC").action).toBe("role.");
    expect(auditQuery({ ...EMPTY_AUDIT_FILTERS, action: "role.assign" }, "UTC").action).toBe("role.assign");
  });

  it("takes the actor id and target", () => {
    const q = auditQuery({ ...EMPTY_AUDIT_FILTERS, actor: "12", target: " user:2 " }, "UTC");
    expect(q).toEqual({ limit: 50, actor_id: 12, target: "user:2" });
    expect(auditQuery({ ...EMPTY_AUDIT_FILTERS, actor: "bob" }, "UTC").actor_id).toBeUndefined();
  });

  it("reads the time range on the viewer's wall clock", () => {
    const q = auditQuery({ ...EMPTY_AUDIT_FILTERS, from: "2026-11-25T09:00", to: "2026-11-26T00:00" }, "Asia/Shanghai");
    expect(q.from).toBe("2026-11-25T01:00:00.000Z");
    expect(q.to).toBe("2026-11-25T16:00:00.000Z");
  });

  it("converts across daylight saving and rejects malformed input", () => {
    expect(zonedToUtc("2026-07-01T12:00", "America/New_York")).toBe("2026-07-01T16:00:00.000Z");
    expect(zonedToUtc("2026-01-15T12:00", "America/New_York")).toBe("2026-01-15T17:00:00.000Z");
    expect(zonedToUtc("2026-01-15T12:00:30", "UTC")).toBe("2026-01-15T12:00:30.000Z");
    expect(zonedToUtc("yesterday", "UTC")).toBeNull();
    expect(auditQuery({ ...EMPTY_AUDIT_FILTERS, from: "nonsense" }, "UTC").from).toBeUndefined();
  });
});

describe("compact diffs", () => {
  it("lists changed, added and removed fields only", () => {
    expect(diffJson({ name: "HR", parent_id: 1, x: [1] }, { name: "人力资源部", parent_id: 1, y: true })).toEqual([
      { key: "name", before: "HR", after: "人力资源部" },
      { key: "x", before: "[1]" },
      { key: "y", after: "true" },
    ]);
  });

  it("handles creations, deletions and scalars", () => {
    expect(diffJson(null, { name: "HQ", parent_id: null })).toEqual([
      { key: "name", after: "HQ" },
      { key: "parent_id", after: "null" },
    ]);
    expect(diffJson({ name: "HQ" }, undefined)).toEqual([{ key: "name", before: "HQ" }]);
    expect(diffJson("a", "b")).toEqual([{ key: "", before: "a", after: "b" }]);
    expect(diffJson(null, [1])).toEqual([{ key: "", after: "[1]" }]);
    expect(diffJson(null, null)).toEqual([]);
    expect(diffJson({ a: 1 }, { a: 1 })).toEqual([]);
  });
});

describe("forms", () => {
  it("parses JSON or says why not", () => {
    expect(parseJsonInput('{"title":"Intern"}')).toEqual({ value: { title: "Intern" } });
    expect("error" in parseJsonInput("{title:")).toBe(true);
  });

  it("splits tags on ASCII and full-width commas, without blanks or repeats", () => {
    expect(splitTags(" apollo, 招聘，apollo ,, ")).toEqual(["apollo", "招聘"]);
  });

  it("unwraps GeoJSON features", () => {
    const polygon = { type: "Polygon", coordinates: [] };
    expect(geometryOf({ type: "Feature", geometry: polygon, properties: {} })).toBe(polygon);
    expect(geometryOf({ type: "FeatureCollection", features: [{ type: "Feature", geometry: polygon }] })).toBe(polygon);
    expect(geometryOf(polygon)).toBe(polygon);
  });

  it("patches only what the admin changed", () => {
    const p: UserProfile = {
      id: 2,
      username: "zhangsan",
      display_name: "张三",
      email: null,
      is_admin: false,
      created_at: "2026-01-01T00:00:00Z",
      status: "active",
      title: "招聘专员",
      region: null,
      employee_no: "E1001",
      phone: null,
      time_zone: "Asia/Shanghai",
      locale: null,
      manager_id: null,
      project_tags: ["apollo"],
      primary_department_id: 2,
      secondary_department_ids: [3],
      department_path: [],
      local_time: null,
      location_sharing: false,
    };
    const f = personForm(p);
    expect(personPatch(p, f)).toEqual({});
    expect(
      personPatch(p, {
        ...f,
        title: "  ",
        region: "Shanghai",
        project_tags: "apollo, hiring",
        status: "deactivated",
        manager_id: 1,
        primary_department_id: 3,
        secondary_department_ids: [3, 4],
      }),
    ).toEqual({
      title: null,
      region: "Shanghai",
      project_tags: ["apollo", "hiring"],
      status: "deactivated",
      manager_id: 1,
      primary_department_id: 3,
      // The new primary department is not also a secondary one.
      secondary_department_ids: [4],
    });
  });
});
