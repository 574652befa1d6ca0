// The directory: the department tree (expand/collapse, member counts), the people in the
// selected department, a search box (names, employee numbers, pinyin: "zs" finds 张三), and
// the selected person's profile. Guests (no directory.read) get a friendly message instead.

import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import type { Department, DepartmentId, User } from "../api/types";
import { useT } from "../i18n";
import { api, reportError } from "../state/app";
import { ancestorsOf, buildTree, pathTo, visibleRows, type DeptNode } from "../state/org";
import { permissions, showDirectory } from "../state/perms";
import { navigate, route } from "../state/router";
import { useStore } from "../state/store";
import { Avatar, displayName } from "./common";
import { Icon } from "./icons";
import { PageFrame } from "./Pages";
import { ProfileCard } from "./Profile";

function TreeRow({
  node,
  expanded,
  selected,
  onToggle,
  onSelect,
}: {
  node: DeptNode;
  expanded: boolean;
  selected: boolean;
  onToggle: () => void;
  onSelect: () => void;
}) {
  const t = useT();
  const hasKids = node.children.length > 0;
  return (
    <li class={`tree-row ${selected ? "selected" : ""}`} style={{ paddingLeft: `${8 + node.depth * 16}px` }} data-department-id={node.dept.id}>
      {hasKids ? (
        <button
          type="button"
          class="icon-btn small tree-toggle"
          aria-expanded={expanded}
          aria-label={t(expanded ? "directory.collapse" : "directory.expand", { name: node.dept.name })}
          onClick={onToggle}
        >
          <Icon name={expanded ? "chevronDown" : "chevronRight"} size={14} />
        </button>
      ) : (
        <span class="tree-toggle" aria-hidden="true" />
      )}
      <button type="button" class="tree-name" aria-current={selected ? "true" : undefined} onClick={onSelect}>
        <span class="tree-label">{node.dept.name}</span>
        <span class="tree-count" title={t.plural("directory.people", node.totalMembers)}>
          {node.totalMembers}
        </span>
      </button>
    </li>
  );
}

function PersonRow({ user, active }: { user: User; active: boolean }) {
  return (
    <li>
      <a
        href={`/directory/people/${user.id}`}
        class={`person-row ${active ? "active" : ""}`}
        aria-current={active ? "true" : undefined}
        data-user-id={user.id}
        onClick={(e) => {
          e.preventDefault();
          navigate({ name: "directory", userId: user.id });
        }}
      >
        <Avatar user={user} id={user.id} size={32} />
        <span class="person-row-text">
          <span class="person-name">{displayName(user, `#${user.id}`)}</span>
          <span class="muted small">@{user.username}</span>
        </span>
      </a>
    </li>
  );
}

