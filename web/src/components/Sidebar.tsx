// The sidebar: the user's channels and DMs with unread and mention badges, and the way to the
// other screens. On a phone it is a drawer.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { MyChannel, User } from "../api/types";
import { useT } from "../i18n";
import { chat, patchUi, signOut, ui } from "../state/app";
import { channelTitle } from "../state/chat";
import { navigate, route } from "../state/router";
import { adminSections, permissions, showDirectory } from "../state/perms";
import { useStore } from "../state/store";
import { badgeCount, isDirect } from "../state/unread";
import { Avatar, displayName } from "./common";
import { Icon } from "./icons";
import { Logo } from "./Logo";

/** Channels then DMs, in the order the sidebar shows them (Alt+Up/Down follows it). */
export function sidebarOrder(channels: Record<number, MyChannel>, users: Record<number, User>, meId: number | null): MyChannel[] {
  const all = Object.values(channels);
  const named = all.filter((mc) => !isDirect(mc)).sort((a, b) => a.channel.name.localeCompare(b.channel.name));
  const direct = all
    .filter(isDirect)
    .sort((a, b) => channelTitle(a, users, meId).localeCompare(channelTitle(b, users, meId)));
  return [...named, ...direct];
}

function ChannelLink({ mc, active }: { mc: MyChannel; active: boolean }) {
  const t = useT();
  const users = useStore(chat, (c) => c.users);
  const presence = useStore(chat, (c) => c.presence);
  const me = useStore(chat, (c) => c.me);
  const title = channelTitle(mc, users, me?.id ?? null);
  const badge = badgeCount(mc);
  const unread = mc.unread_count > 0;
  const other = mc.channel.kind === "dm" ? (mc.dm_members.find((u) => u !== me?.id) ?? me?.id ?? 0) : null;
  const status = other !== null ? presence[other] : undefined;
  const label = [
    title,
    badge > 0 ? t.plural("sidebar.mentions", badge) : "",
    unread && badge === 0 ? t("sidebar.unread") : "",
  ]
    .filter(Boolean)
    .join(", ");
  return (
    <li>
      <a
        href={`/c/${mc.channel.id}`}
        class={`side-item ${active ? "active" : ""} ${unread ? "unread" : ""}`}
        aria-current={active ? "page" : undefined}
        aria-label={label}
        data-channel-id={mc.channel.id}
        onClick={(e) => {
          e.preventDefault();
          navigate({ name: "channel", channelId: mc.channel.id });
          patchUi({ drawerOpen: false });
        }}
      >
        <span class="side-icon">
          {mc.channel.kind === "dm" && other !== null ? (
            <Avatar user={users[other]} id={other} size={20} presence={status ?? "offline"} />
          ) : mc.channel.kind === "group_dm" ? (
            <span class="group-count">{mc.dm_members.length}</span>
          ) : (
            <Icon name={mc.channel.kind === "private" ? "lock" : "hash"} size={16} />
          )}
        </span>
        <span class="side-name">{title}</span>
        {badge > 0 && (
          <span class="badge" aria-hidden="true">
            {badge > 99 ? "99+" : badge}
          </span>
        )}
      </a>
    </li>
  );
}

