// Files in the conversation: a message's attachments (image thumbnails that open the lightbox,
// other files as cards with a download link) and the composer's tray of pending uploads.
// Images load through signed links, since an <img> cannot send the bearer token.

import { useEffect, useState } from "preact/hooks";
import type { FileId, FileLinkVariant, FileRef } from "../api/types";
import { useT } from "../i18n";
import { reportError } from "../state/app";
import { formatBytes, progressOf, type Attachment } from "../state/attachments";
import { downloadFile, ensureFileInfo, fileLink, files, removeAttachment, restartAttachment } from "../state/filesController";
import { fitWithin } from "../state/imageCompression";
import { useStore } from "../state/store";
import { Icon } from "./icons";
import { lazyComponent } from "./lazy";

const Lightbox = lazyComponent(() => import("./Files").then((m) => m.Lightbox));

/** A signed link to a file's rendition, renewed (re-rendering) when the file changes. */
export function useFileLink(id: FileId, variant: FileLinkVariant, version?: number): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    fileLink(id, variant, version).then(
      (u) => live && setUrl(u),
      () => live && setUrl(null),
    );
    return () => {
      live = false;
    };
  }, [id, variant, version]);
  return url;
}

export function isImage(f: { mime: string }): boolean {
  return f.mime.startsWith("image/");
}

function SensitiveBadge() {
  const t = useT();
  return (
    <span class="tag tag-sensitive" title={t("files.sensitiveHint")}>
      {t("files.sensitive")}
    </span>
  );
}

function ImageAttachment({ file, onOpen, sensitive }: { file: FileRef; onOpen: () => void; sensitive: boolean }) {
  const t = useT();
  const src = useFileLink(file.id, "thumbnail", file.version);
  // Reserve the box before the image loads, so the history does not jump.
  const box = fitWithin(file.width ?? 320, file.height ?? 240, 320);
  const height = Math.min(box.height, 240);
  const width = Math.max(1, Math.round(box.width * (height / box.height)));
  return (
    <figure class="attachment attachment-image">
      <button type="button" class="attachment-thumb" onClick={onOpen} aria-label={t("files.open", { name: file.name })}>
        {src ? <img src={src} alt={file.name} width={width} height={height} loading="lazy" /> : <span class="thumb-placeholder" />}
      </button>
      {sensitive && (
        <figcaption>
          <SensitiveBadge />
        </figcaption>
      )}
    </figure>
  );
}

export function FileCard({ file, sensitive }: { file: { id: FileId; name: string; size: number; version?: number }; sensitive: boolean }) {
  const t = useT();
  return (
    <div class="attachment file-card">
      <Icon name="file" size={28} class="file-card-icon" />
      <div class="file-card-text">
        <span class="file-card-name" title={file.name}>
          {file.name}
        </span>
        <span class="muted small">
          {formatBytes(file.size)} {sensitive && <SensitiveBadge />}
        </span>
      </div>
      <button
        type="button"
        class="icon-btn"
        aria-label={t("files.download", { name: file.name })}
        title={t("files.downloadShort")}
        onClick={() => downloadFile(file.id, file.version).catch(reportError)}
      >
        <Icon name="download" size={16} />
      </button>
    </div>
  );
}

/** A message's files, under its text. */
export function MessageAttachments({ list }: { list: FileRef[] }) {
  const info = useStore(files, (s) => s.info);
  const [open, setOpen] = useState<FileRef | null>(null);
  useEffect(() => {
    for (const f of list) ensureFileInfo(f.id);
  }, [list]);
  return (
    <div class="attachments">
      {list.map((f) => {
        const sensitive = !!info[f.id]?.effective_sensitive;
        return isImage(f) ? (
          <ImageAttachment key={f.id} file={f} sensitive={sensitive} onOpen={() => setOpen(f)} />
        ) : (
          <FileCard key={f.id} file={f} sensitive={sensitive} />
        );
      })}
      {open && <Lightbox file={open} onClose={() => setOpen(null)} />}
    </div>
  );
}

/** The composer's pending attachments: preview, name, size, progress, errors, remove. */
export function AttachmentTray({
  tray,
  channelId,
  threadRootId,
}: {
  tray: Attachment[];
  channelId: number;
  threadRootId: number | null;
}) {
  const t = useT();
  if (tray.length === 0) return null;
  return (
    <ul class="attach-tray" aria-label={t("files.tray")}>
      {tray.map((a) => (
        <li key={a.key} class={`tray-item ${a.status}`} data-status={a.status}>
          {a.previewUrl ? <img class="tray-preview" src={a.previewUrl} alt="" /> : <Icon name="file" size={28} class="tray-icon" />}
          <div class="tray-text">
            <span class="tray-name" title={a.name}>
              {a.name}
            </span>
            <span class="muted small">
              {formatBytes(a.size)}
              {a.compressed && ` · ${t("files.compressed", { size: formatBytes(a.original.size) })}`}
            </span>
            {a.status === "uploading" && (
              <progress max={1} value={progressOf(a)} aria-label={t("files.uploading", { name: a.name })} />
            )}
            {a.status === "preparing" && <span class="muted small">{t("files.preparing")}</span>}
            {a.status === "done" && <span class="sr-only">{t("files.uploaded")}</span>}
            {a.status === "failed" && (
              <span class="form-error small" role="alert">
                {t("files.failed")}: {a.error}
              </span>
            )}
            <span class="tray-actions">
              {a.compressed && a.status !== "preparing" && (
                <button type="button" class="link-btn" onClick={() => restartAttachment(channelId, threadRootId, a.key, true)}>
                  {t("files.sendOriginal")}
                </button>
              )}
              {a.status === "failed" && (
                <button type="button" class="link-btn" onClick={() => restartAttachment(channelId, threadRootId, a.key, a.sendOriginal)}>
                  {t("files.retry")}
                </button>
              )}
            </span>
          </div>
          <button
            type="button"
            class="icon-btn tray-remove"
            aria-label={t("files.remove", { name: a.name })}
            title={t("files.remove", { name: a.name })}
            onClick={() => removeAttachment(channelId, threadRootId, a.key)}
          >
            <Icon name="close" size={14} />
          </button>
        </li>
      ))}
    </ul>
  );
}