export function DirectoryPage() {
  const t = useT();
  const perms = useStore(permissions, (p) => p);
  const current = useStore(route, (r) => r);
  const userId = current.name === "directory" ? current.userId : undefined;
  // The server has the last word: a 403 (permissions changed since they loaded) reads as "no".
  const [forbidden, setForbidden] = useState(false);
  const allowed = showDirectory(perms) && !forbidden;
  const [departments, setDepartments] = useState<Department[] | null>(null);
  const [expanded, setExpanded] = useState<Set<DepartmentId>>(new Set());
  const [selected, setSelected] = useState<DepartmentId | null>(null);
  const [query, setQuery] = useState("");
  const [people, setPeople] = useState<User[] | null>(null);
  const [next, setNext] = useState<number | null>(null);

  useEffect(() => {
    if (!allowed) return;
    api
      .departments()
      .then((list) => {
        setDepartments(list);
        // Top-level departments start open.
        setExpanded(new Set(list.filter((d) => d.parent_id === null).map((d) => d.id)));
      })
      .catch((e) => (e instanceof ApiError && e.status === 403 ? setForbidden(true) : reportError(e)));
  }, [allowed]);

  // The list: search results, a department's people, or everyone (paged).
  useEffect(() => {
    if (!allowed) return;
    let live = true;
    const q = query.trim();
    const timer = setTimeout(
      () => {
        const job =
          q !== ""
            ? api.people({ q, limit: 50 }).then((p) => ({ users: p.users, next: null }))
            : selected !== null
              ? api.departmentMembers(selected).then((users) => ({ users, next: null }))
              : api.people({ limit: 100 }).then((p) => ({ users: p.users, next: p.next_after }));
        job
          .then((r) => {
            if (!live) return;
            setPeople(r.users);
            setNext(r.next);
          })
          .catch(reportError);
      },
      q ? 200 : 0,
    );
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [allowed, query, selected]);

  const tree = useMemo(() => buildTree(departments ?? [], new Intl.Collator(t.locale)), [departments, t.locale]);
  const rows = useMemo(() => visibleRows(tree, expanded), [tree, expanded]);

  if (!perms) {
    return (
      <PageFrame title={t("directory.title")}>
        <p class="muted">{t("loading")}</p>
      </PageFrame>
    );
  }
  if (!allowed) {
    return (
      <PageFrame title={t("directory.title")}>
        <div class="friendly">
          <Icon name="building" size={40} />
          <p>{t("directory.guest")}</p>
        </div>
      </PageFrame>
    );
  }

  const toggle = (id: DepartmentId) => {
    const nextSet = new Set(expanded);
    if (nextSet.has(id)) nextSet.delete(id);
    else nextSet.add(id);
    setExpanded(nextSet);
  };
  const selectDepartment = (id: DepartmentId | null) => {
    setSelected(id);
    setQuery("");
    if (id !== null && departments) setExpanded(new Set([...expanded, ...ancestorsOf(departments, id)]));
  };
  const more = () =>
    next !== null &&
    api
      .people({ after: next, limit: 100 })
      .then((p) => {
        setPeople((cur) => [...(cur ?? []), ...p.users]);
        setNext(p.next_after);
      })
      .catch(reportError);

  const heading =
    query.trim() !== ""
      ? t("directory.results", { q: query.trim() })
      : selected !== null && departments
        ? pathTo(departments, selected)
            .map((d) => d.name)
            .join(" › ")
        : t("directory.everyone");

  return (
    <PageFrame title={t("directory.title")}>
      <div class={`directory ${userId !== undefined ? "with-profile" : ""}`}>
        <section class="dir-tree" aria-labelledby="dir-tree-title">
          <h2 id="dir-tree-title">{t("directory.departments")}</h2>
          <ul class="tree" aria-label={t("directory.departments")}>
            <li class={`tree-row ${selected === null ? "selected" : ""}`}>
              <span class="tree-toggle" aria-hidden="true" />
              <button type="button" class="tree-name" aria-current={selected === null ? "true" : undefined} onClick={() => selectDepartment(null)}>
                <span class="tree-label">{t("directory.everyone")}</span>
              </button>
            </li>
            {rows.map((n) => (
              <TreeRow
                key={n.dept.id}
                node={n}
                expanded={expanded.has(n.dept.id)}
                selected={selected === n.dept.id}
                onToggle={() => toggle(n.dept.id)}
                onSelect={() => selectDepartment(n.dept.id)}
              />
            ))}
          </ul>
          {departments && departments.length === 0 && <p class="muted small">{t("directory.noDepartments")}</p>}
        </section>
        <section class="dir-people" aria-labelledby="dir-people-title">
          <label class="field search-field">
            <span class="sr-only">{t("directory.search")}</span>
            <input
              type="search"
              placeholder={t("directory.search")}
              value={query}
              onInput={(e) => setQuery(e.currentTarget.value)}
              aria-describedby="dir-search-hint"
            />
            <small id="dir-search-hint" class="muted">
              {t("directory.searchHint")}
            </small>
          </label>
          <h2 id="dir-people-title" class="dir-heading">
            {heading}
          </h2>
          {!people && <p class="muted">{t("loading")}</p>}
          {people && people.length === 0 && <p class="muted">{query.trim() ? t("directory.noMatch") : t("directory.empty")}</p>}
          <ul class="person-list">
            {people?.map((u) => (
              <PersonRow key={u.id} user={u} active={u.id === userId} />
            ))}
          </ul>
          {next !== null && query.trim() === "" && selected === null && (
            <button type="button" class="btn" onClick={more}>
              {t("browse.more")}
            </button>
          )}
        </section>
        {userId !== undefined && (
          <section class="dir-profile" aria-label={t("profile.title")}>
            <button type="button" class="link-btn dir-back" onClick={() => navigate({ name: "directory" })}>
              {t("directory.back")}
            </button>
            <ProfileCard userId={userId} onDepartment={(id) => selectDepartment(id)} />
          </section>
        )}
      </div>
    </PageFrame>
  );
}
