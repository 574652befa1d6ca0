// The message composer: a growing textarea (Enter sends, Shift+Enter breaks the line), the
// @mention autocomplete from the channel's members, typing notifications, and attachments
// (the paperclip's file picker, pasted images; uploads start at once, shown in the tray).

import { useMemo, useRef, useState } from "preact/hooks";
import type { ChannelId, MessageId, User } from "../api/types";
import { useT } from "../i18n";
import { chat, reportError, sendMessage, sendTyping, showToast } from "../state/app";
import { canSend, fileIdsOf, MAX_ATTACHMENTS, type Attachment } from "../state/attachments";
import { addAttachments, clearTray, trayKey, trays } from "../state/filesController";
import { insertMention, matchMentions, mentionQueryAt, type MentionCandidate, type MentionQuery } from "../state/mentions";
import { useStore } from "../state/store";
import { AttachmentTray } from "./Attachments";
import { Avatar, displayName } from "./common";
import { Icon } from "./icons";

const EMPTY: number[] = [];
const NO_ATTACHMENTS: Attachment[] = [];

/** Adds files to a conversation's tray, saying so when some did not fit. */
export function attachFiles(channelId: number, threadRootId: number | null, list: File[], tooMany: string): void {
  if (list.length === 0) return;
  if (addAttachments(channelId, threadRootId, list) > 0) showToast(tooMany);
}

export function Composer({
  channelId,
  threadRootId,
  placeholder,
  idPrefix,
}: {
  channelId: ChannelId;
  threadRootId: MessageId | null;
  placeholder: string;
  idPrefix: string;
}) {
  const t = useT();
  const users = useStore(chat, (c) => c.users);
  const memberIds = useStore(chat, (c) => c.members[channelId] ?? EMPTY);
  const me = useStore(chat, (c) => c.me);
  const [text, setText] = useState("");
  const [query, setQuery] = useState<{ q: MentionQuery; caret: number } | null>(null);
  const [selected, setSelected] = useState(0);
  const area = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const tray = useStore(trays, (all) => all[trayKey(channelId, threadRootId)] ?? NO_ATTACHMENTS);
  const sendable = canSend(tray, text);
  const attach = (list: File[]) => attachFiles(channelId, threadRootId, list, t("files.tooMany", { n: MAX_ATTACHMENTS }));

  const members = useMemo(() => memberIds.map((id) => users[id]).filter((u): u is User => !!u), [memberIds, users]);
  const candidates: MentionCandidate[] = query ? matchMentions(members, query.q.query, me?.id ?? null) : [];
  const open = query !== null && candidates.length > 0;
  const listId = `${idPrefix}-mentions`;
  const optionId = (i: number) => `${idPrefix}-mention-${i}`;

  const updateQuery = (value: string, caret: number) => {
    const q = mentionQueryAt(value, caret);
    setQuery(q ? { q, caret } : null);
    setSelected(0);
  };

  const pick = (c: MentionCandidate) => {
    if (!query) return;
    const name = c.kind === "user" ? c.user.username : c.name;
    const next = insertMention(text, query.q, query.caret, name);
    setText(next.text);
    setQuery(null);
    requestAnimationFrame(() => {
      const el = area.current;
      if (!el) return;
      el.focus();
      el.setSelectionRange(next.caret, next.caret);
    });
  };

  const submit = () => {
    if (!canSend(tray, text)) return;
    const body = text.trim();
    const fileIds = fileIdsOf(tray);
    setText("");
    setQuery(null);
    if (area.current) area.current.style.height = "auto";
    clearTray(channelId, threadRootId);
    sendMessage(channelId, body, threadRootId, fileIds).catch(reportError);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (open) {
      if (e.key === "ArrowDown") {
        e.preventDefault();
        setSelected((selected + 1) % candidates.length);
        return;
      }
      if (e.key === "ArrowUp") {
        e.preventDefault();
        setSelected((selected - 1 + candidates.length) % candidates.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        const c = candidates[selected];
        if (c) pick(c);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        setQuery(null);
        return;
      }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  const broadcastLabel = (name: string) =>
    name === "here" ? t("composer.broadcastHere") : name === "all" ? t("composer.broadcastAll") : t("composer.broadcastChannel");

  return (
    <div class="composer">
      {open && (
        <ul class="mention-list" role="listbox" id={listId} aria-label={t("composer.mentions")}>
          {candidates.map((c, i) => (
            <li
              key={c.kind === "user" ? `u${c.user.id}` : c.name}
              id={optionId(i)}
              role="option"
              aria-selected={i === selected}
              class={i === selected ? "selected" : ""}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(c);
              }}
            >
              {c.kind === "user" ? (
                <>
                  <Avatar user={c.user} id={c.user.id} size={22} />
                  <span class="mention-name">{displayName(c.user, "")}</span>
                  <span class="muted">@{c.user.username}</span>
                </>
              ) : (
                <>
                  <span class="mention-broadcast">@{c.name}</span>
                  <span class="muted">{broadcastLabel(c.name)}</span>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <AttachmentTray tray={tray} channelId={channelId} threadRootId={threadRootId} />
      <div class="composer-box">
        <button
          type="button"
          class="icon-btn attach-btn"
          aria-label={t("files.attach")}
          title={t("files.attach")}
          onClick={() => picker.current?.click()}
        >
          <Icon name="paperclip" size={18} />
        </button>
        <input
          ref={picker}
          type="file"
          multiple
          class="file-input"
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => {
            const el = e.currentTarget;
            attach([...(el.files ?? [])]);
            el.value = "";
          }}
        />
        <textarea
          ref={area}
          rows={1}
          value={text}
          placeholder={placeholder}
          aria-label={t("composer.label")}
          aria-describedby={`${idPrefix}-hint`}
          aria-autocomplete="list"
          aria-controls={open ? listId : undefined}
          aria-expanded={open}
          aria-activedescendant={open ? optionId(selected) : undefined}
          role="combobox"
          maxLength={16000}
          onInput={(e) => {
            const el = e.currentTarget;
            setText(el.value);
            updateQuery(el.value, el.selectionStart ?? el.value.length);
            el.style.height = "auto";
            el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
            if (el.value.trim()) sendTyping(channelId, threadRootId);
          }}
          onKeyDown={onKeyDown}
          onClick={(e) => updateQuery(e.currentTarget.value, e.currentTarget.selectionStart ?? 0)}
          onBlur={() => setQuery(null)}
          onPaste={(e) => {
            const pasted = [...(e.clipboardData?.files ?? [])];
            if (pasted.length === 0) return;
            e.preventDefault();
            attach(pasted);
          }}
        />
        <button type="button" class="send-btn" aria-label={t("composer.send")} title={t("composer.send")} disabled={!sendable} onClick={submit}>
          <Icon name="send" size={18} />
        </button>
      </div>
      <p id={`${idPrefix}-hint`} class="composer-hint">
        {t("composer.hint")}
      </p>
    </div>
  );
}