export function Sidebar() {
  const t = useT();
  const channels = useStore(chat, (c) => c.channels);
  const users = useStore(chat, (c) => c.users);
  const me = useStore(chat, (c) => c.me);
  const current = useStore(route, (r) => r);
  const connection = useStore(ui, (u) => u.connection);
  const perms = useStore(permissions, (p) => p);
  const hasAdmin = adminSections(perms, !!me?.is_admin).length > 0;
  const [menuOpen, setMenuOpen] = useState(false);
  const head = useRef<HTMLElement>(null);
  // The account menu closes on a click elsewhere.
  useEffect(() => {
    if (!menuOpen) return;
    const onDown = (e: MouseEvent) => {
      if (head.current && !head.current.contains(e.target as Node)) setMenuOpen(false);
    };
    document.addEventListener("mousedown", onDown);
    return () => document.removeEventListener("mousedown", onDown);
  }, [menuOpen]);
  const ordered = useMemo(() => sidebarOrder(channels, users, me?.id ?? null), [channels, users, me]);
  const named = ordered.filter((mc) => !isDirect(mc));
  const direct = ordered.filter(isDirect);
  const activeId = current.name === "channel" ? current.channelId : null;

  const go = (r: Parameters<typeof navigate>[0]) => {
    navigate(r);
    setMenuOpen(false);
    patchUi({ drawerOpen: false });
  };

  return (
    <nav class="sidebar" aria-label={t("sidebar.label")}>
      <header class="side-head" ref={head}>
        <button
          type="button"
          class="workspace-btn"
          aria-haspopup="menu"
          aria-expanded={menuOpen}
          aria-label={t("sidebar.userMenu")}
          onClick={() => setMenuOpen(!menuOpen)}
        >
          <Logo size={28} />
          <span class="workspace-text">
            <span class="workspace-name">{t("app.name")}</span>
            <span class="workspace-user">
              <span class={`conn-dot ${connection}`} aria-hidden="true" />
              {displayName(me ?? undefined, "")}
            </span>
          </span>
        </button>
        <button
          type="button"
          class="icon-btn drawer-close"
          aria-label={t("sidebar.close")}
          onClick={() => patchUi({ drawerOpen: false })}
        >
          <Icon name="close" />
        </button>
        {menuOpen && (
          <ul class="menu" role="menu" onKeyDown={(e) => e.key === "Escape" && setMenuOpen(false)}>
            <li role="none">
              <button type="button" role="menuitem" onClick={() => go({ name: "settings" })}>
                <Icon name="settings" size={16} /> {t("sidebar.settings")}
              </button>
            </li>
            {hasAdmin && (
              <li role="none">
                <button type="button" role="menuitem" onClick={() => go({ name: "admin" })}>
                  <Icon name="shield" size={16} /> {t("sidebar.admin")}
                </button>
              </li>
            )}
            <li role="none">
              <button type="button" role="menuitem" onClick={() => signOut()}>
                <Icon name="logout" size={16} /> {t("sidebar.signOut")}
              </button>
            </li>
          </ul>
        )}
      </header>
      <div class="side-scroll">
        {showDirectory(perms) && (
          <ul class="side-list side-nav">
            <li>
              <a
                href="/directory"
                class={`side-item ${current.name === "directory" ? "active" : ""}`}
                aria-current={current.name === "directory" ? "page" : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  go({ name: "directory" });
                }}
              >
                <span class="side-icon">
                  <Icon name="building" size={16} />
                </span>
                <span class="side-name">{t("sidebar.directory")}</span>
              </a>
            </li>
          </ul>
        )}
        <section class="side-section" aria-labelledby="side-channels">
          <div class="side-section-head">
            <h2 id="side-channels">{t("sidebar.channels")}</h2>
            <button
              type="button"
              class="icon-btn small"
              aria-label={t("sidebar.browse")}
              title={t("sidebar.browse")}
              onClick={() => go({ name: "browse" })}
            >
              <Icon name="compass" size={16} />
            </button>
            <button
              type="button"
              class="icon-btn small"
              aria-label={t("sidebar.createChannel")}
              title={t("sidebar.createChannel")}
              onClick={() => patchUi({ dialog: "create-channel" })}
            >
              <Icon name="plus" size={16} />
            </button>
          </div>
          <ul class="side-list">
            {named.map((mc) => (
              <ChannelLink key={mc.channel.id} mc={mc} active={mc.channel.id === activeId} />
            ))}
          </ul>
          {named.length === 0 && <p class="side-empty">{t("sidebar.noChannels")}</p>}
        </section>
        <section class="side-section" aria-labelledby="side-dms">
          <div class="side-section-head">
            <h2 id="side-dms">{t("sidebar.dms")}</h2>
            <button
              type="button"
              class="icon-btn small"
              aria-label={t("sidebar.newDm")}
              title={t("sidebar.newDm")}
              onClick={() => patchUi({ dialog: "new-dm" })}
            >
              <Icon name="plus" size={16} />
            </button>
          </div>
          <ul class="side-list">
            {direct.map((mc) => (
              <ChannelLink key={mc.channel.id} mc={mc} active={mc.channel.id === activeId} />
            ))}
          </ul>
          {direct.length === 0 && <p class="side-empty">{t("sidebar.noDms")}</p>}
        </section>
      </div>
    </nav>
  );
}
