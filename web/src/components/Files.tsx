// Loaded on first use: the image lightbox (the preview rendition and a download link) and the
// channel's Files side panel (files newest first, each with its versions, a new version with a
// comment, restore, and comments with @mentions), kept live by the file.* events.

import { useEffect, useState } from "preact/hooks";
import type { FileInfo, FileRef } from "../api/types";
import { useT } from "../i18n";
import { formatDate, formatDateTime, formatTime, type TimeContext } from "../i18n/time";
import { renderContext } from "../markdown/context";
import { Markdown } from "../markdown/render";
import { chat, patchUi, reportError } from "../state/app";
import { formatBytes } from "../state/attachments";
import {
  commentOnFile,
  downloadFile,
  files,
  loadChannelFiles,
  loadComments,
  loadVersions,
  restoreVersion,
  uploadVersion,
} from "../state/filesController";
import { useStore } from "../state/store";
import { FileCard, isImage, useFileLink } from "./Attachments";
import { displayName, Modal } from "./common";
import { Icon } from "./icons";

/** "Nov 25, 2026 5:30 PM": short enough for a panel row (the full form is in the tooltip). */
function when(iso: string, ctx: TimeContext): string {
  return `${formatDate(iso, ctx)} ${formatTime(iso, ctx)}`;
}

export function Lightbox({ file, onClose }: { file: FileRef; onClose: () => void }) {
  const t = useT();
  const src = useFileLink(file.id, "preview", file.version);
  const info = useStore(files, (s) => s.info[file.id]);
  return (
    <Modal title={t("files.viewer", { name: file.name })} onClose={onClose} wide>
      <div class="lightbox">
        {src ? <img class="lightbox-image" src={src} alt={file.name} /> : <p class="muted">{t("loading")}</p>}
        <div class="lightbox-bar">
          <span class="muted small">
            {formatBytes(file.size)}
            {file.width && file.height ? ` · ${file.width}×${file.height}` : ""}
          </span>
          {info?.effective_sensitive && (
            <span class="tag tag-sensitive" title={t("files.sensitiveHint")}>
              {t("files.sensitive")}
            </span>
          )}
          <button type="button" class="btn" onClick={() => downloadFile(file.id, file.version).catch(reportError)}>
            <Icon name="download" size={16} /> {t("files.downloadShort")}
          </button>
        </div>
      </div>
    </Modal>
  );
}

function Thumb({ file }: { file: FileInfo }) {
  const src = useFileLink(file.id, "thumbnail", file.version);
  return src ? <img class="files-thumb" src={src} alt="" width={40} height={40} /> : <Icon name="file" size={24} class="files-thumb" />;
}

