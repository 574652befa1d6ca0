// The admin console, loaded on demand: users (create), people (attributes, departments,
// status), departments (create, rename, move, delete), roles (permissions, custom
// permissions, assignments) and the audit log. Each section shows only to those whose
// permissions (GET /users/me/permissions) allow it; the server checks every change anyway.

import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import type { AuditEntry, Department, DepartmentId, Permission, Role, RoleAssignment, User, UserProfile, UserStatus } from "../api/types";
import { useT, type Translator } from "../i18n";
import { formatDate, formatDateTime } from "../i18n/time";
import { api, chat, ensureUsers, reportError, showToast } from "../state/app";
import {
  allRows,
  auditQuery,
  buildTree,
  diffJson,
  EMPTY_AUDIT_FILTERS,
  pathTo,
  personForm,
  personPatch,
  subtreeIds,
  type AuditFilters,
  type PersonForm,
} from "../state/org";
import { adminSections, permissions, type AdminSection } from "../state/perms";
import { navigate, route } from "../state/router";
import { useStore } from "../state/store";
import { AppsSection } from "./AdminApps";
import { Avatar, displayName } from "./common";
import { ConfirmDialog } from "./Dialogs";
import { Icon } from "./icons";
import { PageFrame } from "./Pages";
import { RetentionSection } from "./Retention";
import { ExportsSection } from "./Exports";
import { statusLabel } from "./Profile";

function errorText(e: unknown, t: Translator): string {
  if (e instanceof ApiError) return e.isNetwork ? t("error.network") : e.message;
  return t("error.generic");
}

function FormError({ error }: { error: string | null }) {
  return error ? (
    <p class="form-error" role="alert">
      {error}
    </p>
  ) : null;
}

function useDepartments(): [Department[] | null, () => void] {
  const [list, setList] = useState<Department[] | null>(null);
  const load = () => {
    api.departments().then(setList).catch(reportError);
  };
  useEffect(load, []);
  return [list, load];
}

/** A department picker showing the whole tree indented; `exclude` hides a subtree (moves). */
function DeptSelect({
  departments,
  value,
  onChange,
  noneLabel,
  exclude,
  label,
  name,
}: {
  departments: Department[];
  value: DepartmentId | null;
  onChange: (id: DepartmentId | null) => void;
  noneLabel: string;
  exclude?: Set<DepartmentId>;
  label: string;
  name?: string;
}) {
  const t = useT();
  const rows = useMemo(() => allRows(buildTree(departments, new Intl.Collator(t.locale))), [departments, t.locale]);
  return (
    <label class="field">
      <span>{label}</span>
      <select name={name} value={value === null ? "" : String(value)} onChange={(e) => onChange(e.currentTarget.value ? Number(e.currentTarget.value) : null)}>
        <option value="">{noneLabel}</option>
        {rows
          .filter((n) => !exclude?.has(n.dept.id))
          .map((n) => (
            <option key={n.dept.id} value={String(n.dept.id)}>
              {"\u00a0\u00a0".repeat(n.depth) + n.dept.name}
            </option>
          ))}
      </select>
    </label>
  );
}

