// Entry point: applies the theme and language, then renders the app.
/// <reference types="vite/client" />

import { render } from "preact";
import { App } from "./components/App";
import { i18n } from "./i18n";
import { applyTheme, settings } from "./state/settings";
import "./styles/base.css";
import "./styles/layout.css";
import "./styles/messages.css";
import "./styles/files.css";
import "./styles/watermark.css";

applyTheme(settings.get());
settings.subscribe(applyTheme);
if (typeof matchMedia === "function") {
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => applyTheme(settings.get()));
}
document.documentElement.lang = i18n.get().locale;

const root = document.getElementById("app");
if (root) render(<App />, root);

// The installed app (PWA) opens offline from the cached shell; `public/sw.js` never caches
// API responses. Not in development, where Vite serves unbundled modules.
if (import.meta.env.PROD && "serviceWorker" in navigator) {
  addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js").catch(() => undefined);
  });
}