function FileDetails({ file }: { file: FileInfo }) {
  const t = useT();
  const users = useStore(chat, (c) => c.users);
  const me = useStore(chat, (c) => c.me);
  const versions = useStore(files, (s) => s.versions[file.id]);
  const comments = useStore(files, (s) => s.comments[file.id]);
  const [picked, setPicked] = useState<File | null>(null);
  const [note, setNote] = useState("");
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const name = (id: number) => displayName(users[id], `#${id}`);

  useEffect(() => {
    if (!versions) loadVersions(file.id).catch(reportError);
  }, [file.id, !!versions]);
  useEffect(() => {
    if (!comments) loadComments(file.id).catch(reportError);
  }, [file.id, !!comments]);

  const sendVersion = (e: Event) => {
    e.preventDefault();
    if (!picked) return;
    setBusy(true);
    uploadVersion(file.id, picked, note.trim())
      .then(() => {
        setPicked(null);
        setNote("");
      })
      .catch(reportError)
      .finally(() => setBusy(false));
  };
  const sendComment = (e: Event) => {
    e.preventDefault();
    const text = comment.trim();
    if (!text) return;
    commentOnFile(file.id, text)
      .then(() => setComment(""))
      .catch(reportError);
  };

  return (
    <div class="file-details" id={`file-details-${file.id}`}>
      <h4>{t("files.versions")}</h4>
      {!versions && <p class="muted small">{t("loading")}</p>}
      <ol class="file-versions">
        {[...(versions ?? [])].reverse().map((v) => (
          <li key={v.version}>
            <div class="file-version-head">
              <strong>{t("files.version", { n: v.version })}</strong>
              {v.version === file.version && <span class="tag">{t("files.current")}</span>}
              <span class="muted small">
                {t("files.versionBy", { name: name(v.uploaded_by), time: when(v.uploaded_at, t.time), size: formatBytes(v.size) })}
              </span>
            </div>
            {(v.comment || v.restored_from !== null) && (
              <p class="small">
                {v.comment}
                {v.restored_from !== null && <span class="muted"> ({t("files.restored", { n: v.restored_from })})</span>}
              </p>
            )}
            <div class="file-version-actions">
              <button
                type="button"
                class="link-btn"
                aria-label={t("files.downloadVersion", { n: v.version })}
                onClick={() => downloadFile(file.id, v.version).catch(reportError)}
              >
                {t("files.downloadShort")}
              </button>
              {v.version !== file.version && (
                <button
                  type="button"
                  class="link-btn"
                  aria-label={t("files.restoreLabel", { n: v.version })}
                  onClick={() => restoreVersion(file.id, v.version).catch(reportError)}
                >
                  {t("files.restore")}
                </button>
              )}
            </div>
          </li>
        ))}
      </ol>
      <form class="file-new-version" onSubmit={sendVersion}>
        <h4>{t("files.newVersion")}</h4>
        <label>
          <span class="sr-only">{t("files.newVersionFile")}</span>
          <input type="file" onChange={(e) => setPicked(e.currentTarget.files?.[0] ?? null)} />
        </label>
        <input
          type="text"
          value={note}
          maxLength={500}
          placeholder={t("files.newVersionComment")}
          aria-label={t("files.newVersionComment")}
          onInput={(e) => setNote(e.currentTarget.value)}
        />
        <button type="submit" class="btn" disabled={!picked || busy}>
          {t("files.upload")}
        </button>
      </form>
      <h4>{t("files.comments")}</h4>
      {comments && comments.length === 0 && <p class="muted small">{t("files.noComments")}</p>}
      <ul class="file-comments">
        {(comments ?? []).map((c) => (
          <li key={c.id}>
            <strong>{name(c.author_id)}</strong>{" "}
            <span class="muted small" title={formatDateTime(c.created_at, t.time)}>
              {when(c.created_at, t.time)} · {t("files.onVersion", { n: c.version })}
            </span>
            <Markdown text={c.text} ctx={renderContext(users, me)} />
          </li>
        ))}
      </ul>
      <form class="file-comment-form" onSubmit={sendComment}>
        <textarea
          rows={2}
          maxLength={4000}
          value={comment}
          aria-label={t("files.comment")}
          placeholder={t("files.commentPlaceholder")}
          onInput={(e) => setComment(e.currentTarget.value)}
        />
        <button type="submit" class="btn btn-primary" disabled={!comment.trim()}>
          {t("files.commentSend")}
        </button>
      </form>
    </div>
  );
}

export function FilesPanel({ channelId }: { channelId: number }) {
  const t = useT();
  const list = useStore(files, (s) => s.byChannel[channelId]);
  const [failed, setFailed] = useState(false);
  const [open, setOpen] = useState<number | null>(null);
  useEffect(() => {
    setFailed(false);
    loadChannelFiles(channelId, false).catch(() => setFailed(true));
  }, [channelId]);
  return (
    <aside class="panel files-panel" aria-labelledby="panel-title">
      <header class="panel-head">
        <div>
          <h2 id="panel-title">{t("files.panel")}</h2>
        </div>
        <button type="button" class="icon-btn" aria-label={t("files.panelClose")} onClick={() => patchUi({ panel: null })}>
          <Icon name="close" />
        </button>
      </header>
      <div class="panel-scroll">
        {failed && <p class="form-error panel-pad">{t("error.loadFailed")}</p>}
        {!list && !failed && <p class="muted panel-pad">{t("loading")}</p>}
        {list && list.files.length === 0 && <p class="muted panel-pad">{t("files.empty")}</p>}
        <ul class="files-list">
          {list?.files.map((f) => (
            <li key={f.id} class="files-item" data-file-id={f.id}>
              <button
                type="button"
                class="files-row"
                aria-expanded={open === f.id}
                aria-controls={`file-details-${f.id}`}
                aria-label={t("files.details", { name: f.name })}
                onClick={() => setOpen(open === f.id ? null : f.id)}
              >
                {isImage(f) ? <Thumb file={f} /> : <Icon name="file" size={24} class="files-thumb" />}
                <span class="files-row-text">
                  <span class="files-name">{f.name}</span>
                  <span class="muted small" title={formatDateTime(f.updated_at, t.time)}>
                    {t("files.meta", { size: formatBytes(f.size), version: f.version, time: when(f.updated_at, t.time) })}
                  </span>
                </span>
                {f.effective_sensitive && (
                  <span class="tag tag-sensitive" title={t("files.sensitiveHint")}>
                    {t("files.sensitive")}
                  </span>
                )}
              </button>
              {open === f.id && (
                <>
                  <FileCard file={f} sensitive={f.effective_sensitive} />
                  <FileDetails file={f} />
                </>
              )}
            </li>
          ))}
        </ul>
        {list?.nextBefore != null && (
          <button type="button" class="btn panel-pad" onClick={() => loadChannelFiles(channelId, true).catch(reportError)}>
            {t("files.more")}
          </button>
        )}
      </div>
    </aside>
  );
}
