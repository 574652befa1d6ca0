// A channel or DM: header, the virtualised history (older pages load as you scroll up), who is
// typing, and the composer; files dropped anywhere on it are attached. Pins, members and files
// open in the side panel.

import { useEffect, useMemo, useState } from "preact/hooks";
import type { MyChannel } from "../api/types";
import { useT, type Translator } from "../i18n";
import { formatDay } from "../i18n/time";
import { Markdown } from "../markdown/render";
import { renderContext } from "../markdown/context";
import {
  chat,
  discardSend,
  leaveChannel,
  loadOlder,
  openChannel,
  patchUi,
  reportError,
  retrySend,
  scheduleMarkRead,
  ui,
} from "../state/app";
import { channelRows, channelTitle, typingUsers } from "../state/chat";
import { permissions, showChannelSettings } from "../state/perms";
import { useStore } from "../state/store";
import { buildRows, type Row } from "../util/rows";
import { displayName } from "./common";
import { attachFiles, Composer } from "./Composer";
import { MAX_ATTACHMENTS } from "../state/attachments";
import { Icon } from "./icons";
import { MessageItem } from "./MessageItem";
import { SearchBox } from "./SearchBox";
import { VirtualList } from "./VirtualList";

export function TypingLine({ channelId, threadRootId }: { channelId: number; threadRootId: number | null }) {
  const t = useT();
  const state = useStore(chat, (c) => c.typing[channelId]);
  const users = useStore(chat, (c) => c.users);
  const ids = typingUsers(state, threadRootId, Date.now());
  const names = ids.map((id) => displayName(users[id], `#${id}`));
  const text =
    names.length === 0
      ? ""
      : names.length === 1
        ? t("typing.one", { a: names[0]! })
        : names.length === 2
          ? t("typing.two", { a: names[0]!, b: names[1]! })
          : t("typing.many");
  return (
    <div class="typing" aria-live="polite">
      {text}
    </div>
  );
}

function kindLabel(mc: MyChannel, t: Translator): string {
  switch (mc.channel.kind) {
    case "public":
      return t("channel.public");
    case "private":
      return t("channel.private");
    case "dm":
      return t("channel.dm");
    case "group_dm":
      return t("channel.groupDm");
  }
}

function RowView({ row, mc, title, t, focusSeq }: { row: Row; mc: MyChannel; title: string; t: Translator; focusSeq: number | null }) {
  switch (row.kind) {
    case "intro":
      return (
        <div class="intro">
          <h2>{mc.channel.kind === "public" || mc.channel.kind === "private" ? `#${title}` : title}</h2>
          <p class="muted">
            {mc.channel.kind === "dm" || mc.channel.kind === "group_dm"
              ? t("channel.introDm", { name: title })
              : t("channel.intro", { name: `#${title}` })}
          </p>
        </div>
      );
    case "loading":
      return <div class="loading-older muted">{t("channel.loadingOlder")}</div>;
    case "day":
      return (
        <div class="day-sep" role="separator">
          <span>{formatDay(row.at, t.time, { today: t("day.today"), yesterday: t("day.yesterday") })}</span>
        </div>
      );
    case "unread":
      return (
        <div class="unread-sep" role="separator">
          <span>{t("channel.newMessages")}</span>
        </div>
      );
    case "message":
      return <MessageItem message={row.message} compact={row.compact} mc={mc} highlight={row.message.seq === focusSeq} />;
    case "pending":
      return <PendingRow clientMsgId={row.pending.clientMsgId} text={row.pending.text} failed={row.pending.failed} />;
  }
}

export function PendingRow({ clientMsgId, text, failed }: { clientMsgId: string; text: string; failed: boolean }) {
  const t = useT();
  const users = useStore(chat, (c) => c.users);
  const me = useStore(chat, (c) => c.me);
  return (
    <div class={`msg pending ${failed ? "failed" : ""}`}>
      <div class="msg-gutter" />
      <div class="msg-main">
        <div class="msg-body">
          <Markdown text={text} ctx={renderContext(users, me)} />
        </div>
        <div class="pending-state">
          {failed ? (
            <>
              <span class="form-error">{t("message.failed")}</span>
              <button type="button" class="link-btn" onClick={() => retrySend(clientMsgId)}>
                {t("message.retry")}
              </button>
              <button type="button" class="link-btn" onClick={() => discardSend(clientMsgId)}>
                {t("message.discard")}
              </button>
            </>
          ) : (
            <span class="muted small">{t("message.sending")}</span>
          )}
        </div>
      </div>
    </div>
  );
}

