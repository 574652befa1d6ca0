// The right-hand panels: a thread (root, replies, its own composer), pinned messages, and the
// channel's members with presence.

import { useEffect, useRef, useState } from "preact/hooks";
import type { Message } from "../api/types";
import { useT } from "../i18n";
import { api, chat, closeThread, openThread, patchUi, reportError } from "../state/app";
import { channelTitle } from "../state/chat";
import { useStore } from "../state/store";
import { Avatar, displayName, PresenceDot } from "./common";
import { Composer } from "./Composer";
import { PendingRow, TypingLine } from "./ChannelView";
import { Icon } from "./icons";
import { MessageItem } from "./MessageItem";

function PanelHead({ title, sub, closeLabel, onClose }: { title: string; sub?: string; closeLabel: string; onClose: () => void }) {
  return (
    <header class="panel-head">
      <div>
        <h2 id="panel-title">{title}</h2>
        {sub && <p class="muted small">{sub}</p>}
      </div>
      <button type="button" class="icon-btn" aria-label={closeLabel} onClick={onClose}>
        <Icon name="close" />
      </button>
    </header>
  );
}

export function ThreadPanel({ rootId }: { rootId: number }) {
  const t = useT();
  const thread = useStore(chat, (c) => c.threads[rootId]);
  const pending = useStore(chat, (c) => c.pending);
  const users = useStore(chat, (c) => c.users);
  const me = useStore(chat, (c) => c.me);
  const mc = useStore(chat, (c) => (thread ? c.channels[thread.root.channel_id] : undefined));
  const list = useRef<HTMLDivElement>(null);
  const count = thread?.replies.length ?? 0;
  const mine = pending.filter((p) => p.threadRootId === rootId);

  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [count, mine.length, !!thread]);

  const title = mc ? channelTitle(mc, users, me?.id ?? null) : "";
  const place = mc && (mc.channel.kind === "public" || mc.channel.kind === "private") ? `#${title}` : title;
  return (
    <aside class="panel thread-panel" aria-labelledby="panel-title">
      <PanelHead title={t("thread.title")} sub={mc ? t("thread.in", { name: place }) : undefined} closeLabel={t("thread.close")} onClose={closeThread} />
      {!thread ? (
        <p class="muted panel-pad">{t("thread.loading")}</p>
      ) : (
        <>
          <div class="panel-scroll" ref={list} role="log" aria-label={t("thread.title")} tabIndex={0}>
            <MessageItem message={thread.root} compact={false} mc={mc} inThread />
            {thread.replies.length > 0 && (
              <div class="thread-count">
                <span>{t.plural("message.replies", Math.max(thread.root.reply_count, thread.replies.length))}</span>
              </div>
            )}
            {thread.replies.map((m: Message, i: number) => {
              const prev = i > 0 ? thread.replies[i - 1] : undefined;
              const compact =
                !!prev &&
                prev.sender_id === m.sender_id &&
                new Date(m.created_at).getTime() - new Date(prev.created_at).getTime() < 300_000;
              return <MessageItem key={m.id} message={m} compact={compact} mc={mc} inThread />;
            })}
            {mine.map((p) => (
              <PendingRow key={p.clientMsgId} clientMsgId={p.clientMsgId} text={p.text} failed={p.failed} />
            ))}
          </div>
          <TypingLine channelId={thread.root.channel_id} threadRootId={rootId} />
          <Composer
            channelId={thread.root.channel_id}
            threadRootId={rootId}
            placeholder={t("composer.replyPlaceholder")}
            idPrefix="thread"
          />
        </>
      )}
    </aside>
  );
}

export function PinsPanel({ channelId }: { channelId: number }) {
  const t = useT();
  const mc = useStore(chat, (c) => c.channels[channelId]);
  const timeline = useStore(chat, (c) => c.timelines[channelId]);
  const [pins, setPins] = useState<Message[] | null>(null);
  const [failed, setFailed] = useState(false);
  // Reload when a pin changes in the loaded history (pinned flags arrive as events).
  const pinnedKey = timeline?.messages.filter((m) => m.pinned).map((m) => m.id).join(",") ?? "";
  useEffect(() => {
    api
      .pins(channelId)
      .then((p) => {
        setPins(p);
        setFailed(false);
      })
      .catch(() => setFailed(true));
  }, [channelId, pinnedKey]);
  return (
    <aside class="panel" aria-labelledby="panel-title">
      <PanelHead title={t("channel.pins")} closeLabel={t("pins.close")} onClose={() => patchUi({ panel: null })} />
      <div class="panel-scroll">
        {failed && <p class="form-error panel-pad">{t("error.loadFailed")}</p>}
        {!pins && !failed && <p class="muted panel-pad">{t("loading")}</p>}
        {pins && pins.length === 0 && <p class="muted panel-pad">{t("pins.empty")}</p>}
        {pins?.map((m) => (
          <div key={m.id} class="pin-item">
            <MessageItem message={m} compact={false} mc={mc} inThread />
            {m.thread_root_id === null && (
              <button type="button" class="link-btn" onClick={() => openThread(m.id).catch(reportError)}>
                {t("message.reply")}
              </button>
            )}
          </div>
        ))}
      </div>
    </aside>
  );
}

export function MembersPanel({ channelId }: { channelId: number }) {
  const t = useT();
  const ids = useStore(chat, (c) => c.members[channelId]);
  const users = useStore(chat, (c) => c.users);
  const presence = useStore(chat, (c) => c.presence);
  const sorted = [...(ids ?? [])].sort((a, b) => {
    const pa = presence[a] === "online" ? 0 : 1;
    const pb = presence[b] === "online" ? 0 : 1;
    return pa - pb || displayName(users[a], "").localeCompare(displayName(users[b], ""));
  });
  return (
    <aside class="panel" aria-labelledby="panel-title">
      <PanelHead
        title={t.plural("channel.members", sorted.length)}
        closeLabel={t("members.close")}
        onClose={() => patchUi({ panel: null })}
      />
      <ul class="panel-scroll member-list">
        {sorted.map((id) => {
          const status = presence[id] ?? "offline";
          return (
            <li key={id} class="member">
              <Avatar user={users[id]} id={id} size={28} />
              <span class="person-name">{displayName(users[id], `#${id}`)}</span>
              <PresenceDot status={status} label={status === "online" ? t("presence.online") : t("presence.offline")} />
            </li>
          );
        })}
      </ul>
    </aside>
  );
}
