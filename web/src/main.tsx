// Entry point: applies the theme and language, then renders the app.

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