/** Finds a person by name, username, employee number or pinyin. */
function PersonPicker({ label, value, onChange }: { label: string; value: User | null; onChange: (u: User | null) => void }) {
  const t = useT();
  const [q, setQ] = useState("");
  const [results, setResults] = useState<User[]>([]);
  useEffect(() => {
    const s = q.trim();
    if (!s) {
      setResults([]);
      return;
    }
    let live = true;
    const timer = setTimeout(() => {
      api
        .people({ q: s, limit: 8 })
        .then((p) => live && setResults(p.users))
        .catch(() => undefined);
    }, 150);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [q]);
  if (value) {
    return (
      <div class="field">
        <span>{label}</span>
        <div class="picked">
          <Avatar user={value} id={value.id} size={22} />
          <span class="person-name">{displayName(value, `#${value.id}`)}</span>
          <button type="button" class="link-btn" onClick={() => onChange(null)}>
            {t("admin.change")}
          </button>
        </div>
      </div>
    );
  }
  return (
    <div class="picker">
      <label class="field">
        <span>{label}</span>
        <input type="search" value={q} placeholder={t("directory.search")} onInput={(e) => setQ(e.currentTarget.value)} />
      </label>
      {results.length > 0 && (
        <ul class="picker-results" role="listbox" aria-label={label}>
          {results.map((u) => (
            <li key={u.id} role="option" aria-selected="false">
              <button
                type="button"
                class="person"
                onClick={() => {
                  onChange(u);
                  setQ("");
                }}
              >
                <Avatar user={u} id={u.id} size={22} />
                <span>{displayName(u, `#${u.id}`)}</span>
                <span class="muted small">@{u.username}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

// ---------------------------------------------------------------- users (create)

function UsersSection() {
  const t = useT();
  const [users, setUsers] = useState<User[]>([]);
  const [next, setNext] = useState<number | null | undefined>(undefined);
  const [form, setForm] = useState({ username: "", display_name: "", email: "", password: "", is_admin: false });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const load = (after?: number) =>
    api
      .users(after, 100)
      .then((page) => {
        setUsers((u) => (after === undefined ? page.users : [...u, ...page.users]));
        setNext(page.next_after);
      })
      .catch(reportError);
  useEffect(() => {
    load();
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const u = await api.createUser({
        username: form.username.trim(),
        password: form.password,
        display_name: form.display_name.trim() || null,
        email: form.email.trim() || null,
        is_admin: form.is_admin,
      });
      setUsers((list) => [...list, u]);
      chat.set((c) => ({ ...c, users: { ...c.users, [u.id]: u } }));
      setForm({ username: "", display_name: "", email: "", password: "", is_admin: false });
      showToast(t("admin.created", { name: u.username }));
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };
  const set = (k: keyof typeof form) => (e: Event) => {
    const el = e.currentTarget as HTMLInputElement;
    setForm({ ...form, [k]: el.type === "checkbox" ? el.checked : el.value });
  };
  return (
    <div class="admin-grid">
      <section aria-labelledby="admin-users">
        <h2 id="admin-users">{t("admin.users")}</h2>
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t("admin.displayName")}</th>
                <th scope="col">{t("admin.username")}</th>
                <th scope="col">{t("admin.email")}</th>
                <th scope="col">{t("admin.role")}</th>
                <th scope="col">{t("admin.joined")}</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id}>
                  <td>
                    <span class="cell-user">
                      <Avatar user={u} id={u.id} size={24} />
                      {u.display_name || u.username}
                    </span>
                  </td>
                  <td>@{u.username}</td>
                  <td>{u.email ?? ""}</td>
                  <td>{u.is_admin ? <span class="tag">{t("admin.roleAdmin")}</span> : t("admin.roleMember")}</td>
                  <td>
                    <time dateTime={u.created_at} title={formatDateTime(u.created_at, t.time)}>
                      {formatDate(u.created_at, t.time)}
                    </time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {next !== null && next !== undefined && (
          <button type="button" class="btn" onClick={() => load(next)}>
            {t("admin.more")}
          </button>
        )}
      </section>
      <section aria-labelledby="admin-create" class="card">
        <h2 id="admin-create">{t("admin.createUser")}</h2>
        <form class="form" onSubmit={submit}>
          <label class="field">
            <span>{t("admin.username")}</span>
            <input required value={form.username} onInput={set("username")} autoComplete="off" />
          </label>
          <label class="field">
            <span>{t("admin.displayName")}</span>
            <input value={form.display_name} onInput={set("display_name")} />
          </label>
          <label class="field">
            <span>{t("admin.email")}</span>
            <input type="email" value={form.email} onInput={set("email")} />
          </label>
          <label class="field">
            <span>{t("admin.password")}</span>
            <input required type="password" value={form.password} onInput={set("password")} autoComplete="new-password" />
          </label>
          <label class="check">
            <input type="checkbox" checked={form.is_admin} onChange={set("is_admin")} />
            <span>{t("admin.isAdmin")}</span>
          </label>
          <FormError error={error} />
          <button type="submit" class="btn btn-primary" disabled={busy || !form.username || !form.password}>
            {t("admin.create")}
          </button>
        </form>
      </section>
    </div>
  );
}

// ---------------------------------------------------------------- people

function PersonEditor({ profile, departments, onSaved }: { profile: UserProfile; departments: Department[]; onSaved: (p: UserProfile) => void }) {
  const t = useT();
  const users = useStore(chat, (c) => c.users);
  const [form, setForm] = useState<PersonForm>(() => personForm(profile));
  const [manager, setManager] = useState<User | null>(profile.manager_id !== null ? (users[profile.manager_id] ?? null) : null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState(false);
  useEffect(() => {
    setForm(personForm(profile));
    setError(null);
    if (profile.manager_id !== null) {
      const known = users[profile.manager_id];
      if (known) setManager(known);
      else api.user(profile.manager_id).then(setManager).catch(() => setManager(null));
    } else setManager(null);
  }, [profile]);
  const text = (k: keyof PersonForm) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const patch = personPatch(profile, { ...form, manager_id: manager?.id ?? null });
  const changed = Object.keys(patch).length > 0;
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      const p = await api.updateUser(profile.id, patch);
      onSaved(p);
      showToast(t("admin.personSaved", { name: displayName(p, p.username) }));
    } catch (e) {
      setError(errorText(e, t));
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: Event) => {
    e.preventDefault();
    if (patch.status === "deactivated") setConfirm(true);
    else save();
  };
  const field = (k: "display_name" | "email" | "title" | "region" | "employee_no" | "phone" | "time_zone" | "locale", label: string, hint?: string) => (
    <label class="field">
      <span>{label}</span>
      <input name={k} value={form[k]} onInput={text(k)} placeholder={hint} />
    </label>
  );
  const secondaryRows = allRows(buildTree(departments, new Intl.Collator(t.locale)));
  return (
    <form class="form person-editor" onSubmit={submit} aria-label={t("admin.editPerson", { name: displayName(profile, profile.username) })}>
      <div class="form-grid">
        {field("display_name", t("admin.displayName"))}
        {field("email", t("admin.email"))}
        {field("title", t("profile.jobTitle"))}
        {field("employee_no", t("profile.employeeNo"))}
        {field("region", t("profile.region"))}
        {field("phone", t("profile.phone"))}
        {field("time_zone", t("settings.timeZone"), "Asia/Shanghai")}
        {field("locale", t("profile.locale"), "zh-CN")}
      </div>
      <PersonPicker label={t("profile.manager")} value={manager} onChange={setManager} />
      <label class="field">
        <span>{t("profile.tags")}</span>
        <input name="project_tags" value={form.project_tags} onInput={text("project_tags")} placeholder={t("admin.tagsHint")} />
      </label>
      <DeptSelect
        label={t("admin.primaryDepartment")}
        name="primary_department_id"
        departments={departments}
        value={form.primary_department_id}
        noneLabel={t("admin.noDepartment")}
        onChange={(id) => setForm({ ...form, primary_department_id: id })}
      />
      <fieldset class="field">
        <legend>{t("admin.secondaryDepartments")}</legend>
        <div class="check-list">
          {secondaryRows.map((n) => (
            <label key={n.dept.id} class="check" style={{ paddingLeft: `${n.depth * 14}px` }}>
              <input
                type="checkbox"
                disabled={n.dept.id === form.primary_department_id}
                checked={form.secondary_department_ids.includes(n.dept.id)}
                onChange={(e) =>
                  setForm({
                    ...form,
                    secondary_department_ids: e.currentTarget.checked
                      ? [...form.secondary_department_ids, n.dept.id]
                      : form.secondary_department_ids.filter((d) => d !== n.dept.id),
                  })
                }
              />
              <span>{n.dept.name}</span>
            </label>
          ))}
          {secondaryRows.length === 0 && <span class="muted small">{t("directory.noDepartments")}</span>}
        </div>
      </fieldset>
      <label class="field">
        <span>{t("profile.status")}</span>
        <select name="status" value={form.status} onChange={(e) => setForm({ ...form, status: e.currentTarget.value as UserStatus })}>
          {(["active", "suspended", "deactivated"] as UserStatus[]).map((s) => (
            <option key={s} value={s}>
              {statusLabel(s, t)}
            </option>
          ))}
        </select>
        {form.status !== "active" && <small class="muted">{t("admin.statusHint")}</small>}
      </label>
      <FormError error={error} />
      <div class="form-actions">
        <button type="button" class="btn" disabled={!changed || busy} onClick={() => setForm(personForm(profile))}>
          {t("admin.reset")}
        </button>
        <button type="submit" class="btn btn-primary" disabled={!changed || busy}>
          {t("admin.save")}
        </button>
      </div>
      {confirm && (
        <ConfirmDialog
          text={t("admin.confirmDeactivate", { name: displayName(profile, profile.username) })}
          confirmLabel={t("admin.deactivate")}
          danger
          onClose={() => setConfirm(false)}
          onConfirm={() => {
            setConfirm(false);
            save();
          }}
        />
      )}
    </form>
  );
}

function PeopleSection() {
  const t = useT();
  const [departments] = useDepartments();
  const [picked, setPicked] = useState<User | null>(null);
  const [profile, setProfile] = useState<UserProfile | null>(null);
  useEffect(() => {
    setProfile(null);
    if (picked) api.profile(picked.id).then(setProfile).catch(reportError);
  }, [picked?.id]);
  return (
    <div class="admin-grid">
      <section aria-labelledby="admin-people">
        <h2 id="admin-people">{t("admin.people")}</h2>
        <PersonPicker label={t("admin.findPerson")} value={picked} onChange={setPicked} />
        {picked && !profile && <p class="muted">{t("loading")}</p>}
        {profile && departments && (
          <PersonEditor
            profile={profile}
            departments={departments}
            onSaved={(p) => {
              setProfile(p);
              chat.set((c) => ({ ...c, users: { ...c.users, [p.id]: { ...(c.users[p.id] ?? p), display_name: p.display_name } } }));
            }}
          />
        )}
      </section>
      <aside class="card muted small">
        <p>{t("admin.peopleHelp")}</p>
      </aside>
    </div>
  );
}

// ---------------------------------------------------------------- departments

function DepartmentRow({ dept, depth, departments, reload }: { dept: Department; depth: number; departments: Department[]; reload: () => void }) {
  const t = useT();
  const [mode, setMode] = useState<"view" | "rename" | "move">("view");
  const [name, setName] = useState(dept.name);
  const [parent, setParent] = useState<DepartmentId | null>(dept.parent_id);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState(false);
  const run = async (job: Promise<unknown>) => {
    setError(null);
    try {
      await job;
      setMode("view");
      reload();
    } catch (e) {
      setError(errorText(e, t));
    }
  };
  return (
    <li class="dept-row" style={{ paddingLeft: `${depth * 20}px` }} data-department-id={dept.id}>
      <div class="dept-line">
        {mode === "rename" ? (
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              run(api.updateDepartment(dept.id, { name: name.trim() }));
            }}
          >
            <input aria-label={t("admin.departmentName")} value={name} onInput={(e) => setName(e.currentTarget.value)} ref={(el) => el?.focus()} />
            <button type="submit" class="btn btn-primary" disabled={!name.trim()}>
              {t("admin.save")}
            </button>
            <button type="button" class="btn" onClick={() => setMode("view")}>
              {t("dialog.cancel")}
            </button>
          </form>
        ) : mode === "move" ? (
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              run(api.updateDepartment(dept.id, { parent_id: parent }));
            }}
          >
            <strong>{dept.name}</strong>
            <DeptSelect
              label={t("admin.moveUnder")}
              departments={departments}
              value={parent}
              exclude={subtreeIds(departments, dept.id)}
              noneLabel={t("admin.topLevel")}
              onChange={setParent}
            />
            <button type="submit" class="btn btn-primary">
              {t("admin.move")}
            </button>
            <button type="button" class="btn" onClick={() => setMode("view")}>
              {t("dialog.cancel")}
            </button>
          </form>
        ) : (
          <>
            <span class="dept-name">{dept.name}</span>
            <span class="tree-count" title={t.plural("directory.people", dept.member_count)}>
              {dept.member_count}
            </span>
            <span class="dept-actions">
              <button type="button" class="link-btn" onClick={() => setMode("rename")} aria-label={t("admin.renameNamed", { name: dept.name })}>
                {t("admin.rename")}
              </button>
              <button type="button" class="link-btn" onClick={() => setMode("move")} aria-label={t("admin.moveNamed", { name: dept.name })}>
                {t("admin.move")}
              </button>
              <button type="button" class="link-btn danger" onClick={() => setConfirm(true)} aria-label={t("admin.deleteNamed", { name: dept.name })}>
                {t("admin.delete")}
              </button>
            </span>
          </>
        )}
      </div>
      <FormError error={error} />
      {confirm && (
        <ConfirmDialog
          text={t("admin.confirmDeleteDepartment", { name: dept.name })}
          confirmLabel={t("admin.delete")}
          danger
          onClose={() => setConfirm(false)}
          onConfirm={() => {
            setConfirm(false);
            run(api.deleteDepartment(dept.id));
          }}
        />
      )}
    </li>
  );
}

function DepartmentsSection() {
  const t = useT();
  const [departments, reload] = useDepartments();
  const [name, setName] = useState("");
  const [parent, setParent] = useState<DepartmentId | null>(null);
  const [error, setError] = useState<string | null>(null);
  const rows = useMemo(() => allRows(buildTree(departments ?? [], new Intl.Collator(t.locale))), [departments, t.locale]);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const d = await api.createDepartment(name.trim(), parent);
      setName("");
      showToast(t("admin.departmentCreated", { name: d.name }));
      reload();
    } catch (err) {
      setError(errorText(err, t));
    }
  };
  return (
    <div class="admin-grid">
      <section aria-labelledby="admin-departments">
        <h2 id="admin-departments">{t("admin.departments")}</h2>
        {!departments && <p class="muted">{t("loading")}</p>}
        {departments && departments.length === 0 && <p class="muted">{t("directory.noDepartments")}</p>}
        <ul class="dept-list">
          {departments &&
            rows.map((n) => <DepartmentRow key={`${n.dept.id}:${n.dept.name}:${n.dept.parent_id}`} dept={n.dept} depth={n.depth} departments={departments} reload={reload} />)}
        </ul>
      </section>
      <section aria-labelledby="admin-create-department" class="card">
        <h2 id="admin-create-department">{t("admin.createDepartment")}</h2>
        <form class="form" onSubmit={create}>
          <label class="field">
            <span>{t("admin.departmentName")}</span>
            <input required name="department-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          {departments && (
            <DeptSelect label={t("admin.parent")} name="parent" departments={departments} value={parent} noneLabel={t("admin.topLevel")} onChange={setParent} />
          )}
          <FormError error={error} />
          <button type="submit" class="btn btn-primary" disabled={!name.trim()}>
            {t("admin.createDepartmentSubmit")}
          </button>
        </form>
      </section>
    </div>
  );
}

