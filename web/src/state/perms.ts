// What the signed-in user may do, from GET /users/me/permissions, and the UI decisions that
// follow (which screens and admin sections show). The server enforces every rule; these only
// keep the interface from offering what would be refused. Pure functions plus one store.

import type { DepartmentId, MyPermissions } from "../api/types";
import { createStore } from "./store";

export const P = {
  orgManage: "org.manage",
  userManage: "user.manage",
  roleManage: "role.manage",
  channelManageAny: "channel.manage_any",
  directoryRead: "directory.read",
  auditRead: "audit.read",
  appInstall: "app.install",
  retentionManage: "retention.manage",
  complianceExport: "compliance.export",
} as const;

/** `null` until loaded (the UI shows nothing permission-gated yet). */
export const permissions = createStore<MyPermissions | null>(null);

/** Holds `name` org-wide, or (with `departmentId`) there; `anywhere` also accepts any department. */
export function can(
  perms: MyPermissions | null,
  name: string,
  where: DepartmentId | "anywhere" | null = null,
): boolean {
  if (!perms) return false;
  if (perms.org.includes(name)) return true;
  if (where === null) return false;
  return perms.departments.some((d) => (where === "anywhere" || d.department_id === where) && d.permissions.includes(name));
}

export type AdminSection = "users" | "people" | "departments" | "roles" | "retention" | "exports" | "audit" | "apps";

/** The admin console's sections this user may use, in tab order (empty: no console). */
export function adminSections(perms: MyPermissions | null, isAdmin: boolean): AdminSection[] {
  const out: AdminSection[] = [];
  if (isAdmin) out.push("users");
  if (can(perms, P.userManage, "anywhere") && can(perms, P.directoryRead)) out.push("people");
  if (can(perms, P.orgManage, "anywhere") && can(perms, P.directoryRead)) out.push("departments");
  if (can(perms, P.roleManage, "anywhere") && can(perms, P.directoryRead)) out.push("roles");
  if (can(perms, P.retentionManage)) out.push("retention");
  if (can(perms, P.complianceExport)) out.push("exports");
  if (can(perms, P.auditRead)) out.push("audit");
  if (can(perms, P.appInstall)) out.push("apps");
  return out;
}

/** The Directory needs `directory.read` (guests lack it). */
export function showDirectory(perms: MyPermissions | null): boolean {
  return can(perms, P.directoryRead);
}

/** Channel settings (membership rule, geofence) need `channel.manage_any`, for named channels. */
export function showChannelSettings(perms: MyPermissions | null, kind: string): boolean {
  return (kind === "public" || kind === "private") && can(perms, P.channelManageAny);
}
