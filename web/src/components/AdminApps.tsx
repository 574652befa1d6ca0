// The admin console's Apps section (`app.install`): installed apps with their bot accounts and
// scopes; installing one with scope checkboxes; the token shown once after install or
// rotation; rotating and uninstalling, each confirmed first. The rules live in state/apps.ts.

import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import type { App, AppScope, AppWithToken } from "../api/types";
import { useT, type Translator } from "../i18n";
import { formatDate, formatDateTime } from "../i18n/time";
import { EMPTY_INSTALL, installProblem, installRequest, scopeDescription, sortScopes, withName, withScope, type InstallForm } from "../state/apps";
import { api, reportError, showToast } from "../state/app";
import { Avatar } from "./common";
import { ConfirmDialog } from "./Dialogs";

function errorText(e: unknown, t: Translator): string {
  if (e instanceof ApiError) return e.isNetwork ? t("error.network") : e.message;
  return t("error.generic");
}

/** The scopes as checkboxes, each with what it allows. */
export function ScopeChecklist({ scopes, chosen, onToggle }: { scopes: AppScope[]; chosen: string[]; onToggle: (scope: string, on: boolean) => void }) {
  const t = useT();
  return (
    <fieldset class="field">
      <legend>{t("apps.scopes")}</legend>
      <div class="check-list">
        {scopes.map((s) => (
          <label key={s.name} class="check">
            <input type="checkbox" name="scope" value={s.name} checked={chosen.includes(s.name)} onChange={(e) => onToggle(s.name, e.currentTarget.checked)} />
            <span>
              <code>{s.name}</code> <span class="muted small">{scopeDescription(s, t)}</span>
            </span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** A new token, shown this once: copy it now. */
export function TokenOnce({ result, onDone }: { result: AppWithToken; onDone: () => void }) {
  const t = useT();
  const copy = () => {
    navigator.clipboard
      ?.writeText(result.token)
      .then(() => showToast(t("apps.copied")))
      .catch(() => undefined);
  };
  return (
    <section class="card token-once" role="alert" aria-labelledby="app-token-title">
      <h2 id="app-token-title">{t("apps.tokenTitle", { name: result.app.name })}</h2>
      <p>{t("apps.tokenOnce")}</p>
      <label class="field">
        <span>{t("apps.token")}</span>
        <input readOnly value={result.token} onFocus={(e) => e.currentTarget.select()} spellcheck={false} />
      </label>
      <div class="form-actions">
        <button type="button" class="btn" onClick={copy}>
          {t("apps.copy")}
        </button>
        <button type="button" class="btn btn-primary" onClick={onDone}>
          {t("apps.tokenDone")}
        </button>
      </div>
    </section>
  );
}

function AppRow({ app, onRotate, onUninstall }: { app: App; onRotate: () => void; onUninstall: () => void }) {
  const t = useT();
  const bot = app.bot_user;
  return (
    <tr>
      <td>
        <strong>{app.name}</strong>
        {app.description && <div class="muted small">{app.description}</div>}
      </td>
      <td>
        <span class="cell-user">
          <Avatar user={bot} id={bot.id} size={24} />@{bot.username}
          <span class="tag">{t("apps.botTag")}</span>
        </span>
      </td>
      <td>
        <ul class="tag-list" aria-label={t("apps.scopes")}>
          {app.scopes.map((s) => (
            <li key={s} class="tag">
              {s}
            </li>
          ))}
        </ul>
      </td>
      <td>
        <time dateTime={app.installed_at} title={formatDateTime(app.installed_at, t.time)}>
          {formatDate(app.installed_at, t.time)}
        </time>
      </td>
      <td>{app.token_issued_at ? <time dateTime={app.token_issued_at}>{formatDateTime(app.token_issued_at, t.time)}</time> : "—"}</td>
      <td>
        <button type="button" class="link-btn" onClick={onRotate} aria-label={t("apps.rotateNamed", { name: app.name })}>
          {t("apps.rotate")}
        </button>
        <button type="button" class="link-btn danger" onClick={onUninstall} aria-label={t("apps.uninstallNamed", { name: app.name })}>
          {t("apps.uninstall")}
        </button>
      </td>
    </tr>
  );
}

export function AppsSection() {
  const t = useT();
  const [apps, setApps] = useState<App[] | null>(null);
  const [scopes, setScopes] = useState<AppScope[]>([]);
  const [form, setForm] = useState<InstallForm>(EMPTY_INSTALL);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [token, setToken] = useState<AppWithToken | null>(null);
  const [confirm, setConfirm] = useState<{ app: App; action: "rotate" | "uninstall" } | null>(null);
  const load = () => {
    api.apps().then(setApps).catch(reportError);
  };
  useEffect(() => {
    load();
    api
      .appScopes()
      .then((s) => setScopes(sortScopes(s)))
      .catch(reportError);
  }, []);
  const problem = installProblem(form);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (problem) {
      setError(t(problem));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const result = await api.installApp(installRequest(form));
      setToken(result);
      setForm(EMPTY_INSTALL);
      load();
    } catch (err) {
      setError(errorText(err, t));
    } finally {
      setBusy(false);
    }
  };
  const act = async (app: App, action: "rotate" | "uninstall") => {
    try {
      if (action === "rotate") setToken(await api.rotateAppToken(app.id));
      else {
        await api.uninstallApp(app.id);
        showToast(t("apps.uninstalled", { name: app.name }));
      }
      load();
    } catch (err) {
      reportError(err);
    }
  };
  return (
    <div class="admin-grid">
      <section aria-labelledby="admin-apps">
        <h2 id="admin-apps">{t("apps.installed")}</h2>
        <p class="muted small">{t("apps.help")}</p>
        {token && <TokenOnce result={token} onDone={() => setToken(null)} />}
        {apps === null ? (
          <p class="muted">{t("loading")}</p>
        ) : (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{t("apps.app")}</th>
                  <th scope="col">{t("apps.bot")}</th>
                  <th scope="col">{t("apps.scopes")}</th>
                  <th scope="col">{t("apps.installedAt")}</th>
                  <th scope="col">{t("apps.tokenIssued")}</th>
                  <th scope="col">{t("admin.actions")}</th>
                </tr>
              </thead>
              <tbody>
                {apps.map((a) => (
                  <AppRow key={a.id} app={a} onRotate={() => setConfirm({ app: a, action: "rotate" })} onUninstall={() => setConfirm({ app: a, action: "uninstall" })} />
                ))}
                {apps.length === 0 && (
                  <tr>
                    <td colSpan={6} class="muted">
                      {t("apps.none")}
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="admin-install" class="card">
        <h2 id="admin-install">{t("apps.install")}</h2>
        <form class="form" onSubmit={submit}>
          <label class="field">
            <span>{t("apps.name")}</span>
            <input required name="name" value={form.name} onInput={(e) => setForm(withName(form, e.currentTarget.value))} />
          </label>
          <label class="field">
            <span>{t("apps.username")}</span>
            <input
              required
              name="username"
              value={form.username}
              autoComplete="off"
              onInput={(e) => setForm({ ...form, username: e.currentTarget.value, usernameEdited: true })}
            />
          </label>
          <label class="field">
            <span>{t("admin.description")}</span>
            <textarea name="description" value={form.description} onInput={(e) => setForm({ ...form, description: e.currentTarget.value })} />
          </label>
          <ScopeChecklist scopes={scopes} chosen={form.scopes} onToggle={(s, on) => setForm(withScope(form, s, on))} />
          <p class="muted small">{t("apps.consent")}</p>
          {error && (
            <p class="form-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" class="btn btn-primary" disabled={busy || problem !== null}>
            {t("apps.installSubmit")}
          </button>
        </form>
      </section>
      {confirm && (
        <ConfirmDialog
          text={t(confirm.action === "rotate" ? "apps.confirmRotate" : "apps.confirmUninstall", { name: confirm.app.name })}
          confirmLabel={t(confirm.action === "rotate" ? "apps.rotate" : "apps.uninstall")}
          danger={confirm.action === "uninstall"}
          onClose={() => setConfirm(null)}
          onConfirm={() => {
            const c = confirm;
            setConfirm(null);
            act(c.app, c.action);
          }}
        />
      )}
    </div>
  );
}