// ---------------------------------------------------------------- roles

function RoleEditor({ role, catalogue, onDone }: { role: Role | null; catalogue: Permission[]; onDone: (saved: boolean) => void }) {
  const t = useT();
  const [name, setName] = useState(role?.name ?? "");
  const [description, setDescription] = useState(role?.description ?? "");
  const [chosen, setChosen] = useState<Set<string>>(new Set(role?.permissions ?? []));
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const permissions = catalogue.map((p) => p.name).filter((n) => chosen.has(n));
    try {
      if (role) await api.updateRole(role.id, { name: name.trim(), description, permissions });
      else await api.createRole(name.trim(), description, permissions);
      showToast(t(role ? "admin.roleSaved" : "admin.roleCreated", { name: name.trim() }));
      onDone(true);
    } catch (err) {
      setError(errorText(err, t));
    }
  };
  return (
    <form class="form card" onSubmit={submit} aria-labelledby="role-editor-title">
      <h3 id="role-editor-title">{role ? t("admin.editRole", { name: role.name }) : t("admin.createRole")}</h3>
      <label class="field">
        <span>{t("admin.roleName")}</span>
        <input required name="role-name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>{t("admin.description")}</span>
        <input name="role-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </label>
      <fieldset class="field">
        <legend>{t("admin.permissions")}</legend>
        <div class="check-list perm-list">
          {catalogue.map((p) => (
            <label key={p.name} class="check">
              <input
                type="checkbox"
                value={p.name}
                checked={chosen.has(p.name)}
                onChange={(e) => {
                  const next = new Set(chosen);
                  if (e.currentTarget.checked) next.add(p.name);
                  else next.delete(p.name);
                  setChosen(next);
                }}
              />
              <span>
                <code>{p.name}</code>
                {p.description && <span class="muted small"> — {p.description}</span>}
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      <FormError error={error} />
      <div class="form-actions">
        <button type="button" class="btn" onClick={() => onDone(false)}>
          {t("dialog.cancel")}
        </button>
        <button type="submit" class="btn btn-primary" disabled={!name.trim()}>
          {role ? t("admin.save") : t("admin.createRoleSubmit")}
        </button>
      </div>
    </form>
  );
}

function RegisterPermission({ onDone }: { onDone: () => void }) {
  const t = useT();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const p = await api.registerPermission(name.trim(), description.trim());
      showToast(t("admin.permissionRegistered", { name: p.name }));
      setName("");
      setDescription("");
      onDone();
    } catch (err) {
      setError(errorText(err, t));
    }
  };
  return (
    <form class="form card" onSubmit={submit} aria-labelledby="register-permission">
      <h3 id="register-permission">{t("admin.registerPermission")}</h3>
      <label class="field">
        <span>{t("admin.permissionName")}</span>
        <input required name="permission-name" value={name} placeholder="resume_library.read" onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>{t("admin.description")}</span>
        <input name="permission-description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </label>
      <FormError error={error} />
      <button type="submit" class="btn btn-primary" disabled={!name.trim()}>
        {t("admin.register")}
      </button>
    </form>
  );
}

