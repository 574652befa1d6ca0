// The top level: sign-in or the signed-in shell (sidebar, main view, side panel), keyboard
// shortcuts (Alt+Up/Down between conversations, Esc closes the innermost panel), and the
// connection banner and toasts.

import { useEffect } from "preact/hooks";
import { useT } from "../i18n";
import { chat, closeThread, patchUi, session, start, ui, watchTitle } from "../state/app";
import { navigate, route } from "../state/router";
import { useStore } from "../state/store";
import { clientSettings, watermarkBackground } from "../state/watermark";
import { ChannelView } from "./ChannelView";
import { CreateChannelDialog, NewDmDialog } from "./Dialogs";
import { lazyComponent } from "./lazy";
import { BrowsePage, SettingsPage } from "./Pages";
import { MembersPanel, PinsPanel, ThreadPanel } from "./SidePanels";
import { installSearchShortcuts } from "./SearchBox";
import { SignIn } from "./SignIn";
import { Sidebar, sidebarOrder } from "./Sidebar";
import { Icon } from "./icons";

// Loaded on first use: most sessions never open them.
const DirectoryPage = lazyComponent(() => import("./Directory").then((m) => m.DirectoryPage));
const AdminConsole = lazyComponent(() => import("./Admin").then((m) => m.AdminConsole));
const ProfilePanel = lazyComponent(() => import("./Profile").then((m) => m.ProfilePanel));
const SearchPage = lazyComponent(() => import("./Search").then((m) => m.SearchPage));
const FilesPanel = lazyComponent(() => import("./Files").then((m) => m.FilesPanel));
const ChannelSettingsDialog = lazyComponent(() => import("./ChannelSettings").then((m) => m.ChannelSettingsDialog));

function Home() {
  const t = useT();
  const channels = useStore(chat, (c) => c.channels);
  const users = useStore(chat, (c) => c.users);
  const me = useStore(chat, (c) => c.me);
  const ready = useStore(ui, (u) => u.ready);
  useEffect(() => {
    if (!ready) return;
    const first = sidebarOrder(channels, users, me?.id ?? null)[0];
    if (first) navigate({ name: "channel", channelId: first.channel.id }, true);
  }, [ready]);
  return (
    <section class="channel-empty">
      <button type="button" class="icon-btn drawer-open floating" aria-label={t("sidebar.open")} onClick={() => patchUi({ drawerOpen: true })}>
        <Icon name="menu" />
      </button>
      <p>{ready ? t("channel.pick") : t("loading")}</p>
    </section>
  );
}

function moveChannel(delta: number): void {
  const c = chat.get();
  const order = sidebarOrder(c.channels, c.users, c.me?.id ?? null);
  if (order.length === 0) return;
  const r = route.get();
  const current = r.name === "channel" ? order.findIndex((mc) => mc.channel.id === r.channelId) : -1;
  const next = current < 0 ? (delta > 0 ? 0 : order.length - 1) : (current + delta + order.length) % order.length;
  const target = order[next];
  if (target) {
    navigate({ name: "channel", channelId: target.channel.id });
    requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-channel-id="${target.channel.id}"]`)?.focus());
  }
}

function Shell() {
  const t = useT();
  const current = useStore(route, (r) => r);
  const threadRootId = useStore(ui, (u) => u.threadRootId);
  const panel = useStore(ui, (u) => u.panel);
  const profileUserId = useStore(ui, (u) => u.profileUserId);
  const channelSettings = useStore(ui, (u) => u.channelSettings);
  const drawerOpen = useStore(ui, (u) => u.drawerOpen);
  const connection = useStore(ui, (u) => u.connection);
  const ready = useStore(ui, (u) => u.ready);
  const dialog = useStore(ui, (u) => u.dialog);
  const toast = useStore(ui, (u) => u.toast);
  const watermarkOn = useStore(clientSettings, (c) => c.watermark);
  // The directory's copy follows renames live; `me` is the session's.
  const me = useStore(chat, (c) => (c.me ? (c.users[c.me.id] ?? c.me) : null));

  useEffect(() => {
    start();
    const unwatch = watchTitle();
    const unkeys = installSearchShortcuts();
    return () => {
      unwatch();
      unkeys();
    };
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
        e.preventDefault();
        moveChannel(e.key === "ArrowUp" ? -1 : 1);
        return;
      }
      if (e.key === "Escape" && !e.defaultPrevented) {
        const u = ui.get();
        if (u.dialog || u.channelSettings) return;
        if (u.drawerOpen) patchUi({ drawerOpen: false });
        else if (u.threadRootId !== null) closeThread();
        else if (u.panel) patchUi({ panel: null });
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  // The drawer takes focus when it opens (phones), and gives it back to the page when closed.
  useEffect(() => {
    if (drawerOpen) document.querySelector<HTMLElement>("nav.sidebar a.side-item, nav.sidebar button")?.focus();
  }, [drawerOpen]);

  const channelId = current.name === "channel" ? current.channelId : null;
  let main;
  switch (current.name) {
    case "channel":
      main = <ChannelView channelId={current.channelId} />;
      break;
    case "browse":
      main = <BrowsePage />;
      break;
    case "settings":
      main = <SettingsPage />;
      break;
    case "directory":
      main = <DirectoryPage />;
      break;
    case "admin":
      main = <AdminConsole />;
      break;
    case "search":
      main = <SearchPage />;
      break;
    default:
      main = <Home />;
  }
  let side = null;
  if (channelId !== null && threadRootId !== null) side = <ThreadPanel rootId={threadRootId} />;
  else if (channelId !== null && panel === "pins") side = <PinsPanel channelId={channelId} />;
  else if (channelId !== null && panel === "members") side = <MembersPanel channelId={channelId} />;
  else if (channelId !== null && panel === "files") side = <FilesPanel channelId={channelId} />;
  else if (channelId !== null && panel === "profile" && profileUserId !== null) side = <ProfilePanel userId={profileUserId} />;

  // The org watermark over the chat area (the view and its panel), redrawn when the viewer's
  // name changes; `watermark.css` draws it.
  const watermarked = watermarkOn && channelId !== null && me !== null;
  const watermark = watermarked ? watermarkBackground(me.display_name ?? "", me.username, me.id) : null;
  return (
    <div
      class={`shell ${drawerOpen ? "drawer-is-open" : ""} ${side ? "has-panel" : ""} ${watermarked ? "watermarked" : ""}`}
      style={watermark ? { "--watermark": watermark } : undefined}
    >
      <a class="skip-link" href="#main">
        {t("app.skip")}
      </a>
      <div class="drawer-scrim" onClick={() => patchUi({ drawerOpen: false })} aria-hidden="true" />
      <Sidebar />
      <main id="main" class="main" tabIndex={-1}>
        {ready && connection !== "online" && (
          <div class={`conn-banner ${connection}`} role="status">
            {connection === "offline" ? t("connection.offline") : t("connection.connecting")}
          </div>
        )}
        {main}
      </main>
      {side}
      {dialog === "create-channel" && <CreateChannelDialog />}
      {dialog === "new-dm" && <NewDmDialog />}
      {channelSettings && channelId !== null && <ChannelSettingsDialog channelId={channelId} />}
      <div class="toast-region" role="status" aria-live="polite">
        {toast && <div class="toast">{toast}</div>}
      </div>
    </div>
  );
}

export function App() {
  const s = useStore(session, (x) => x);
  return s ? <Shell key={s.token} /> : <SignIn />;
}
