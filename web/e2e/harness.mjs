// The e2e harness: options, a sequential test runner that prints a closing
// "N passed, N failed" line, a REST client for seeding, and browser helpers that fail the
// run on any console error, page error or dialog.

import { chromium } from "playwright-core";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

export function options(argv = process.argv.slice(2)) {
  const get = (flag, env, fallback) => {
    const i = argv.indexOf(flag);
    if (i >= 0 && argv[i + 1] !== undefined) return argv[i + 1];
    return process.env[env] ?? fallback;
  };
  const base = get("--base", "CONCORD_E2E_BASE", "");
  if (!base) {
    console.error(
      "usage: node e2e/run.mjs --base http://127.0.0.1:8080 --admin alice --user bob --password '...'\n" +
        "  (or CONCORD_E2E_BASE, CONCORD_E2E_ADMIN, CONCORD_E2E_USER, CONCORD_E2E_PASSWORD);\n" +
        "  needs a fresh server with those two users (the admin is an org admin) and\n" +
        "  CONCORD_TEST_CHROMIUM=/usr/bin/chromium.",
    );
    process.exit(2);
  }
  return {
    base: base.replace(/\/$/, ""),
    admin: get("--admin", "CONCORD_E2E_ADMIN", "alice"),
    user: get("--user", "CONCORD_E2E_USER", "bob"),
    password: get("--password", "CONCORD_E2E_PASSWORD", "correct horse battery"),
    chromium: get("--chromium", "CONCORD_TEST_CHROMIUM", "/usr/bin/chromium"),
    screenshots: path.resolve(get("--screenshots", "CONCORD_E2E_SCREENSHOTS", path.join(here, "../../docs/screenshots"))),
    bulk: Number(get("--bulk", "CONCORD_E2E_BULK", "10000")),
  };
}

// ------------------------------------------------------------------ runner

const tests = [];
export function test(name, fn) {
  tests.push({ name, fn });
}

export async function runAll(after) {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    const started = Date.now();
    let timer;
    try {
      await Promise.race([
        t.fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("test took longer than 90 s")), 90_000);
        }),
      ]);
      clearTimeout(timer);
      passed++;
      console.log(`ok   ${t.name} (${Date.now() - started} ms)`);
    } catch (e) {
      clearTimeout(timer);
      failed++;
      console.log(`FAIL ${t.name} (${Date.now() - started} ms)\n     ${(e && e.stack) || e}`);
    }
  }
  try {
    await after?.();
  } catch (e) {
    failed++;
    console.log(`FAIL teardown\n     ${(e && e.stack) || e}`);
  }
  console.log(`\n${passed} passed, ${failed} failed`);
  return failed === 0;
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

export function assertEqual(actual, expected, message) {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`assertion failed: ${message}\n       expected ${b}\n       got      ${a}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value. */
export async function eventually(fn, message, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  throw new Error(`timed out: ${message} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

// ------------------------------------------------------------------ REST

export class Api {
  constructor(base, token = null) {
    this.base = base;
    this.token = token;
  }

  async call(method, p, body) {
    const headers = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res;
    for (let attempt = 0; ; attempt++) {
      res = await fetch(`${this.base}/api/v1${p}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      // A server with default rate limits: wait as told and retry (sends are keyed, so safe).
      if (res.status !== 429 || attempt >= 100) break;
      await sleep(1000 * Number(res.headers.get("retry-after") ?? "1"));
    }
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return data;
  }

  static async login(base, login, password) {
    const api = new Api(base);
    const res = await api.call("POST", "/auth/login", { login, password });
    api.token = res.token;
    api.user = res.user;
    return api;
  }

  channel(name, kind, memberIds, topic = "") {
    return this.call("POST", "/channels", { name, kind, member_ids: memberIds, topic });
  }
  send(channelId, text, threadRootId = null) {
    return this.call("POST", `/channels/${channelId}/messages`, { text, thread_root_id: threadRootId });
  }
  history(channelId, q = "") {
    return this.call("GET", `/channels/${channelId}/messages${q}`);
  }
}

// ------------------------------------------------------------------ browser

export async function launch(executablePath) {
  return chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Every console error, uncaught page error and JS dialog seen, by page label. */
export const problems = [];

export async function newPage(browser, label, contextOptions = {}) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: "en-US",
    timezoneId: "Asia/Shanghai",
    deviceScaleFactor: 1,
    ...contextOptions,
  });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  watch(page, label);
  return { context, page };
}

export function watch(page, label) {
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    // Channel settings ask for a rule or geofence that may not exist yet: 404 is the answer.
    const url = msg.location()?.url ?? "";
    if (/status of 404/.test(msg.text()) && /\/channels\/\d+\/(membership-rule|geofence)$/.test(url)) return;
    problems.push(`${label}: console error: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`${label}: page error: ${err.message}`));
  page.on("dialog", async (dialog) => {
    problems.push(`${label}: a ${dialog.type()} dialog opened: ${dialog.message()}`);
    await dialog.dismiss();
  });
}

export async function screenshot(page, dir, name) {
  await mkdir(dir, { recursive: true });
  // No hover toolbar or focus ring in the picture; let fonts and layout settle.
  await page.mouse.move(2, page.viewportSize().height - 2);
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
  await page.evaluate(() => document.fonts?.ready);
  await sleep(100);
  await page.screenshot({ path: path.join(dir, name), animations: "disabled", caret: "hide" });
}

export async function signIn(page, base, login, password) {
  await page.goto(`${base}/`);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('button[type="submit"]').click();
  await page.locator("nav.sidebar").waitFor({ state: "attached" });
}

/** Opens a channel from the sidebar by its id. */
export async function openChannel(page, id) {
  await page.locator(`a[data-channel-id="${id}"]`).click();
  await page.waitForURL(`**/c/${id}`);
  await page.locator(".channel .vlist").waitFor();
}

/** Types into the main composer and sends with Enter. */
export async function sendFromComposer(page, text, scope = ".channel") {
  const box = page.locator(`${scope} .composer textarea`);
  await box.click();
  await box.fill(text);
  await box.press("Enter");
}

/** The message bodies rendered in the open channel, in order. */
export async function visibleTexts(page, scope = ".channel") {
  return page.locator(`${scope} article.msg .msg-body .md`).allInnerTexts();
}