function AssignForm({ roles, departments, onDone }: { roles: Role[]; departments: Department[]; onDone: () => void }) {
  const t = useT();
  const assignable = roles.filter((r) => r.builtin !== "member" && r.builtin !== "guest");
  const [roleId, setRoleId] = useState<number | null>(assignable[0]?.id ?? null);
  const [kind, setKind] = useState<"user" | "department">("user");
  const [user, setUser] = useState<User | null>(null);
  const [dept, setDept] = useState<DepartmentId | null>(null);
  const [scope, setScope] = useState<DepartmentId | null>(null);
  const [error, setError] = useState<string | null>(null);
  const subjectId = kind === "user" ? (user?.id ?? null) : dept;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (roleId === null || subjectId === null) return;
    setError(null);
    try {
      await api.assign(roleId, kind === "user" ? { kind: "user", id: subjectId } : { kind: "department", id: subjectId }, scope);
      showToast(t("admin.assigned"));
      setUser(null);
      onDone();
    } catch (err) {
      setError(errorText(err, t));
    }
  };
  return (
    <form class="form card" onSubmit={submit} aria-labelledby="assign-role">
      <h3 id="assign-role">{t("admin.assignRole")}</h3>
      <label class="field">
        <span>{t("admin.role")}</span>
        <select name="assign-role" value={roleId === null ? "" : String(roleId)} onChange={(e) => setRoleId(Number(e.currentTarget.value))}>
          {assignable.map((r) => (
            <option key={r.id} value={String(r.id)}>
              {r.name}
            </option>
          ))}
        </select>
      </label>
      <fieldset class="field">
        <legend>{t("admin.assignTo")}</legend>
        <div class="segmented">
          {(["user", "department"] as const).map((k) => (
            <label key={k} class={kind === k ? "on" : ""}>
              <input type="radio" name="subject-kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
              {k === "user" ? t("admin.subjectUser") : t("admin.subjectDepartment")}
            </label>
          ))}
        </div>
      </fieldset>
      {kind === "user" ? (
        <PersonPicker label={t("admin.person")} value={user} onChange={setUser} />
      ) : (
        <DeptSelect label={t("admin.subjectDepartment")} departments={departments} value={dept} noneLabel="—" onChange={setDept} />
      )}
      <DeptSelect label={t("admin.scope")} name="scope" departments={departments} value={scope} noneLabel={t("admin.wholeOrg")} onChange={setScope} />
      <FormError error={error} />
      <button type="submit" class="btn btn-primary" disabled={roleId === null || subjectId === null}>
        {t("admin.assign")}
      </button>
    </form>
  );
}

