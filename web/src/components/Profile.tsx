// A person's profile: avatar initials, name, title, status, the department path as
// breadcrumbs, their local time (ticking, in their zone), manager, tags, email and phone.
// Shown in the directory and, beside a conversation, in the side panel (a sender's name
// opens it). Loaded with the directory's chunk.

import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import type { DepartmentId, User, UserProfile } from "../api/types";
import { useT, type Translator } from "../i18n";
import { formatTime } from "../i18n/time";
import { api, chat, ensureUsers, openDm, openProfile, patchUi, reportError } from "../state/app";
import { permissions, showDirectory } from "../state/perms";
import { isValidTimeZone } from "../state/settings";
import { useStore } from "../state/store";
import { Avatar, displayName } from "./common";
import { Icon } from "./icons";
import "../styles/org.css";

export function statusLabel(status: UserProfile["status"], t: Translator): string {
  return status === "active" ? t("status.active") : status === "suspended" ? t("status.suspended") : t("status.deactivated");
}

/** Ticks every 30 s, for clocks. */
function useNow(): Date {
  const [now, setNow] = useState(new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), 30_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

export function ProfileCard({
  userId,
  onDepartment,
}: {
  userId: number;
  /** Breadcrumbs become links to the department (in the directory). */
  onDepartment?: (id: DepartmentId) => void;
}) {
  const t = useT();
  const users = useStore(chat, (c) => c.users);
  const me = useStore(chat, (c) => c.me);
  const perms = useStore(permissions, (p) => p);
  const [profile, setProfile] = useState<UserProfile | null>(null);
  const [error, setError] = useState<string | null>(null);
  const now = useNow();
  const allowed = userId === me?.id || showDirectory(perms);

  useEffect(() => {
    setProfile(null);
    setError(null);
    if (!allowed) return;
    let live = true;
    api
      .profile(userId)
      .then((p) => {
        if (!live) return;
        setProfile(p);
        if (p.manager_id !== null) ensureUsers([p.manager_id]);
      })
      .catch((e) => live && setError(e instanceof ApiError && !e.isNetwork ? e.message : t("error.loadFailed")));
    return () => {
      live = false;
    };
  }, [userId, allowed]);

  if (!allowed) return <p class="muted panel-pad">{t("directory.noAccess")}</p>;
  if (error) return <p class="form-error panel-pad">{error}</p>;
  if (!profile) return <p class="muted panel-pad">{t("loading")}</p>;

  const p = profile;
  const manager: User | undefined = p.manager_id !== null ? users[p.manager_id] : undefined;
  const zone = p.time_zone && isValidTimeZone(p.time_zone) ? p.time_zone : null;
  return (
    <article class="profile" aria-labelledby={`profile-name-${p.id}`} data-user-id={p.id}>
      <header class="profile-head">
        <Avatar user={p} id={p.id} size={64} />
        <div class="profile-id">
          <h2 id={`profile-name-${p.id}`} class="profile-name">
            {displayName(p, `#${p.id}`)}
          </h2>
          {p.title && <p class="profile-title">{p.title}</p>}
          <p class="muted small">
            @{p.username}
            {p.is_bot && <span class="tag">{t("apps.botTag")}</span>}
            {p.status !== "active" && <span class={`tag status-${p.status}`}>{statusLabel(p.status, t)}</span>}
          </p>
        </div>
      </header>
      {p.department_path.length > 0 && (
        <nav class="crumbs" aria-label={t("profile.department")}>
          <ol>
            {p.department_path.map((d, i) => (
              <li key={d.id}>
                {onDepartment ? (
                  <button type="button" class="link-btn" onClick={() => onDepartment(d.id)} aria-current={i === p.department_path.length - 1 ? "location" : undefined}>
                    {d.name}
                  </button>
                ) : (
                  <span>{d.name}</span>
                )}
              </li>
            ))}
          </ol>
        </nav>
      )}
      <dl class="profile-facts">
        <dt>{t("profile.localTime")}</dt>
        <dd class="profile-local-time">
          {zone ? (
            <>
              <Icon name="clock" size={14} /> {formatTime(now, { locale: t.locale, timeZone: zone })}{" "}
              <span class="muted small">({zone})</span>
            </>
          ) : (
            <span class="muted">{t("profile.unknownZone")}</span>
          )}
        </dd>
        {manager || p.manager_id !== null ? (
          <>
            <dt>{t("profile.manager")}</dt>
            <dd>
              <button type="button" class="link-btn" onClick={() => openProfile(p.manager_id!)}>
                {displayName(manager, `#${p.manager_id}`)}
              </button>
            </dd>
          </>
        ) : null}
        {p.email && (
          <>
            <dt>{t("profile.email")}</dt>
            <dd>
              <a href={`mailto:${p.email}`}>{p.email}</a>
            </dd>
          </>
        )}
        {p.phone && (
          <>
            <dt>{t("profile.phone")}</dt>
            <dd>
              <a href={`tel:${p.phone.replace(/[^\d+]/g, "")}`}>{p.phone}</a>
            </dd>
          </>
        )}
        {p.employee_no && (
          <>
            <dt>{t("profile.employeeNo")}</dt>
            <dd>{p.employee_no}</dd>
          </>
        )}
        {p.region && (
          <>
            <dt>{t("profile.region")}</dt>
            <dd>{p.region}</dd>
          </>
        )}
        <dt>{t("profile.status")}</dt>
        <dd>{statusLabel(p.status, t)}</dd>
      </dl>
      {p.project_tags.length > 0 && (
        <ul class="tag-list" aria-label={t("profile.tags")}>
          {p.project_tags.map((tag) => (
            <li key={tag} class="tag">
              {tag}
            </li>
          ))}
        </ul>
      )}
      {p.id !== me?.id && p.status === "active" && (
        <button type="button" class="btn btn-primary" onClick={() => openDm([p.id]).catch(reportError)}>
          <Icon name="message" size={16} /> {t("profile.message")}
        </button>
      )}
    </article>
  );
}

/** The side panel beside a conversation. */
export function ProfilePanel({ userId }: { userId: number }) {
  const t = useT();
  return (
    <aside class="panel profile-panel" aria-labelledby="panel-title">
      <header class="panel-head">
        <h2 id="panel-title">{t("profile.title")}</h2>
        <button type="button" class="icon-btn" aria-label={t("profile.close")} onClick={() => patchUi({ panel: null, profileUserId: null })}>
          <Icon name="close" />
        </button>
      </header>
      <div class="panel-scroll panel-pad">
        <ProfileCard userId={userId} />
      </div>
    </aside>
  );
}
