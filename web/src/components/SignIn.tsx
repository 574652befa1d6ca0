// The sign-in screen: username or email and password, with the language picker.

import { useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { useT } from "../i18n";
import { signIn } from "../state/app";
import { settings, updateSettings, type LanguageSetting } from "../state/settings";
import { useStore } from "../state/store";
import { Logo } from "./Logo";

export function SignIn() {
  const t = useT();
  const language = useStore(settings, (s) => s.language);
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await signIn(login.trim(), password);
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) setError(t("signin.rateLimited"));
      else if (err instanceof ApiError && err.isNetwork) setError(t("error.network"));
      else if (err instanceof ApiError && err.status < 500) setError(t("signin.failed"));
      else setError(t("error.generic"));
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <form class="signin-card" onSubmit={submit} aria-labelledby="signin-title" noValidate>
        <div class="signin-brand">
          <Logo size={48} />
          <h1 id="signin-title">{t("signin.title")}</h1>
          <p class="muted">{t("signin.subtitle")}</p>
        </div>
        <label class="field">
          <span>{t("signin.login")}</span>
          <input
            name="login"
            autoComplete="username"
            autoCapitalize="none"
            spellcheck={false}
            required
            value={login}
            onInput={(e) => setLogin(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>{t("signin.password")}</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <button class="btn btn-primary btn-block" type="submit" disabled={busy || !login || !password}>
          {busy ? t("signin.busy") : t("signin.submit")}
        </button>
        <label class="field field-inline signin-lang">
          <span>{t("signin.language")}</span>
          <select
            value={language}
            onChange={(e) => updateSettings({ language: e.currentTarget.value as LanguageSetting })}
          >
            <option value="auto">{t("settings.languageAuto")}</option>
            <option value="en">English</option>
            <option value="zh-CN">简体中文</option>
          </select>
        </label>
      </form>
    </main>
  );
}