export function ChannelView({ channelId }: { channelId: number }) {
  const t = useT();
  const mc = useStore(chat, (c) => c.channels[channelId]);
  const timeline = useStore(chat, (c) => c.timelines[channelId]);
  const pending = useStore(chat, (c) => c.pending);
  const users = useStore(chat, (c) => c.users);
  const me = useStore(chat, (c) => c.me);
  const memberCount = useStore(chat, (c) => c.members[channelId]?.length ?? 0);
  const ready = useStore(ui, (u) => u.ready);
  const marker = useStore(ui, (u) => u.unreadMarker[channelId]);
  const atBottom = useStore(ui, (u) => u.atBottom);
  const panel = useStore(ui, (u) => u.panel);
  const perms = useStore(permissions, (p) => p);
  const [jump, setJump] = useState(0);
  const [dragging, setDragging] = useState(false);
  const focus = useStore(ui, (u) => (u.focus?.channelId === channelId ? u.focus.seq : null));
  const focusKey = useMemo(() => {
    if (focus === null) return null;
    const m = timeline?.messages.find((x) => x.seq === focus);
    return m ? `m-${m.id}` : null;
  }, [focus, timeline]);

  useEffect(() => {
    if (ready && mc) openChannel(channelId).catch(reportError);
  }, [channelId, ready, !!mc]);

  // A different conversation: start at its newest message, with the side panels closed.
  useEffect(() => {
    const u = ui.get();
    patchUi({
      atBottom: true,
      panel: null,
      threadRootId: null,
      channelSettings: false,
      focus: u.focus?.channelId === channelId ? u.focus : null,
    });
  }, [channelId]);

  const rows = useMemo(() => {
    const mine = pending.filter((p) => p.channelId === channelId && p.threadRootId === null);
    return buildRows(channelRows(timeline), {
      timeZone: t.time.timeZone,
      hasMoreBefore: timeline?.hasMoreBefore ?? false,
      lastReadSeq: marker ?? null,
      meId: me?.id ?? 0,
      pending: mine,
    });
  }, [timeline, pending, channelId, t.time.timeZone, marker, me]);

  if (!mc) {
    return <section class="channel-empty">{ready ? t("channel.notFound") : t("loading")}</section>;
  }
  const title = channelTitle(mc, users, me?.id ?? null);
  const isNamed = mc.channel.kind === "public" || mc.channel.kind === "private";
  const display = isNamed ? `#${title}` : title;

  return (
    <section
      class={`channel ${dragging ? "dragging" : ""}`}
      aria-labelledby="channel-title"
      onDragOver={(e) => {
        if (!e.dataTransfer?.types.includes("Files")) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
        if (!dragging) setDragging(true);
      }}
      onDragLeave={(e) => {
        // Leaving for a child is not leaving the channel.
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
      }}
      onDrop={(e) => {
        if (!e.dataTransfer?.types.includes("Files")) return;
        e.preventDefault();
        setDragging(false);
        attachFiles(channelId, null, [...e.dataTransfer.files], t("files.tooMany", { n: MAX_ATTACHMENTS }));
      }}
    >
      {dragging && (
        <div class="drop-overlay" aria-hidden="true">
          <Icon name="paperclip" size={28} />
          <span>{t("files.drop")}</span>
        </div>
      )}
      <header class="channel-head">
        <button type="button" class="icon-btn drawer-open" aria-label={t("sidebar.open")} onClick={() => patchUi({ drawerOpen: true })}>
          <Icon name="menu" />
        </button>
        <div class="channel-title-wrap">
          <h1 id="channel-title" class="channel-title">
            <Icon name={mc.channel.kind === "private" ? "lock" : isNamed ? "hash" : "message"} size={18} />
            <span>{title}</span>
          </h1>
          <p class="channel-topic" title={mc.channel.topic || kindLabel(mc, t)}>
            {mc.channel.topic || kindLabel(mc, t)}
          </p>
        </div>
        <SearchBox />
        <div class="channel-tools">
          <button
            type="button"
            class="tool-btn"
            aria-label={t("channel.membersPanel")}
            title={t.plural("channel.members", memberCount)}
            onClick={() => patchUi({ panel: ui.get().panel === "members" ? null : "members", threadRootId: null })}
          >
            <Icon name="users" size={16} />
            <span>{memberCount}</span>
          </button>
          <button
            type="button"
            class="icon-btn"
            aria-label={t("channel.pins")}
            title={t("channel.pins")}
            onClick={() => patchUi({ panel: ui.get().panel === "pins" ? null : "pins", threadRootId: null })}
          >
            <Icon name="pin" />
          </button>
          <button
            type="button"
            class="icon-btn"
            aria-label={t("files.panel")}
            title={t("files.panel")}
            aria-pressed={panel === "files"}
            onClick={() => patchUi({ panel: panel === "files" ? null : "files", threadRootId: null })}
          >
            <Icon name="files" />
          </button>
          {mc && showChannelSettings(perms, mc.channel.kind) && (
            <button
              type="button"
              class="icon-btn"
              aria-label={t("channelSettings.open")}
              title={t("channelSettings.open")}
              onClick={() => patchUi({ channelSettings: true })}
            >
              <Icon name="settings" />
            </button>
          )}
          {isNamed && (
            <button
              type="button"
              class="icon-btn"
              aria-label={t("channel.leave")}
              title={t("channel.leave")}
              onClick={() => leaveChannel(channelId).catch(reportError)}
            >
              <Icon name="logout" />
            </button>
          )}
        </div>
      </header>
      <div class="history">
        {timeline ? (
          <VirtualList
            key={channelId}
            items={rows}
            itemKey={(r) => r.key}
            anchorable={(r) => r.kind === "message"}
            renderItem={(r) => <RowView row={r} mc={mc} title={title} t={t} focusSeq={focus} />}
            onNearTop={() => loadOlder(channelId).catch(reportError)}
            onAtBottomChange={(b) => {
              patchUi({ atBottom: b });
              if (b) scheduleMarkRead();
            }}
            scrollToBottomToken={`${channelId}:${jump}:${pending.length}`}
            scrollToKey={focusKey}
            label={t("channel.history", { name: display })}
            class="messages"
          />
        ) : (
          <div class="history-loading muted">{t("loading")}</div>
        )}
        {!atBottom && (
          <button
            type="button"
            class="jump-latest"
            onClick={() => {
              patchUi({ focus: null });
              setJump(jump + 1);
            }}
          >
            <Icon name="down" size={14} /> {t("channel.jumpToLatest")}
          </button>
        )}
      </div>
      <TypingLine channelId={channelId} threadRootId={null} />
      <Composer
        channelId={channelId}
        threadRootId={null}
        placeholder={t("composer.placeholder", { name: display })}
        idPrefix="main"
      />
    </section>
  );
}
