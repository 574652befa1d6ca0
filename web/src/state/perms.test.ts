// Permission-gated UI decisions: which screens, admin sections and channel settings show.

import { describe, expect, it } from "vitest";
import type { MyPermissions } from "../api/types";
import { adminSections, can, showChannelSettings, showDirectory } from "./perms";

const member: MyPermissions = { org: ["channel.browse", "channel.create", "directory.read", "dm.open"], departments: [] };
const guest: MyPermissions = { org: [], departments: [] };
const orgAdmin: MyPermissions = {
  org: [...member.org, "org.manage", "user.manage", "role.manage", "audit.read", "channel.manage_any"],
  departments: [],
};
const deptAdmin: MyPermissions = {
  org: member.org,
  departments: [{ department_id: 7, permissions: ["user.manage", "org.manage"] }],
};

describe("permission checks", () => {
  it("checks org-wide, per department and anywhere", () => {
    expect(can(member, "directory.read")).toBe(true);
    expect(can(member, "audit.read")).toBe(false);
    expect(can(deptAdmin, "user.manage")).toBe(false);
    expect(can(deptAdmin, "user.manage", 7)).toBe(true);
    expect(can(deptAdmin, "user.manage", 8)).toBe(false);
    expect(can(deptAdmin, "user.manage", "anywhere")).toBe(true);
    expect(can(orgAdmin, "user.manage", 8)).toBe(true);
    expect(can(null, "directory.read")).toBe(false);
  });
});

describe("what the interface offers", () => {
  it("hides the directory from guests and until permissions load", () => {
    expect(showDirectory(member)).toBe(true);
    expect(showDirectory(guest)).toBe(false);
    expect(showDirectory(null)).toBe(false);
  });

  it("shows the admin sections each role may use", () => {
    expect(adminSections(member, false)).toEqual([]);
    expect(adminSections(guest, false)).toEqual([]);
    expect(adminSections(orgAdmin, true)).toEqual(["users", "people", "departments", "roles", "audit"]);
    expect(adminSections(deptAdmin, false)).toEqual(["people", "departments"]);
    // An auditor only reads the log.
    expect(adminSections({ org: ["audit.read"], departments: [] }, false)).toEqual(["audit"]);
    expect(adminSections({ org: ["app.install"], departments: [] }, false)).toEqual(["apps"]);
    // Retention (policies, legal holds) with its own permission.
    expect(adminSections({ org: ["retention.manage", "audit.read"], departments: [] }, false)).toEqual(["retention", "audit"]);
    // Compliance exports with theirs.
    expect(adminSections({ org: ["compliance.export", "audit.read"], departments: [] }, false)).toEqual(["exports", "audit"]);
    // Creating users stays with org admins even before permissions load.
    expect(adminSections(null, true)).toEqual(["users"]);
  });

  it("offers channel settings to channel.manage_any holders on named channels", () => {
    expect(showChannelSettings(orgAdmin, "public")).toBe(true);
    expect(showChannelSettings(orgAdmin, "private")).toBe(true);
    expect(showChannelSettings(orgAdmin, "dm")).toBe(false);
    expect(showChannelSettings(member, "public")).toBe(false);
  });
});
