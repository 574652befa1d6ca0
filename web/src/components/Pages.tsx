// Full-width pages: browse public channels, settings, and the admin console.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import type { Channel, User } from "../api/types";
import { useT } from "../i18n";
import { formatDate, formatDateTime, formatTime, timeZones } from "../i18n/time";
import { api, chat, joinChannel, patchUi, reportError, showToast } from "../state/app";
import { navigate } from "../state/router";
import { settings, updateSettings, type LanguageSetting, type ThemeSetting } from "../state/settings";
import { useStore } from "../state/store";
import { Avatar } from "./common";
import { Icon } from "./icons";

function PageFrame({ title, children }: { title: string; children: ComponentChildren }) {
  const t = useT();
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="channel-head">
        <button type="button" class="icon-btn drawer-open" aria-label={t("sidebar.open")} onClick={() => patchUi({ drawerOpen: true })}>
          <Icon name="menu" />
        </button>
        <h1 id="page-title" class="channel-title">
          {title}
        </h1>
      </header>
      <div class="page-body">{children}</div>
    </section>
  );
}

export function BrowsePage() {
  const t = useT();
  const mine = useStore(chat, (c) => c.channels);
  const [channels, setChannels] = useState<Channel[]>([]);
  const [next, setNext] = useState<number | null | undefined>(undefined);
  const [filter, setFilter] = useState("");
  const load = (after?: number) =>
    api
      .browseChannels(after)
      .then((page) => {
        setChannels((c) => (after === undefined ? page.channels : [...c, ...page.channels]));
        setNext(page.next_after);
      })
      .catch(reportError);
  useEffect(() => {
    load();
  }, []);
  const q = filter.trim().toLowerCase();
  const shown = channels.filter((c) => !q || c.name.includes(q) || c.topic.toLowerCase().includes(q));
  return (
    <PageFrame title={t("browse.title")}>
      <label class="field">
        <span class="sr-only">{t("browse.filter")}</span>
        <input type="search" placeholder={t("browse.filter")} value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      </label>
      <ul class="browse-list">
        {shown.map((c) => {
          const joined = !!mine[c.id];
          return (
            <li key={c.id} class="browse-item">
              <div>
                <div class="browse-name">
                  <Icon name="hash" size={16} /> {c.name}
                  {joined && <span class="tag">{t("browse.joined")}</span>}
                </div>
                {c.topic && <p class="muted small">{c.topic}</p>}
              </div>
              {joined ? (
                <button type="button" class="btn" onClick={() => navigate({ name: "channel", channelId: c.id })}>
                  {t("browse.open")}
                </button>
              ) : (
                <button type="button" class="btn btn-primary" onClick={() => joinChannel(c.id).catch(reportError)}>
                  {t("browse.join")}
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {next === undefined && <p class="muted">{t("loading")}</p>}
      {next !== undefined && shown.length === 0 && <p class="muted">{t("browse.empty")}</p>}
      {next !== null && next !== undefined && (
        <button type="button" class="btn" onClick={() => load(next)}>
          {t("browse.more")}
        </button>
      )}
    </PageFrame>
  );
}

export function SettingsPage() {
  const t = useT();
  const s = useStore(settings, (x) => x);
  const [now, setNow] = useState(new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 30_000);
    return () => clearInterval(timer);
  }, []);
  const deviceZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const permission = typeof Notification === "undefined" ? "denied" : Notification.permission;
  const setNotifications = async (on: boolean) => {
    updateSettings({ notifications: on });
    if (on && typeof Notification !== "undefined" && Notification.permission === "default") {
      await Notification.requestPermission();
      setNow(new Date());
    }
  };
  return (
    <PageFrame title={t("settings.title")}>
      <div class="settings">
        <label class="field">
          <span>{t("settings.language")}</span>
          <select value={s.language} onChange={(e) => updateSettings({ language: e.currentTarget.value as LanguageSetting })}>
            <option value="auto">{t("settings.languageAuto")}</option>
            <option value="en">English</option>
            <option value="zh-CN">简体中文</option>
          </select>
        </label>
        <label class="field">
          <span>{t("settings.timeZone")}</span>
          <select value={s.timeZone} onChange={(e) => updateSettings({ timeZone: e.currentTarget.value })}>
            <option value="auto">{t("settings.timeZoneAuto", { zone: deviceZone })}</option>
            {timeZones().map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
          <small class="muted">{t("settings.now", { time: `${formatTime(now, t.time)} · ${formatDateTime(now, t.time)}` })}</small>
        </label>
        <fieldset class="field">
          <legend>{t("settings.theme")}</legend>
          <div class="segmented">
            {(["system", "light", "dark"] as ThemeSetting[]).map((th) => (
              <label key={th} class={s.theme === th ? "on" : ""}>
                <input type="radio" name="theme" value={th} checked={s.theme === th} onChange={() => updateSettings({ theme: th })} />
                {th === "system" ? t("settings.themeSystem") : th === "light" ? t("settings.themeLight") : t("settings.themeDark")}
              </label>
            ))}
          </div>
        </fieldset>
        <label class="check">
          <input type="checkbox" checked={s.notifications} onChange={(e) => setNotifications(e.currentTarget.checked)} />
          <span>{t("settings.notifications")}</span>
        </label>
        {s.notifications && permission === "denied" && <p class="muted small">{t("settings.notificationsBlocked")}</p>}
        <p class="muted small">{t("settings.storedLocally")}</p>
      </div>
    </PageFrame>
  );
}

export function AdminPage() {
  const t = useT();
  const me = useStore(chat, (c) => c.me);
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
    if (me?.is_admin) load();
  }, [me?.is_admin]);
  if (!me?.is_admin) {
    return (
      <PageFrame title={t("admin.title")}>
        <p>{t("admin.notAdmin")}</p>
      </PageFrame>
    );
  }
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
      setError(err instanceof ApiError ? err.message : t("error.generic"));
    } finally {
      setBusy(false);
    }
  };
  const set = (k: keyof typeof form) => (e: Event) => {
    const el = e.currentTarget as HTMLInputElement;
    setForm({ ...form, [k]: el.type === "checkbox" ? el.checked : el.value });
  };
  return (
    <PageFrame title={t("admin.title")}>
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
          <p class="muted small">{t("admin.comingLater")}</p>
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
            {error && (
              <p class="form-error" role="alert">
                {error}
              </p>
            )}
            <button type="submit" class="btn btn-primary" disabled={busy || !form.username || !form.password}>
              {t("admin.create")}
            </button>
          </form>
        </section>
      </div>
    </PageFrame>
  );
}
