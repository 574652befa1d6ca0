// The admin console's Export section (`compliance.export`): the criteria form (channels,
// people, a time range, files or not) and the download of the zip archive the server builds.
// Rules live in state/exports.ts; the server audits every export.

import { useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { useT, type Translator } from "../i18n";
import { api, showToast } from "../state/app";
import { EMPTY_EXPORT_FORM, exportFileName, exportRequest, type ExportForm } from "../state/exports";

function errorText(e: unknown, t: Translator): string {
  if (e instanceof ApiError) return e.isNetwork ? t("error.network") : e.message;
  return t("error.generic");
}

/** Hands a downloaded archive to the browser as a file. */
export function saveBlob(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ExportsSection() {
  const t = useT();
  const [form, setForm] = useState<ExportForm>(EMPTY_EXPORT_FORM);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const field = (k: "channelIds" | "userIds" | "from" | "to") => (e: Event) =>
    setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const submit = (e: Event) => {
    e.preventDefault();
    const req = exportRequest(form);
    if (typeof req === "string") {
      setError(t(req));
      return;
    }
    setError(null);
    setBusy(true);
    api
      .complianceExport(req)
      .then((blob) => {
        saveBlob(blob, exportFileName(new Date()));
        showToast(t("export.done"));
      })
      .catch((err) => setError(errorText(err, t)))
      .finally(() => setBusy(false));
  };
  return (
    <section aria-labelledby="admin-exports" class="exports">
      <h2 id="admin-exports">{t("admin.exports")}</h2>
      <p class="muted">{t("export.help")}</p>
      <form class="form-grid" onSubmit={submit} aria-label={t("export.run")}>
        <label class="field">
          <span>{t("export.channelIds")}</span>
          <input value={form.channelIds} onInput={field("channelIds")} placeholder="9, 12" />
        </label>
        <label class="field">
          <span>{t("export.userIds")}</span>
          <input value={form.userIds} onInput={field("userIds")} placeholder="7" />
        </label>
        <label class="field">
          <span>{t("export.from")}</span>
          <input type="datetime-local" value={form.from} onInput={field("from")} />
        </label>
        <label class="field">
          <span>{t("export.to")}</span>
          <input type="datetime-local" value={form.to} onInput={field("to")} />
        </label>
        <label class="field checkbox">
          <input
            type="checkbox"
            checked={form.includeFiles}
            onChange={(e) => setForm({ ...form, includeFiles: (e.currentTarget as HTMLInputElement).checked })}
          />
          <span>{t("export.includeFiles")}</span>
        </label>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t("export.running") : t("export.run")}
        </button>
      </form>
    </section>
  );
}

/** Settings: download one's own data (profile, sessions, messages, reactions, files). */
export function MyDataExport() {
  const t = useT();
  const [busy, setBusy] = useState(false);
  const download = () => {
    setBusy(true);
    api
      .myExport()
      .then((blob) => {
        saveBlob(blob, exportFileName(new Date(), "personal"));
        showToast(t("export.done"));
      })
      .catch((err) => showToast(errorText(err, t)))
      .finally(() => setBusy(false));
  };
  return (
    <div class="my-data">
      <h2 class="settings-heading">{t("export.myData")}</h2>
      <p class="muted">{t("export.myDataHelp")}</p>
      <button type="button" onClick={download} disabled={busy}>
        {busy ? t("export.running") : t("export.myData")}
      </button>
    </div>
  );
}
