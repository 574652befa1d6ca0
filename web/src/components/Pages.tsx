// Full-width pages: browse public channels and settings (with the profile); the page frame.

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import type { Channel } from "../api/types";
import { useT } from "../i18n";
import { formatDateTime, formatTime, timeZones } from "../i18n/time";
import { api, chat, joinChannel, myProfile, patchUi, reportError, saveMyProfile, showToast } from "../state/app";
import { navigate } from "../state/router";
import { localeFromLanguage, settings, updateSettings, type LanguageSetting, type ThemeSetting } from "../state/settings";
import { useStore } from "../state/store";
import { Icon } from "./icons";
import { SearchBox } from "./SearchBox";
import { MyDataExport } from "./Exports";

export function PageFrame({ title, children }: { title: string; children: ComponentChildren }) {
  const t = useT();
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="channel-head page-head">
        <button type="button" class="icon-btn drawer-open" aria-label={t("sidebar.open")} onClick={() => patchUi({ drawerOpen: true })}>
          <Icon name="menu" />
        </button>
        <h1 id="page-title" class="channel-title">
          {title}
        </h1>
        <SearchBox />
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

/** The user's own profile fields, saved to the server (PATCH /users/me). */
function ProfileSettings() {
  const t = useT();
  const profile = useStore(myProfile, (p) => p);
  const [form, setForm] = useState({ display_name: "", phone: "" });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (profile) setForm({ display_name: profile.display_name, phone: profile.phone ?? "" });
  }, [profile?.display_name, profile?.phone]);
  if (!profile) return <p class="muted">{t("loading")}</p>;
  const changed = form.display_name.trim() !== profile.display_name || (form.phone.trim() || null) !== profile.phone;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const patch: { display_name?: string; phone?: string | null } = {};
      if (form.display_name.trim() !== profile.display_name) patch.display_name = form.display_name.trim();
      if ((form.phone.trim() || null) !== profile.phone) patch.phone = form.phone.trim() || null;
      await saveMyProfile(patch);
      showToast(t("settings.profileSaved"));
    } catch (err) {
      setError(err instanceof ApiError && !err.isNetwork ? err.message : t("error.generic"));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" onSubmit={submit} aria-labelledby="settings-profile">
      <h2 id="settings-profile" class="settings-heading">
        {t("settings.profile")}
      </h2>
      <label class="field">
        <span>{t("admin.displayName")}</span>
        <input name="display_name" value={form.display_name} required onInput={(e) => setForm({ ...form, display_name: e.currentTarget.value })} />
      </label>
      <label class="field">
        <span>{t("profile.phone")}</span>
        <input name="phone" type="tel" value={form.phone} onInput={(e) => setForm({ ...form, phone: e.currentTarget.value })} />
      </label>
      {error && (
        <p class="form-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="btn btn-primary" disabled={busy || !changed || !form.display_name.trim()}>
        {t("settings.saveProfile")}
      </button>
    </form>
  );
}

/** Saves a preference to the profile too (so it follows the user); failures only toast. */
function savePref(patch: { locale?: string | null; time_zone?: string | null }): void {
  saveMyProfile(patch).catch(reportError);
}

export function SettingsPage() {
  const t = useT();
  const s = useStore(settings, (x) => x);
  const profile = useStore(myProfile, (p) => p);
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
  const setLanguage = (language: LanguageSetting) => {
    updateSettings({ language });
    if (profile) savePref({ locale: localeFromLanguage(language) });
  };
  const setZone = (zone: string) => {
    updateSettings({ timeZone: zone });
    if (profile) savePref({ time_zone: zone === "auto" ? null : zone });
  };
  const setSharing = (on: boolean) => {
    saveMyProfile({ location_sharing: on })
      .then(() => showToast(on ? t("settings.locationOn") : t("settings.locationOff")))
      .catch(reportError);
  };
  return (
    <PageFrame title={t("settings.title")}>
      <div class="settings">
        <ProfileSettings />
        <MyDataExport />
        <h2 class="settings-heading">{t("settings.preferences")}</h2>
        <label class="field">
          <span>{t("settings.language")}</span>
          <select value={s.language} onChange={(e) => setLanguage(e.currentTarget.value as LanguageSetting)}>
            <option value="auto">{t("settings.languageAuto")}</option>
            <option value="en">English</option>
            <option value="zh-CN">简体中文</option>
          </select>
        </label>
        <label class="field">
          <span>{t("settings.timeZone")}</span>
          <select value={s.timeZone} onChange={(e) => setZone(e.currentTarget.value)}>
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
        {profile && (
          <div>
            <label class="check">
              <input type="checkbox" name="location_sharing" checked={profile.location_sharing} onChange={(e) => setSharing(e.currentTarget.checked)} />
              <span>{t("settings.locationSharing")}</span>
            </label>
            <p class="muted small">{t("settings.locationHelp")}</p>
          </div>
        )}
        <p class="muted small">{t("settings.storedLocally")}</p>
      </div>
    </PageFrame>
  );
}
