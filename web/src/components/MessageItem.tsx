// One message: author, time, Markdown body, attachments, edit marker (opens the edit history),
// reactions, thread link, and the actions toolbar (react, reply, edit, pin, delete).

import { useState } from "preact/hooks";
import type { Message, MyChannel } from "../api/types";
import { useT } from "../i18n";
import { formatDateTime, formatTime } from "../i18n/time";
import { Markdown } from "../markdown/render";
import { renderContext } from "../markdown/context";
import { chat, deleteMessage, editMessage, openProfile, openThread, reportError, toggleReaction, togglePin } from "../state/app";
import { useStore } from "../state/store";
import { MessageAttachments } from "./Attachments";
import { Avatar, displayName } from "./common";
import { ConfirmDialog, EditHistoryDialog } from "./Dialogs";
import { Icon } from "./icons";

export const QUICK_EMOJI = ["👍", "❤️", "😂", "🎉", "👀", "✅", "🙏", "🔥", "😮", "😢", "🚀", "👏"];

const SHORTCODES: Record<string, string> = {
  thumbsup: "👍",
  "+1": "👍",
  heart: "❤️",
  joy: "😂",
  tada: "🎉",
  eyes: "👀",
  white_check_mark: "✅",
  pray: "🙏",
  fire: "🔥",
  rocket: "🚀",
  clap: "👏",
};

export function emojiGlyph(key: string): string {
  return SHORTCODES[key] ?? key;
}

export function EmojiPicker({ onPick, onClose }: { onPick: (e: string) => void; onClose: () => void }) {
  const t = useT();
  return (
    <div
      class="emoji-picker"
      role="group"
      aria-label={t("emoji.picker")}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      {QUICK_EMOJI.map((e) => (
        <button type="button" key={e} class="emoji-choice" onClick={() => onPick(e)} aria-label={e}>
          {e}
        </button>
      ))}
    </div>
  );
}

