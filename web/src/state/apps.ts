// The Apps admin section's rules as pure functions: the install form (a bot username suggested
// from the app's name, checked like the server does), scope choices, and which scope labels to
// show. The server validates everything again; these keep the form from sending what it refuses.

import type { AppScope, InstallAppRequest } from "../api/types";
import type { MessageKey } from "../i18n";

export interface InstallForm {
  name: string;
  username: string;
  /** False until the admin edits the username: until then it follows the name. */
  usernameEdited: boolean;
  description: string;
  scopes: string[];
}

export const EMPTY_INSTALL: InstallForm = { name: "", username: "", usernameEdited: false, description: "", scopes: [] };

/** The server's username rule: 2 to 32 of a-z 0-9 . _ -, starting with a letter or digit. */
const USERNAME = /^[a-z0-9][a-z0-9._-]{1,31}$/;
const RESERVED = ["channel", "here", "all", "everyone"];

/** A bot username from an app name: ASCII letters and digits kept, the rest as `-`, `-bot` added. */
export function suggestUsername(name: string): string {
  const base = name
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 28)
    .replace(/-+$/, "");
  return base ? `${base}-bot` : "";
}

/** The form after the name changes (the username follows until edited). */
export function withName(form: InstallForm, name: string): InstallForm {
  return { ...form, name, username: form.usernameEdited ? form.username : suggestUsername(name) };
}

export function withScope(form: InstallForm, scope: string, on: boolean): InstallForm {
  const scopes = on ? [...new Set([...form.scopes, scope])] : form.scopes.filter((s) => s !== scope);
  return { ...form, scopes: scopes.sort() };
}

/** What is wrong with the form (the first problem), or `null` when it may be sent. */
export function installProblem(form: InstallForm): MessageKey | null {
  const name = form.name.trim();
  if (!name) return "apps.needName";
  if ([...name].length > 64) return "apps.nameTooLong";
  const username = form.username.trim().toLowerCase();
  if (!USERNAME.test(username) || RESERVED.includes(username)) return "apps.badUsername";
  if ([...form.description].length > 500) return "apps.descriptionTooLong";
  if (form.scopes.length === 0) return "apps.needScope";
  return null;
}

export function installRequest(form: InstallForm): InstallAppRequest {
  return {
    name: form.name.trim(),
    username: form.username.trim().toLowerCase(),
    description: form.description.trim(),
    scopes: [...form.scopes].sort(),
  };
}

/** Translated descriptions of the scopes this client knows; others show the server's text. */
const SCOPE_KEYS: Record<string, MessageKey> = {
  "channels:read": "apps.scope.channelsRead",
  "channels:write": "apps.scope.channelsWrite",
  "messages:read": "apps.scope.messagesRead",
  "messages:write": "apps.scope.messagesWrite",
  "users:read": "apps.scope.usersRead",
  "org:read": "apps.scope.orgRead",
  "permissions:check": "apps.scope.permissionsCheck",
};

export function scopeDescription(scope: AppScope, t: (key: MessageKey) => string): string {
  const key = SCOPE_KEYS[scope.name];
  return key ? t(key) : scope.description;
}

/** Write scopes are listed after read scopes, each group by name. */
export function sortScopes(scopes: AppScope[]): AppScope[] {
  const rank = (s: AppScope) => (/:(read|check)$/.test(s.name) ? 0 : 1);
  return [...scopes].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}
