// Dialogs: confirm, edit history, create a channel, start a DM or group DM.

import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import type { Message, MessageVersion, User } from "../api/types";
import { useT } from "../i18n";
import { formatDateTime } from "../i18n/time";
import { Markdown } from "../markdown/render";
import { api, chat, createChannel, openDm, patchUi, reportError } from "../state/app";
import { useStore } from "../state/store";
import { Avatar, displayName, Modal } from "./common";
import { renderContext } from "../markdown/context";

export function ConfirmDialog(props: {
  text: string;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const t = useT();
  return (
    <Modal title={props.confirmLabel} onClose={props.onClose}>
      <p>{props.text}</p>
      <div class="modal-actions">
        <button type="button" class="btn" onClick={props.onClose}>
          {t("dialog.cancel")}
        </button>
        <button type="button" class={`btn ${props.danger ? "btn-danger" : "btn-primary"}`} onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </Modal>
  );
}

export function EditHistoryDialog({ message, onClose }: { message: Message; onClose: () => void }) {
  const t = useT();
  const users = useStore(chat, (c) => c.users);
  const me = useStore(chat, (c) => c.me);
  const [versions, setVersions] = useState<MessageVersion[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    api
      .versions(message.id)
      .then(setVersions)
      .catch(() => setFailed(true));
  }, [message.id]);
  const ctx = renderContext(users, me);
  return (
    <Modal title={t("message.history")} onClose={onClose}>
      {failed && <p class="form-error">{t("error.loadFailed")}</p>}
      {!versions && !failed && <p class="muted">{t("loading")}</p>}
      {versions && (
        <ol class="versions">
          {[...versions].reverse().map((v) => (
            <li key={v.version}>
              <div class="version-head">
                <strong>{t("message.version", { n: v.version })}</strong>
                <time dateTime={v.created_at}>{formatDateTime(v.created_at, t.time)}</time>
              </div>
              <Markdown text={v.text} ctx={ctx} />
            </li>
          ))}
        </ol>
      )}
    </Modal>
  );
}

export function CreateChannelDialog() {
  const t = useT();
  const [name, setName] = useState("");
  const [topic, setTopic] = useState("");
  const [priv, setPriv] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const close = () => patchUi({ dialog: null });
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await createChannel(name.trim(), priv ? "private" : "public", topic.trim());
      close();
    } catch (err) {
      setError(err instanceof ApiError ? err.message : t("error.generic"));
      setBusy(false);
    }
  };
  return (
    <Modal title={t("create.title")} onClose={close}>
      <form onSubmit={submit} class="form">
        <label class="field">
          <span>{t("create.name")}</span>
          <input
            value={name}
            required
            maxLength={80}
            aria-describedby="create-name-hint"
            onInput={(e) => setName(e.currentTarget.value.toLowerCase().replace(/\s+/g, "-"))}
          />
          <small id="create-name-hint" class="muted">
            {t("create.nameHint")}
          </small>
        </label>
        <label class="field">
          <span>{t("create.topic")}</span>
          <input value={topic} maxLength={250} onInput={(e) => setTopic(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={priv} onChange={(e) => setPriv(e.currentTarget.checked)} />
          <span>
            {t("create.private")}
            <small class="muted block">{t("create.privateHint")}</small>
          </span>
        </label>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <div class="modal-actions">
          <button type="button" class="btn" onClick={close}>
            {t("dialog.cancel")}
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy || !name.trim()}>
            {t("create.submit")}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Matches people by username or display name, for the DM picker. */
export function filterPeople(users: User[], q: string, excludeId: number | null): User[] {
  const query = q.trim().toLowerCase();
  return users
    .filter((u) => u.id !== excludeId)
    .filter((u) => !query || u.username.toLowerCase().includes(query) || u.display_name.toLowerCase().includes(query))
    .sort((a, b) => displayName(a, "").localeCompare(displayName(b, "")));
}

export function NewDmDialog() {
  const t = useT();
  const users = useStore(chat, (c) => c.users);
  const me = useStore(chat, (c) => c.me);
  const [q, setQ] = useState("");
  const [picked, setPicked] = useState<number[]>([]);
  const [busy, setBusy] = useState(false);
  const close = () => patchUi({ dialog: null });
  const matches = useMemo(() => filterPeople(Object.values(users), q, me?.id ?? null).slice(0, 50), [users, q, me]);
  const toggle = (id: number) =>
    setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : p.length >= 7 ? p : [...p, id]));
  const start = async () => {
    setBusy(true);
    try {
      await openDm(picked);
      close();
    } catch (e) {
      reportError(e);
      setBusy(false);
    }
  };
  return (
    <Modal title={t("dm.title")} onClose={close}>
      <label class="field">
        <span>{t("dm.search")}</span>
        <input value={q} onInput={(e) => setQ(e.currentTarget.value)} type="search" />
      </label>
      {picked.length > 0 && (
        <div class="chips" aria-label={t("dm.selected")}>
          {picked.map((id) => (
            <button type="button" key={id} class="chip" onClick={() => toggle(id)}>
              {displayName(users[id], `#${id}`)} ×
            </button>
          ))}
        </div>
      )}
      {picked.length >= 7 && <p class="muted small">{t("dm.limit")}</p>}
      <ul class="people" role="listbox" aria-multiselectable="true" aria-label={t("dm.search")}>
        {matches.map((u) => (
          <li key={u.id} role="option" aria-selected={picked.includes(u.id)}>
            <label class="person">
              <input type="checkbox" checked={picked.includes(u.id)} onChange={() => toggle(u.id)} />
              <Avatar user={u} id={u.id} size={28} />
              <span class="person-name">{displayName(u, "")}</span>
              <span class="muted">@{u.username}</span>
            </label>
          </li>
        ))}
      </ul>
      {matches.length === 0 && <p class="muted">{t("dm.noMatch")}</p>}
      <div class="modal-actions">
        <button type="button" class="btn" onClick={close}>
          {t("dialog.cancel")}
        </button>
        <button type="button" class="btn btn-primary" disabled={busy || picked.length === 0} onClick={start}>
          {t("dm.start")}
        </button>
      </div>
    </Modal>
  );
}