export function MessageItem({
  message: m,
  compact,
  mc,
  inThread,
  highlight,
}: {
  message: Message;
  compact: boolean;
  mc: MyChannel | undefined;
  inThread?: boolean;
  /** The message a search hit opened. */
  highlight?: boolean;
}) {
  const t = useT();
  const users = useStore(chat, (c) => c.users);
  const me = useStore(chat, (c) => c.me);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState("");
  const [picker, setPicker] = useState(false);
  const [history, setHistory] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const sender = users[m.sender_id];
  const name = displayName(sender, t("message.unknownUser"));
  const mine = me?.id === m.sender_id;
  const canDelete = mine || me?.is_admin || mc?.role === "admin";
  const ctx = renderContext(users, me);

  const startEdit = () => {
    setDraft(m.text);
    setEditing(true);
  };
  const saveEdit = () => {
    const text = draft.trim();
    if (!text || text === m.text) {
      setEditing(false);
      return;
    }
    editMessage(m.id, text)
      .then(() => setEditing(false))
      .catch(reportError);
  };

  const time = (
    <time dateTime={m.created_at} title={formatDateTime(m.created_at, t.time)}>
      {formatTime(m.created_at, t.time)}
    </time>
  );

  return (
    <article
      class={`msg ${compact ? "compact" : ""} ${m.pinned ? "pinned" : ""} ${editing ? "editing" : ""} ${highlight ? "highlight" : ""}`}
      aria-label={`${name}, ${formatTime(m.created_at, t.time)}`}
      data-message-id={m.id}
      data-seq={m.seq}
    >
      <div class="msg-gutter">{compact ? <span class="msg-hover-time">{time}</span> : <Avatar user={sender} id={m.sender_id} />}</div>
      <div class="msg-main">
        {m.pinned && (
          <div class="msg-pinned-note">
            <Icon name="pin" size={12} /> {t("message.pinned")}
          </div>
        )}
        {!compact && (
          <div class="msg-head">
            <button type="button" class="msg-author" onClick={() => openProfile(m.sender_id)} title={t("profile.open", { name })}>
              {name}
            </button>
            {sender?.is_bot && <span class="tag">{t("apps.botTag")}</span>}
            {time}
          </div>
        )}
        {m.deleted ? (
          <p class="msg-deleted">{t("message.deleted")}</p>
        ) : editing ? (
          <div class="msg-edit">
            <textarea
              aria-label={t("message.editLabel")}
              value={draft}
              rows={Math.min(8, draft.split("\n").length + 1)}
              ref={(el) => el?.focus()}
              onInput={(e) => setDraft(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter" && !e.shiftKey) {
                  e.preventDefault();
                  saveEdit();
                } else if (e.key === "Escape") {
                  e.stopPropagation();
                  setEditing(false);
                }
              }}
            />
            <div class="msg-edit-actions">
              <span class="muted small">{t("message.editHint")}</span>
              <button type="button" class="btn" onClick={() => setEditing(false)}>
                {t("message.cancel")}
              </button>
              <button type="button" class="btn btn-primary" onClick={saveEdit}>
                {t("message.save")}
              </button>
            </div>
          </div>
        ) : (
          <div class="msg-body">
            <Markdown text={m.text} ctx={ctx} />
            {m.edited_at && (
              <button type="button" class="edited-link" onClick={() => setHistory(true)} title={t("message.history")}>
                {t("message.edited")}
              </button>
            )}
          </div>
        )}
        {!m.deleted && m.files && m.files.length > 0 && <MessageAttachments list={m.files} />}
        {m.reactions.length > 0 && !m.deleted && (
          <div class="reactions">
            {m.reactions.map((r) => {
              const mineR = me ? r.user_ids.includes(me.id) : false;
              const names = r.user_ids.map((u) => (u === me?.id ? t("you") : displayName(users[u], `#${u}`))).join(", ");
              const glyph = emojiGlyph(r.emoji);
              return (
                <button
                  type="button"
                  key={r.emoji}
                  class={`reaction ${mineR ? "mine" : ""}`}
                  aria-pressed={mineR}
                  title={t("message.reactedBy", { names, emoji: glyph })}
                  aria-label={`${glyph} ${r.user_ids.length}: ${t("message.reactedBy", { names, emoji: glyph })}`}
                  onClick={() => toggleReaction(m, r.emoji)}
                >
                  <span class="reaction-emoji">{glyph}</span>
                  <span class="reaction-count">{r.user_ids.length}</span>
                </button>
              );
            })}
          </div>
        )}
        {!inThread && m.reply_count > 0 && (
          <button type="button" class="thread-link" onClick={() => openThread(m.id).catch(reportError)}>
            <Icon name="message" size={14} /> {t.plural("message.replies", m.reply_count)}
          </button>
        )}
      </div>
      {!m.deleted && !editing && (
        <div class={`msg-actions ${picker ? "open" : ""}`} role="toolbar" aria-label={t("message.actions")}>
          <button type="button" class="icon-btn" aria-label={t("message.react")} title={t("message.react")} onClick={() => setPicker(!picker)}>
            <Icon name="smile" size={16} />
          </button>
          {!inThread && m.thread_root_id === null && (
            <button
              type="button"
              class="icon-btn"
              aria-label={t("message.reply")}
              title={t("message.reply")}
              onClick={() => openThread(m.id).catch(reportError)}
            >
              <Icon name="reply" size={16} />
            </button>
          )}
          <button
            type="button"
            class="icon-btn"
            aria-label={m.pinned ? t("message.unpin") : t("message.pin")}
            title={m.pinned ? t("message.unpin") : t("message.pin")}
            onClick={() => togglePin(m)}
          >
            <Icon name="pin" size={16} />
          </button>
          {mine && (
            <button type="button" class="icon-btn" aria-label={t("message.edit")} title={t("message.edit")} onClick={startEdit}>
              <Icon name="edit" size={16} />
            </button>
          )}
          {canDelete && (
            <button
              type="button"
              class="icon-btn danger"
              aria-label={t("message.delete")}
              title={t("message.delete")}
              onClick={() => setConfirm(true)}
            >
              <Icon name="trash" size={16} />
            </button>
          )}
          {picker && (
            <EmojiPicker
              onClose={() => setPicker(false)}
              onPick={(e) => {
                setPicker(false);
                toggleReaction(m, e);
              }}
            />
          )}
        </div>
      )}
      {history && <EditHistoryDialog message={m} onClose={() => setHistory(false)} />}
      {confirm && (
        <ConfirmDialog
          text={t("message.confirmDelete")}
          confirmLabel={t("message.delete")}
          danger
          onClose={() => setConfirm(false)}
          onConfirm={() => {
            setConfirm(false);
            deleteMessage(m.id).catch(reportError);
          }}
        />
      )}
    </article>
  );
}