function RolesSection() {
  const t = useT();
  const users = useStore(chat, (c) => c.users);
  const [roles, setRoles] = useState<Role[] | null>(null);
  const [catalogue, setCatalogue] = useState<Permission[]>([]);
  const [assignments, setAssignments] = useState<RoleAssignment[]>([]);
  const [departments, reloadDepartments] = useDepartments();
  const [editing, setEditing] = useState<Role | "new" | null>(null);
  const [revoking, setRevoking] = useState<RoleAssignment | null>(null);
  const [deleting, setDeleting] = useState<Role | null>(null);
  const load = () => {
    api.roles().then(setRoles).catch(reportError);
    api.permissions().then(setCatalogue).catch(reportError);
    api
      .assignments()
      .then((list) => {
        setAssignments(list);
        ensureUsers(list.flatMap((a) => (a.subject.kind === "user" ? [a.subject.id] : [])));
      })
      .catch(reportError);
  };
  useEffect(load, []);
  const roleName = (id: number) => roles?.find((r) => r.id === id)?.name ?? `#${id}`;
  const deptName = (id: DepartmentId) =>
    departments
      ? pathTo(departments, id)
          .map((d) => d.name)
          .join(" › ") || `#${id}`
      : `#${id}`;
  return (
    <div class="admin-grid">
      <section aria-labelledby="admin-roles">
        <div class="section-head">
          <h2 id="admin-roles">{t("admin.roles")}</h2>
          <button type="button" class="btn btn-primary" onClick={() => setEditing("new")}>
            <Icon name="plus" size={16} /> {t("admin.newRole")}
          </button>
        </div>
        {editing && (
          <RoleEditor
            key={editing === "new" ? "new" : editing.id}
            role={editing === "new" ? null : editing}
            catalogue={catalogue}
            onDone={(saved) => {
              setEditing(null);
              if (saved) load();
            }}
          />
        )}
        {!roles && <p class="muted">{t("loading")}</p>}
        <ul class="role-list">
          {roles?.map((r) => (
            <li key={r.id} class="role-item" data-role-id={r.id}>
              <div class="role-head">
                <strong class="role-name">{r.name}</strong>
                {r.builtin && <span class="tag">{t("admin.builtin")}</span>}
                <button type="button" class="link-btn" onClick={() => setEditing(r)} aria-label={t("admin.editRole", { name: r.name })}>
                  {t("admin.edit")}
                </button>
                {!r.builtin && (
                  <button type="button" class="link-btn danger" onClick={() => setDeleting(r)} aria-label={t("admin.deleteNamed", { name: r.name })}>
                    {t("admin.delete")}
                  </button>
                )}
              </div>
              {r.description && <p class="muted small">{r.description}</p>}
              <ul class="tag-list" aria-label={t("admin.permissions")}>
                {r.permissions.map((p) => (
                  <li key={p} class="tag perm-tag">
                    {p}
                  </li>
                ))}
                {r.permissions.length === 0 && <li class="muted small">{t("admin.noPermissions")}</li>}
              </ul>
            </li>
          ))}
        </ul>
        <h2 id="admin-assignments">{t("admin.assignments")}</h2>
        <div class="table-wrap">
          <table class="table" aria-labelledby="admin-assignments">
            <thead>
              <tr>
                <th scope="col">{t("admin.role")}</th>
                <th scope="col">{t("admin.subject")}</th>
                <th scope="col">{t("admin.scope")}</th>
                <th scope="col">{t("admin.since")}</th>
                <th scope="col">
                  <span class="sr-only">{t("admin.actions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {assignments.map((a) => (
                <tr key={a.id} data-assignment-id={a.id}>
                  <td>{roleName(a.role_id)}</td>
                  <td>
                    {a.subject.kind === "user" ? (
                      <span class="cell-user">
                        <Avatar user={users[a.subject.id]} id={a.subject.id} size={22} />
                        {displayName(users[a.subject.id], `#${a.subject.id}`)}
                      </span>
                    ) : (
                      <span>
                        <Icon name="building" size={14} /> {deptName(a.subject.id)}
                      </span>
                    )}
                  </td>
                  <td>{a.scope_department_id === null ? t("admin.wholeOrg") : deptName(a.scope_department_id)}</td>
                  <td>
                    <time dateTime={a.created_at} title={formatDateTime(a.created_at, t.time)}>
                      {formatDate(a.created_at, t.time)}
                    </time>
                  </td>
                  <td>
                    <button type="button" class="link-btn danger" onClick={() => setRevoking(a)}>
                      {t("admin.revoke")}
                    </button>
                  </td>
                </tr>
              ))}
              {assignments.length === 0 && (
                <tr>
                  <td colSpan={5} class="muted">
                    {t("admin.noAssignments")}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      </section>
      <div class="side-forms">
        {roles && departments && (
          <AssignForm
            roles={roles}
            departments={departments}
            onDone={() => {
              load();
              reloadDepartments();
            }}
          />
        )}
        <RegisterPermission onDone={load} />
      </div>
      {deleting && (
        <ConfirmDialog
          text={t("admin.confirmDeleteRole", { name: deleting.name })}
          confirmLabel={t("admin.delete")}
          danger
          onClose={() => setDeleting(null)}
          onConfirm={() => {
            const id = deleting.id;
            setDeleting(null);
            api
              .deleteRole(id)
              .then(load)
              .catch(reportError);
          }}
        />
      )}
      {revoking && (
        <ConfirmDialog
          text={t("admin.confirmRevoke", { role: roleName(revoking.role_id) })}
          confirmLabel={t("admin.revoke")}
          danger
          onClose={() => setRevoking(null)}
          onConfirm={() => {
            const id = revoking.id;
            setRevoking(null);
            api
              .revoke(id)
              .then(load)
              .catch(reportError);
          }}
        />
      )}
    </div>
  );
}

// ---------------------------------------------------------------- audit log

const AUDIT_PAGE = 50;

function DiffView({ entry }: { entry: AuditEntry }) {
  const lines = diffJson(entry.before, entry.after);
  if (lines.length === 0) return null;
  return (
    <ul class="diff">
      {lines.map((l, i) => (
        <li key={i}>
          {l.key && <span class="diff-key">{l.key}:</span>}
          {l.before !== undefined && <del title={l.before}>{l.before}</del>}
          {l.before !== undefined && l.after !== undefined && <span aria-hidden="true"> → </span>}
          {l.after !== undefined && <ins title={l.after}>{l.after}</ins>}
        </li>
      ))}
    </ul>
  );
}

function AuditSection() {
  const t = useT();
  const users = useStore(chat, (c) => c.users);
  const [filters, setFilters] = useState<AuditFilters>(EMPTY_AUDIT_FILTERS);
  const [actor, setActor] = useState<User | null>(null);
  const [applied, setApplied] = useState<AuditFilters>(EMPTY_AUDIT_FILTERS);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fetchPage = (f: AuditFilters, before?: number) =>
    api.audit(auditQuery(f, t.time.timeZone, before, AUDIT_PAGE)).then((page) => {
      ensureUsers(page.flatMap((e) => (e.actor_id !== null ? [e.actor_id] : [])));
      setHasMore(page.length === AUDIT_PAGE);
      return page;
    });
  useEffect(() => {
    setError(null);
    setEntries(null);
    fetchPage(applied)
      .then(setEntries)
      .catch((e) => setError(errorText(e, t)));
  }, [applied]);
  const submit = (e: Event) => {
    e.preventDefault();
    setApplied({ ...filters, actor: actor ? String(actor.id) : "" });
  };
  const older = () => {
    const last = entries?.[entries.length - 1];
    if (!last) return;
    fetchPage(applied, last.id)
      .then((page) => setEntries((cur) => [...(cur ?? []), ...page]))
      .catch((e) => setError(errorText(e, t)));
  };
  const set = (k: keyof AuditFilters) => (e: Event) => setFilters({ ...filters, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <section aria-labelledby="admin-audit" class="audit">
      <h2 id="admin-audit">{t("admin.audit")}</h2>
      <form class="audit-filters" onSubmit={submit} aria-label={t("audit.filters")}>
        <PersonPicker label={t("audit.actor")} value={actor} onChange={setActor} />
        <label class="field">
          <span>{t("audit.action")}</span>
          <input name="action" value={filters.action} placeholder="role." onInput={set("action")} />
        </label>
        <label class="field">
          <span>{t("audit.target")}</span>
          <input name="target" value={filters.target} placeholder="user:2" onInput={set("target")} />
        </label>
        <label class="field">
          <span>{t("audit.from")}</span>
          <input name="from" type="datetime-local" value={filters.from} onInput={set("from")} />
        </label>
        <label class="field">
          <span>{t("audit.to")}</span>
          <input name="to" type="datetime-local" value={filters.to} onInput={set("to")} />
        </label>
        <div class="audit-buttons">
          <button type="submit" class="btn btn-primary">
            {t("audit.apply")}
          </button>
          <button
            type="button"
            class="btn"
            onClick={() => {
              setFilters(EMPTY_AUDIT_FILTERS);
              setActor(null);
              setApplied(EMPTY_AUDIT_FILTERS);
            }}
          >
            {t("audit.clear")}
          </button>
        </div>
      </form>
      <p class="muted small">{t("audit.zoneNote", { zone: t.time.timeZone })}</p>
      <FormError error={error} />
      {!entries && !error && <p class="muted">{t("loading")}</p>}
      {entries && (
        <div class="table-wrap">
          <table class="table audit-table">
            <thead>
              <tr>
                <th scope="col">{t("audit.when")}</th>
                <th scope="col">{t("audit.actor")}</th>
                <th scope="col">{t("audit.action")}</th>
                <th scope="col">{t("audit.target")}</th>
                <th scope="col">{t("audit.change")}</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id} data-audit-id={e.id}>
                  <td>
                    <time dateTime={e.at} title={formatDateTime(e.at, t.time)}>
                      {formatDate(e.at, t.time)} {new Intl.DateTimeFormat(t.locale, { timeStyle: "medium", timeZone: t.time.timeZone }).format(new Date(e.at))}
                    </time>
                  </td>
                  <td>{e.actor_id === null ? <span class="muted">{t("audit.system")}</span> : displayName(users[e.actor_id], `#${e.actor_id}`)}</td>
                  <td>
                    <code class="audit-action">{e.action}</code>
                  </td>
                  <td>
                    <code>{e.target}</code>
                  </td>
                  <td class="audit-change">
                    <DiffView entry={e} />
                  </td>
                </tr>
              ))}
              {entries.length === 0 && (
                <tr>
                  <td colSpan={5} class="muted">
                    {t("audit.empty")}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
      {entries && hasMore && (
        <button type="button" class="btn" onClick={older}>
          {t("audit.older")}
        </button>
      )}
    </section>
  );
}

// ---------------------------------------------------------------- the console

const SECTION_LABEL: Record<
  AdminSection,
  | "admin.users"
  | "admin.people"
  | "admin.departments"
  | "admin.roles"
  | "admin.retention"
  | "admin.exports"
  | "admin.audit"
  | "apps.title"
> = {
  users: "admin.users",
  people: "admin.people",
  departments: "admin.departments",
  roles: "admin.roles",
  retention: "admin.retention",
  exports: "admin.exports",
  audit: "admin.audit",
  apps: "apps.title",
};

function Section({ tab }: { tab: AdminSection }) {
  switch (tab) {
    case "users":
      return <UsersSection />;
    case "people":
      return <PeopleSection />;
    case "departments":
      return <DepartmentsSection />;
    case "roles":
      return <RolesSection />;
    case "retention":
      return <RetentionSection />;
    case "exports":
      return <ExportsSection />;
    case "audit":
      return <AuditSection />;
    case "apps":
      return <AppsSection />;
  }
}

export function AdminConsole() {
  const t = useT();
  const me = useStore(chat, (c) => c.me);
  const perms = useStore(permissions, (p) => p);
  const current = useStore(route, (r) => r);
  const sections = adminSections(perms, !!me?.is_admin);
  if (!perms && !me?.is_admin) {
    return (
      <PageFrame title={t("admin.title")}>
        <p class="muted">{t("loading")}</p>
      </PageFrame>
    );
  }
  if (sections.length === 0) {
    return (
      <PageFrame title={t("admin.title")}>
        <p>{t("admin.notAdmin")}</p>
      </PageFrame>
    );
  }
  const wanted = current.name === "admin" ? current.tab : undefined;
  const tab = wanted && sections.includes(wanted) ? wanted : sections[0]!;
  return (
    <PageFrame title={t("admin.title")}>
      <nav class="tabs" aria-label={t("admin.sections")}>
        {sections.map((s) => (
          <a
            key={s}
            href={`/admin/${s}`}
            class={`tab ${s === tab ? "on" : ""}`}
            aria-current={s === tab ? "page" : undefined}
            onClick={(e) => {
              e.preventDefault();
              navigate({ name: "admin", tab: s });
            }}
          >
            {t(SECTION_LABEL[s])}
          </a>
        ))}
      </nav>
      <Section key={tab} tab={tab} />
    </PageFrame>
  );
}
