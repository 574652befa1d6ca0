// End-to-end tests of the web client in headless Chromium against a real Concord server.
//
//   CONCORD_TEST_CHROMIUM=/usr/bin/chromium node e2e/run.mjs \
//     --base http://127.0.0.1:8080 --admin alice --user bob --password '...'
//
// The server must be fresh, with those two users (the first an org admin). The run seeds
// channels and messages over REST, drives two (and more) browser contexts, asserts what each
// user sees, and saves screenshots of the main screens into docs/screenshots/.

import {
  Api,
  assert,
  assertEqual,
  eventually,
  launch,
  newPage,
  openChannel,
  options,
  problems,
  runAll,
  screenshot,
  sendFromComposer,
  signIn,
  sleep,
  test,
  visibleTexts,
} from "./harness.mjs";

const opts = options();
const shots = opts.screenshots;
const browser = await launch(opts.chromium);

// ------------------------------------------------------------------ seed data over REST

const alice = await Api.login(opts.base, opts.admin, opts.password);
const bob = await Api.login(opts.base, opts.user, opts.password);
await alice.call("POST", "/users", {
  username: "carol",
  password: opts.password,
  display_name: "Carol Li",
  email: "carol@example.com",
});
const carol = await Api.login(opts.base, "carol", opts.password);
const ids = { alice: alice.user.id, bob: bob.user.id, carol: carol.user.id };

const general = await alice.channel("general", "public", [ids.bob, ids.carol], "Company-wide announcements and work-based matters");
const design = await alice.channel("design", "public", [ids.bob], "Mock-ups, reviews and the style guide");
const random = await carol.channel("random", "public", [], "Anything goes");
const leadership = await alice.channel("leadership", "private", [ids.carol], "Planning, privately");
const bulk = await alice.channel("load-test", "public", [ids.bob], `${opts.bulk} messages for scrolling`);

const welcome = await alice.send(general.id, "Welcome to **Concord**, everyone! 🎉\nPlease read the [handbook](https://example.com/handbook) before Friday.");
await bob.send(general.id, "Thanks @alice! Quick question about the release:\n- Is `v0.2` still planned for **Thursday**?\n- Do we freeze on Wednesday?");
const plan = await carol.send(general.id, "Yes, the plan is unchanged. I'll post the checklist here:\n```\ncargo test --workspace\nnpm run test:unit\n```");
await alice.send(general.id, "> Do we freeze on Wednesday?\n\nYes, _Wednesday 18:00_ Beijing time. ~~Tuesday~~ was too early.");
await bob.send(general.id, "Sounds good 👍");
await alice.send(general.id, "Reply in a thread if anything blocks you.", null);
await bob.send(general.id, "I'll run the checklist tonight.", plan.id);
await alice.send(general.id, "Thanks Bob, ping me when it is green.", plan.id);
await carol.call("PUT", `/messages/${welcome.id}/reactions/${encodeURIComponent("🎉")}`);
await bob.call("PUT", `/messages/${welcome.id}/reactions/${encodeURIComponent("🎉")}`);
await bob.call("PUT", `/messages/${plan.id}/reactions/${encodeURIComponent("👍")}`);
await alice.call("PUT", `/messages/${welcome.id}/pin`);
await alice.send(design.id, "New mock-ups for the sidebar are up. Feedback welcome!");
await bob.send(design.id, "Looks great. The unread badges read well in both themes.");
await carol.send(random.id, "Who is up for lunch at 12:30?");
await alice.send(leadership.id, "Budget review moved to Monday.");
const dm = await alice.call("POST", "/dms", { user_ids: [ids.bob] });
await bob.send(dm.id, "Hi Alice, do you have five minutes after stand-up?");

async function seedBulk() {
  const started = Date.now();
  let next = 1;
  const worker = async () => {
    while (next <= opts.bulk) {
      const i = next++;
      const who = i % 2 ? alice : bob;
      await who.send(bulk.id, `Bulk message ${i} of ${opts.bulk}`);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  console.log(`seeded ${opts.bulk} messages in ${Date.now() - started} ms`);
}
await seedBulk();

/** Scrolls a channel's history to its beginning (for a tidy screenshot). */
async function scrollToStart(page) {
  const list = page.locator(".channel .vlist");
  for (let i = 0; i < 5; i++) {
    await list.evaluate((el) => (el.scrollTop = 0));
    await sleep(300);
    if (await page.locator(".channel .intro").count()) break;
  }
  await page.locator(".channel .intro").waitFor();
}

// ------------------------------------------------------------------ browsers

const A = await newPage(browser, "alice");
const sockets = [];
let blocked = false;
const wsUrls = [];
const B = await newPage(browser, "bob");
// Bob's WebSocket goes through this route, so the test can cut it and keep it down.
await B.context.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
  wsUrls.push(ws.url());
  if (blocked) {
    ws.close({ code: 4000, reason: "test: network down" });
    return;
  }
  ws.connectToServer();
  sockets.push(ws);
});

test("sign-in screen, then the channel view", async () => {
  await A.page.goto(`${opts.base}/`);
  await A.page.getByRole("heading", { name: "Sign in to Concord" }).waitFor();
  await screenshot(A.page, shots, "sign-in.png");
  await signIn(A.page, opts.base, opts.admin, opts.password);
  await openChannel(A.page, general.id);
  await A.page.getByText("Welcome to Concord").first().waitFor();
  const texts = await visibleTexts(A.page);
  assert(texts.some((t) => t.includes("Sounds good")), "history shows the seeded messages");
  assert(!texts.some((t) => t.includes("I'll run the checklist tonight")), "thread replies stay out of the channel list");
  await A.page.getByRole("button", { name: "2 replies" }).waitFor();
  await signIn(B.page, opts.base, opts.user, opts.password);
  await openChannel(B.page, general.id);
});

test("no watermark unless the org turns it on", async () => {
  // The server here runs with the default `[web] watermark = false` (watermark.mjs: on).
  assertEqual(await A.page.locator(".shell.watermarked").count(), 0, "no watermark class");
  const overlay = await A.page.locator(".main").evaluate((el) => getComputedStyle(el, "::after").backgroundImage);
  assertEqual(overlay, "none", "no watermark image over the view");
});

test("installable: the manifest, and a service worker that caches the shell but no API response", async () => {
  assertEqual(await A.page.locator('link[rel="manifest"]').getAttribute("href"), "/manifest.webmanifest", "manifest linked");
  const script = await A.page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL ?? "");
  assertEqual(new URL(script).pathname, "/sw.js", "the service worker is active");
  // Reloaded, the page is controlled: its requests (API ones included) pass the worker.
  await A.page.reload();
  await A.page.locator(".channel .vlist").waitFor();
  assert(await A.page.evaluate(() => !!navigator.serviceWorker.controller), "the page is controlled");
  await A.page.getByText("Welcome to Concord").first().waitFor();
  const cached = () =>
    A.page.evaluate(async () => {
      const paths = [];
      for (const name of await caches.keys()) {
        for (const r of await (await caches.open(name)).keys()) paths.push(new URL(r.url).pathname);
      }
      return paths;
    });
  await eventually(async () => (await cached()).some((p) => p.startsWith("/assets/")), "the bundle is cached");
  const paths = await cached();
  assert(paths.includes("/"), `the shell is cached: ${paths}`);
  assert(!paths.some((p) => p.startsWith("/api")), `no API response is cached: ${paths}`);
});

test("a message sent by one user appears live for the other", async () => {
  await sendFromComposer(A.page, "Live from Alice: the build is green ✅");
  await B.page.locator("article.msg", { hasText: "Live from Alice: the build is green" }).waitFor({ timeout: 10_000 });
  // And the sender sees it once, no longer pending.
  await eventually(async () => (await A.page.locator(".msg.pending").count()) === 0, "pending row cleared");
  assertEqual(await A.page.locator("article.msg", { hasText: "Live from Alice: the build is green" }).count(), 1, "exactly once for the sender");
});

test("typing indicator shows who is typing", async () => {
  const box = B.page.locator(".channel .composer textarea");
  await box.click();
  await box.pressSequentially("typing…", { delay: 20 });
  await A.page.locator(".typing", { hasText: `${bob.user.display_name} is typing` }).waitFor();
  await box.fill("");
});

test("unread and mention badges, and the tab title", async () => {
  await openChannel(A.page, design.id);
  await bob.send(general.id, "@alice could you review the release notes?");
  const link = A.page.locator(`a[data-channel-id="${general.id}"]`);
  await link.locator(".badge", { hasText: "1" }).waitFor();
  assert((await link.getAttribute("class")).includes("unread"), "channel name is bold");
  // One mention in #general plus the unread DM from Bob.
  await eventually(async () => (await A.page.title()) === "(2) #design · Concord", "title shows the count");
  await openChannel(A.page, general.id);
  await A.page.locator(".unread-sep").waitFor();
  await eventually(async () => (await link.locator(".badge").count()) === 0, "badge cleared after reading");
  await eventually(async () => (await A.page.title()) === "(1) #general · Concord", "title count went down");
});

test("a reply in a thread", async () => {
  const root = A.page.locator("article.msg", { hasText: "Live from Alice: the build is green" });
  await root.hover();
  await root.getByRole("button", { name: "Reply in thread" }).click();
  const panel = A.page.locator(".thread-panel");
  await panel.waitFor();
  await sendFromComposer(A.page, "Release notes are in the wiki.", ".thread-panel");
  await panel.locator("article.msg", { hasText: "Release notes are in the wiki." }).waitFor();
  const link = B.page.locator("article.msg", { hasText: "Live from Alice" }).getByRole("button", { name: "1 reply" });
  await link.waitFor();
  await link.click();
  await B.page.locator(".thread-panel article.msg", { hasText: "Release notes are in the wiki." }).waitFor();
  // Esc closes the panel.
  await B.page.keyboard.press("Escape");
  await B.page.locator(".thread-panel").waitFor({ state: "detached" });
  // The seeded thread, for the screenshot.
  await A.page.keyboard.press("Escape");
  await A.page.getByRole("button", { name: "2 replies" }).click();
  await A.page.locator(".thread-panel article.msg", { hasText: "ping me when it is green" }).waitFor();
  await screenshot(A.page, shots, "thread.png");
  await A.page.keyboard.press("Escape");
});

test("channel view in light and dark themes", async () => {
  await A.page.locator(".channel .vlist").evaluate((el) => (el.scrollTop = el.scrollHeight));
  await sleep(200);
  await screenshot(A.page, shots, "channel-light.png");
  await A.page.goto(`${opts.base}/settings`);
  await A.page.getByText("Dark", { exact: true }).click();
  assertEqual(await A.page.evaluate(() => document.documentElement.dataset.theme), "dark", "dark theme applied");
  await A.page.goBack();
  await A.page.locator(`a[data-channel-id="${general.id}"]`).click();
  await A.page.locator(".channel article.msg").first().waitFor();
  await sleep(200);
  await screenshot(A.page, shots, "channel-dark.png");
  await A.page.goto(`${opts.base}/settings`);
  await A.page.getByText("System", { exact: true }).click();
  await openChannel(A.page, general.id);
});

test("attachments: a compressed photo and a dropped file, live thumbnails, the lightbox, the Files panel", async () => {
  const photos = await alice.channel("photos", "public", [ids.bob], "Pictures from the offsite");
  await openChannel(A.page, photos.id);
  await openChannel(B.page, photos.id);
  // A 3000×2000 PNG drawn by the browser: over 2560 px, so the client re-encodes it as JPEG.
  const png = Buffer.from(
    await A.page.evaluate(async () => {
      const canvas = new OffscreenCanvas(3000, 2000);
      const ctx = canvas.getContext("2d");
      const sky = ctx.createLinearGradient(0, 0, 0, 2000);
      sky.addColorStop(0, "#ff9a5a");
      sky.addColorStop(1, "#3a1c71");
      ctx.fillStyle = sky;
      ctx.fillRect(0, 0, 3000, 2000);
      ctx.fillStyle = "#ffd25a";
      ctx.beginPath();
      ctx.arc(1500, 1250, 320, 0, Math.PI * 2);
      ctx.fill();
      const blob = await canvas.convertToBlob({ type: "image/png" });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let bin = "";
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(bin);
    }),
    "base64",
  );
  await A.page.locator(".channel .composer input[type=file]").setInputFiles({ name: "sunset.png", mimeType: "image/png", buffer: png });
  const photo = A.page.locator(".channel .tray-item", { hasText: "sunset.jpg" });
  await photo.waitFor();
  assert((await photo.locator("img.tray-preview").getAttribute("src")).startsWith("blob:"), "the tray previews the picked image");
  await photo.locator("text=Compressed from").waitFor();
  // A text file dropped onto the channel view.
  await A.page.locator("section.channel").evaluate((el) => {
    const data = new DataTransfer();
    data.items.add(new File(["Agenda\n1. Photos\n2. Dinner\n"], "agenda.txt", { type: "text/plain" }));
    for (const type of ["dragenter", "dragover", "drop"]) {
      el.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
    }
  });
  await A.page.locator('.channel .tray-item[data-status="done"]', { hasText: "agenda.txt" }).waitFor();
  await A.page.locator('.channel .tray-item[data-status="done"]', { hasText: "sunset.jpg" }).waitFor();
  await sendFromComposer(A.page, "Sunset over the bay, and tomorrow's agenda");
  await eventually(async () => (await A.page.locator(".channel .tray-item").count()) === 0, "the tray empties on send");

  // Bob sees the thumbnail live (through a signed link) and the file card.
  const msg = B.page.locator("article.msg", { hasText: "Sunset over the bay" });
  const thumb = msg.locator(".attachment-thumb img");
  await thumb.waitFor();
  assert((await thumb.getAttribute("src")).includes("/thumbnail"), "the thumbnail rendition");
  await eventually(async () => (await thumb.evaluate((img) => img.complete && img.naturalWidth)) > 0, "the thumbnail loaded");
  await msg.locator(".file-card", { hasText: "agenda.txt" }).getByRole("button", { name: "Download agenda.txt" }).waitFor();
  await msg.getByRole("button", { name: "Open sunset.jpg" }).click();
  const box = B.page.getByRole("dialog", { name: "Image: sunset.jpg" });
  const big = box.locator("img.lightbox-image");
  await big.waitFor();
  assert((await big.getAttribute("src")).includes("/preview"), "the lightbox shows the preview rendition");
  await eventually(async () => (await big.evaluate((img) => img.complete && img.naturalWidth)) > 0, "the preview loaded");
  await box.getByRole("button", { name: "Download" }).waitFor();
  await B.page.keyboard.press("Escape");
  await box.waitFor({ state: "detached" });

  // The Files panel: a new version arrives live, then Bob comments on it.
  const sent = (await alice.history(photos.id)).messages.find((m) => m.text.startsWith("Sunset over the bay"));
  assertEqual(sent.files.map((f) => f.name).sort(), ["agenda.txt", "sunset.jpg"], "the message carries both files");
  assert(sent.files.find((f) => f.name === "sunset.jpg").width <= 2560, "the photo was scaled down before upload");
  const agenda = sent.files.find((f) => f.name === "agenda.txt");
  await B.page.getByRole("button", { name: "Files", exact: true }).click();
  const panel = B.page.locator(".files-panel");
  await panel.getByRole("button", { name: "Details of agenda.txt" }).click();
  await panel.locator(".file-versions li", { hasText: "Version 1" }).waitFor();
  const res = await fetch(`${opts.base}/api/v1/files/${agenda.id}/versions?comment=${encodeURIComponent("Added the venue")}`, {
    method: "POST",
    headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/octet-stream" },
    body: "Agenda\n1. Photos\n2. Dinner at the harbour\n",
  });
  assertEqual(res.status, 201, "a new version uploaded");
  await panel.locator(".file-versions li", { hasText: "Added the venue" }).waitFor();
  await panel.locator(".file-versions li", { hasText: "Version 2" }).locator(".tag", { hasText: "Current" }).waitFor();
  await panel.getByRole("textbox", { name: "Comment on this file" }).fill("@alice thanks, looks right");
  await panel.getByRole("button", { name: "Comment", exact: true }).click();
  await panel.locator(".file-comments li", { hasText: "@alice thanks, looks right" }).waitFor();
  // Marked sensitive: the badge shows live on the message and in the panel.
  await alice.call("PATCH", `/files/${agenda.id}`, { sensitive: true });
  await msg.locator(".file-card", { hasText: "agenda.txt" }).locator(".tag-sensitive", { hasText: "Sensitive" }).waitFor();
  await panel.locator(".files-row", { hasText: "agenda.txt" }).locator(".tag-sensitive").waitFor();
  // An upload shows in Bob's panel live; removed from Alice's tray unsent, it is deleted again.
  await A.page.locator(".channel .composer input[type=file]").setInputFiles({ name: "draft.txt", mimeType: "text/plain", buffer: Buffer.from("not yet") });
  await A.page.locator('.channel .tray-item[data-status="done"]', { hasText: "draft.txt" }).waitFor();
  await panel.locator(".files-row", { hasText: "draft.txt" }).waitFor();
  await A.page.getByRole("button", { name: "Remove draft.txt" }).click();
  await panel.locator(".files-row", { hasText: "draft.txt" }).waitFor({ state: "detached" });

  await A.page.getByRole("button", { name: "Files", exact: true }).click();
  await A.page.locator(".files-panel .files-item", { hasText: "sunset.jpg" }).locator("img.files-thumb").waitFor();
  await A.page.getByRole("button", { name: "Details of agenda.txt" }).click();
  await A.page.locator(".files-panel .file-comments li", { hasText: "looks right" }).locator(".mention.mention-me", { hasText: "@alice" }).waitFor();
  await A.page.locator(".channel .attachment-thumb img").evaluate((img) => img.decode());
  await screenshot(A.page, shots, "files.png");
  await A.page.getByRole("button", { name: "Close files" }).click();
  await B.page.getByRole("button", { name: "Close files" }).click();
  await openChannel(A.page, general.id);
  await openChannel(B.page, general.id);
});

test("a reconnect resumes without gaps or duplicates", async () => {
  const before = wsUrls.length;
  blocked = true;
  for (const ws of sockets.splice(0)) await ws.close({ code: 4000, reason: "test: drop" });
  await B.page.locator(".conn-banner").waitFor();
  const sent = [];
  for (let i = 1; i <= 6; i++) sent.push((await alice.send(general.id, `While you were away ${i}`)).seq);
  await sleep(800);
  blocked = false;
  await eventually(async () => (await B.page.locator(".conn-banner").count()) === 0, "reconnected", 20_000);
  const resumed = wsUrls.slice(before).filter((u) => u.includes("since="));
  assert(resumed.length > 0, `reconnects give since= (saw ${wsUrls.slice(before).join(", ")})`);
  await B.page.locator("article.msg", { hasText: "While you were away 6" }).waitFor();
  const texts = (await visibleTexts(B.page)).filter((t) => t.startsWith("While you were away"));
  assertEqual(texts, [1, 2, 3, 4, 5, 6].map((i) => `While you were away ${i}`), "every missed message exactly once, in order");
  // Live delivery works again after the resume.
  await alice.send(general.id, "Back to live");
  await B.page.locator("article.msg", { hasText: "Back to live" }).waitFor();
  assertEqual(await B.page.locator("article.msg", { hasText: "Back to live" }).count(), 1, "live message once");
});

test("an XSS attempt renders as text", async () => {
  const payloads = [
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "<script>window.__xss = 1</script>",
    '<a href="javascript:alert(2)">click</a> <svg onload=alert(3)>',
  ];
  for (const p of payloads) await sendFromComposer(A.page, p);
  for (const page of [A.page, B.page]) {
    for (const p of payloads) await page.locator("article.msg .md", { hasText: p }).first().waitFor();
    const injected = await page.evaluate(() => ({
      img: document.querySelectorAll(".md img").length,
      script: document.querySelectorAll(".md script, #app script").length,
      svg: document.querySelectorAll(".md svg").length,
      jsLinks: [...document.querySelectorAll("a")].filter((a) => a.href.trim().toLowerCase().startsWith("javascript:")).length,
      flag: window.__xss ?? null,
    }));
    assertEqual(injected, { img: 0, script: 0, svg: 0, jsLinks: 0, flag: null }, "nothing injected");
  }
});

test("reactions, edits with history, pins, deletes", async () => {
  const msg = B.page.locator("article.msg", { hasText: "Back to live" });
  await msg.hover();
  await msg.getByRole("button", { name: "Add reaction" }).click();
  await msg.getByRole("button", { name: "🚀" }).click();
  const onAlice = A.page.locator("article.msg", { hasText: "Back to live" });
  await onAlice.locator(".reaction", { hasText: "1" }).waitFor();
  // Alice edits her own message; Bob sees the edit and its history.
  await onAlice.hover();
  await onAlice.getByRole("button", { name: "Edit" }).click();
  const editor = A.page.getByRole("textbox", { name: "Edit message" });
  await editor.fill("Back to live, edited");
  await editor.press("Enter");
  const edited = B.page.locator("article.msg", { hasText: "Back to live, edited" });
  await edited.getByRole("button", { name: "(edited)" }).click();
  const dialog = B.page.getByRole("dialog", { name: "Edit history" });
  await dialog.getByText("Version 2").waitFor();
  await dialog.getByText("Version 1").waitFor();
  await B.page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
  // Pins: the panel lists the pinned welcome message.
  await B.page.getByRole("button", { name: "Pinned messages" }).click();
  await B.page.locator("aside.panel article.msg", { hasText: "Welcome to Concord" }).waitFor();
  await B.page.keyboard.press("Escape");
  // Delete.
  const doomed = await alice.send(general.id, "A message to delete");
  const row = A.page.locator(`article.msg[data-message-id="${doomed.id}"]`);
  await row.hover();
  await row.getByRole("button", { name: "Delete" }).click();
  await A.page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await B.page.locator(`article.msg[data-message-id="${doomed.id}"]`, { hasText: "This message was deleted." }).waitFor();
});

test("@mention autocomplete from the channel members", async () => {
  const box = A.page.locator(".channel .composer textarea");
  await box.click();
  await box.fill("");
  await box.pressSequentially("Thanks @ca");
  const list = A.page.getByRole("listbox", { name: "People to mention" });
  await list.getByRole("option", { name: /Carol Li/ }).waitFor();
  await box.press("Enter");
  assertEqual(await box.inputValue(), "Thanks @carol ", "the mention is inserted");
  await box.press("Enter");
  await B.page.locator("article.msg .mention", { hasText: "@carol" }).first().waitFor();
});

test("create, browse and join channels; start a DM and a group DM", async () => {
  await A.page.getByRole("button", { name: "Create a channel" }).click();
  const dialog = A.page.getByRole("dialog", { name: "Create a channel" });
  await dialog.getByLabel("Name").fill("launch plans");
  await dialog.getByRole("button", { name: "Create" }).click();
  await A.page.locator("#channel-title", { hasText: "launch-plans" }).waitFor();
  // Bob browses and joins #random.
  await B.page.getByRole("button", { name: "Browse channels" }).click();
  await B.page.locator(".browse-item", { hasText: "random" }).getByRole("button", { name: "Join" }).click();
  await B.page.locator("#channel-title", { hasText: "random" }).waitFor();
  await B.page.locator("article.msg", { hasText: "Who is up for lunch" }).waitFor();
  // Alice starts a group DM with Bob and Carol.
  await A.page.getByRole("button", { name: "New message" }).click();
  const dm = A.page.getByRole("dialog", { name: "New message" });
  await dm.getByRole("checkbox").nth(0).check();
  await dm.getByRole("checkbox").nth(1).check();
  await dm.getByRole("button", { name: "Start conversation" }).click();
  await A.page.locator("#channel-title", { hasText: "," }).waitFor();
  await sendFromComposer(A.page, "Group chat for the launch");
  await B.page.locator("nav.sidebar a.side-item.unread", { hasText: "," }).waitFor();
});

test("keyboard: Alt+Up/Down moves between conversations", async () => {
  await openChannel(B.page, general.id);
  const before = B.page.url();
  await B.page.keyboard.press("Alt+ArrowDown");
  await eventually(async () => B.page.url() !== before, "Alt+Down changed the channel");
  await B.page.keyboard.press("Alt+ArrowUp");
  await eventually(async () => B.page.url() === before, "Alt+Up came back");
});

test("presence: the DM shows the other user online", async () => {
  const dmLink = A.page.locator(`a[data-channel-id="${dm.id}"]`);
  await dmLink.locator(".presence-dot.online").waitFor();
});

test("a channel of many messages scrolls with only the visible rows rendered", async () => {
  await openChannel(B.page, bulk.id);
  await B.page.locator("article.msg", { hasText: `Bulk message ${opts.bulk} of` }).waitFor();
  const list = B.page.locator(".channel .vlist");
  let lowest = Infinity;
  let maxRows = 0;
  for (let i = 0; i < 12; i++) {
    await list.evaluate((el) => (el.scrollTop = 0));
    await sleep(350);
    const seqs = await B.page.locator(".channel article.msg").evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
    lowest = Math.min(lowest, ...seqs);
    maxRows = Math.max(maxRows, await B.page.locator(".channel .vrow").count());
  }
  assert(lowest < opts.bulk - 600, `older pages loaded while scrolling up (oldest seen seq ${lowest})`);
  assert(maxRows < 120, `only visible rows are in the DOM (max ${maxRows})`);
  // Scrolling through what is loaded stays fast: time a sweep of 40 steps down.
  const ms = await list.evaluate(async (el) => {
    const t0 = performance.now();
    for (let i = 0; i < 40; i++) {
      el.scrollTop += el.clientHeight;
      await new Promise((r) => requestAnimationFrame(() => r(null)));
    }
    return performance.now() - t0;
  });
  assert(ms / 40 < 50, `a scroll step renders in under 50 ms on average (${(ms / 40).toFixed(1)} ms)`);
});

test("admin console: list and create users", async () => {
  await A.page.goto(`${opts.base}/admin`);
  await A.page.getByRole("heading", { name: "Admin console" }).waitFor();
  await A.page.locator("table", { hasText: "carol" }).waitFor();
  await A.page.getByLabel("Username").fill("dave");
  await A.page.getByLabel("Display name").fill("Dave Zhou");
  await A.page.getByLabel("Email").fill("dave@example.com");
  await A.page.getByLabel("Initial password").fill("another long password");
  await A.page.getByRole("button", { name: "Create user" }).click();
  await A.page.locator("table td", { hasText: "@dave" }).waitFor();
  await screenshot(A.page, shots, "admin.png");
});

test("zh-CN: the interface in Chinese, times in the chosen zone", async () => {
  const Z = await newPage(browser, "carol-zh", { locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  await Z.page.goto(`${opts.base}/`);
  await Z.page.getByRole("heading", { name: "登录 Concord" }).waitFor();
  await Z.page.locator('input[name="login"]').fill("carol");
  await Z.page.locator('input[name="password"]').fill(opts.password);
  await Z.page.getByRole("button", { name: "登录" }).click();
  await Z.page.getByRole("heading", { name: "频道" }).waitFor();
  await openChannel(Z.page, general.id);
  await Z.page.getByText("今天").first().waitFor();
  await Z.page.getByPlaceholder("发送消息到 #general").waitFor();
  assertEqual(await Z.page.evaluate(() => document.documentElement.lang), "zh-CN", "html lang");
  await scrollToStart(Z.page);
  await Z.page.getByText("这是 #general 的开始。").waitFor();
  await screenshot(Z.page, shots, "zh-CN.png");
  await Z.context.close();
});

test("phone width (360x740): the sidebar is a drawer", async () => {
  const P = await newPage(browser, "carol-phone", {
    viewport: { width: 360, height: 740 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 1,
  });
  await signIn(P.page, opts.base, "carol", opts.password);
  await P.page.goto(`${opts.base}/c/${general.id}`);
  await P.page.locator(".channel article.msg").first().waitFor();
  assert(!(await P.page.locator("nav.sidebar").isVisible()), "sidebar hidden");
  const overflow = await P.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 0, `no horizontal scrolling (${overflow}px)`);
  await scrollToStart(P.page);
  await screenshot(P.page, shots, "phone.png");
  await P.page.getByRole("button", { name: "Open navigation" }).click();
  await P.page.locator("nav.sidebar").waitFor({ state: "visible" });
  await sleep(300);
  await screenshot(P.page, shots, "phone-drawer.png");
  await P.page.locator(`a[data-channel-id="${random.id}"]`).click();
  await P.page.locator("#channel-title", { hasText: "random" }).waitFor();
  await eventually(async () => !(await P.page.locator("nav.sidebar").isVisible()), "drawer closes after picking");
  await P.context.close();
});

// ------------------------------------------------------------------ organisation

const zhangsan = await alice.call("POST", "/users", {
  username: "zhangsan",
  password: opts.password,
  display_name: "张三",
  email: "zhangsan@example.com",
});
/** Waits for toasts to fade (5 s), for tidy screenshots. */
const noToasts = (page) => eventually(async () => (await page.locator(".toast").count()) === 0, "toasts gone", 8000);
const departmentId = async (name) => (await alice.call("GET", "/departments")).find((d) => d.name === name)?.id;

test("admin console: create departments HQ > 人力资源部", async () => {
  await A.page.goto(`${opts.base}/admin/departments`);
  const form = A.page.locator("form", { has: A.page.getByRole("button", { name: "Create department" }) });
  await form.getByLabel("Department name").fill("HQ");
  await form.getByRole("button", { name: "Create department" }).click();
  await A.page.locator(".dept-row .dept-name", { hasText: "HQ" }).waitFor();
  await form.getByLabel("Department name").fill("人力资源部");
  await form.getByLabel("Parent department").selectOption({ label: "HQ" });
  await form.getByRole("button", { name: "Create department" }).click();
  await A.page.locator(".dept-row .dept-name", { hasText: "人力资源部" }).waitFor();
  const hr = await departmentId("人力资源部");
  const hq = await departmentId("HQ");
  assert(hr && hq, "both departments exist");
  const all = await alice.call("GET", "/departments");
  assertEqual(all.find((d) => d.id === hr).parent_id, hq, "人力资源部 is under HQ");
  // 张三 joins HR (seeded over REST, as a directory sync would).
  await alice.call("PATCH", `/users/${zhangsan.id}`, {
    primary_department_id: hr,
    title: "招聘专员",
    employee_no: "E1001",
    time_zone: "Asia/Shanghai",
    phone: "+86 21 5555 0100",
    manager_id: ids.alice,
    project_tags: ["hiring"],
  });
});

test("directory: the tree, a pinyin search and a profile with the path and local time", async () => {
  await A.page.locator("nav.sidebar").getByRole("link", { name: "Directory" }).click();
  await A.page.waitForURL("**/directory");
  const hrRow = A.page.locator(".dir-tree .tree-row", { hasText: "人力资源部" });
  await hrRow.waitFor();
  assertEqual((await hrRow.locator(".tree-count").innerText()).trim(), "1", "HR counts its member");
  await A.page.getByPlaceholder("Search people by name, employee number or pinyin").fill("zs");
  const hit = A.page.locator(".person-list .person-row", { hasText: "张三" });
  await hit.waitFor();
  await hit.click();
  await A.page.waitForURL(`**/directory/people/${zhangsan.id}`);
  const profile = A.page.locator(".dir-profile .profile");
  await profile.getByRole("heading", { name: "张三" }).waitFor();
  await eventually(
    async () => JSON.stringify(await profile.locator(".crumbs li").allInnerTexts()) === JSON.stringify(["HQ", "人力资源部"]),
    "department path HQ › 人力资源部",
  );
  const local = await profile.locator(".profile-local-time").innerText();
  assert(/\d{1,2}:\d{2}/.test(local) && local.includes("Asia/Shanghai"), `local time shown (${local})`);
  await profile.getByText("招聘专员").waitFor();
  await profile.getByRole("button", { name: "Alice Chen" }).waitFor();
  await noToasts(A.page);
  await screenshot(A.page, shots, "directory.png");
  // A sender's name in a channel opens their profile beside it.
  await openChannel(A.page, general.id);
  await A.page.locator("article.msg .msg-author", { hasText: "Bob Wang" }).first().click();
  await A.page.locator(".profile-panel .profile").getByRole("heading", { name: "Bob Wang" }).waitFor();
  await A.page.keyboard.press("Escape");
  await A.page.locator(".profile-panel").waitFor({ state: "detached" });
});

test("admin console: a custom permission, a role, and assigning it", async () => {
  const hr = await departmentId("人力资源部");
  await A.page.goto(`${opts.base}/admin/roles`);
  const register = A.page.locator("form", { has: A.page.getByRole("heading", { name: "Register a permission" }) });
  await register.getByLabel("Permission name").fill("resume_library.read");
  await register.getByLabel("Description").fill("Read the résumé library");
  await register.getByRole("button", { name: "Register" }).click();
  await A.page.locator(".toast", { hasText: "resume_library.read" }).waitFor();
  await A.page.getByRole("button", { name: "New role" }).click();
  const editor = A.page.locator("form", { has: A.page.getByRole("heading", { name: "Create a role" }) });
  await editor.getByLabel("Role name").fill("招聘组");
  await editor.getByLabel("Description").fill("Recruiters");
  await editor.locator('input[type="checkbox"][value="resume_library.read"]').check();
  await editor.locator('input[type="checkbox"][value="directory.read"]').check();
  await editor.getByRole("button", { name: "Create role" }).click();
  const role = A.page.locator(".role-item", { hasText: "招聘组" });
  await role.locator(".perm-tag", { hasText: "resume_library.read" }).waitFor();
  const assign = A.page.locator("form", { has: A.page.getByRole("heading", { name: "Assign a role" }) });
  await assign.locator('select[name="assign-role"]').selectOption({ label: "招聘组" });
  await assign.getByLabel("Person", { exact: true }).fill("zs");
  await assign.getByRole("button", { name: /张三/ }).click();
  await assign.locator('select[name="scope"]').selectOption(String(hr));
  await assign.getByRole("button", { name: "Assign", exact: true }).click();
  const row = A.page.locator("table tr", { hasText: "招聘组" });
  await row.filter({ hasText: "张三" }).filter({ hasText: "人力资源部" }).waitFor();
  const grants = await alice.call("GET", `/role-assignments?user_id=${zhangsan.id}`);
  assert(grants.some((g) => g.scope_department_id === hr), "the server has the scoped assignment");
  // Scroll the page body (not the window) so the new role and the assignments are in view.
  await role.evaluate((el) => {
    const body = el.closest(".page-body");
    body.scrollTop += el.getBoundingClientRect().top - body.getBoundingClientRect().top - 220;
  });
  await noToasts(A.page);
  await screenshot(A.page, shots, "admin-roles.png");
});

test("channel settings: preview a membership rule", async () => {
  const hr = await departmentId("人力资源部");
  await openChannel(A.page, design.id);
  await A.page.getByRole("button", { name: "Channel settings" }).click();
  const dialog = A.page.getByRole("dialog", { name: "Settings for #design" });
  const rule = dialog.locator('textarea[name="membership-rule"]');
  await eventually(async () => await rule.isEnabled(), "rule loaded");
  await rule.fill("{not json");
  await dialog.getByRole("button", { name: "Preview" }).click();
  await dialog.locator(".form-error", { hasText: "Not valid JSON" }).waitFor();
  await rule.fill(JSON.stringify({ department: hr }));
  await dialog.getByRole("button", { name: "Preview" }).click();
  await dialog.locator(".preview-group.join", { hasText: "张三" }).waitFor();
  await A.page.keyboard.press("Escape");
  await dialog.waitFor({ state: "detached" });
});

test("audit log viewer: newest first, filtered by action", async () => {
  await A.page.goto(`${opts.base}/admin/audit`);
  const table = A.page.locator("table.audit-table");
  await table.locator(".audit-action", { hasText: "role.assign" }).first().waitFor();
  const actions = await table.locator(".audit-action").allInnerTexts();
  for (const a of ["role.assign", "role.create", "department.create", "user.update"]) {
    assert(actions.includes(a), `the log has ${a} (${actions.join(", ")})`);
  }
  assert(actions.indexOf("role.assign") < actions.indexOf("role.create"), "newest first");
  const ids = await table.locator("tbody tr").evaluateAll((rows) => rows.map((r) => Number(r.dataset.auditId)));
  assertEqual(ids, [...ids].sort((a, b) => b - a), "ids descend");
  await table.locator("tr", { hasText: "department.create" }).first().locator(".diff ins").first().waitFor();
  await screenshot(A.page, shots, "audit.png");
  await A.page.getByLabel("Action", { exact: true }).fill("role");
  await A.page.getByRole("button", { name: "Apply filters" }).click();
  await eventually(async () => {
    const shown = await table.locator(".audit-action").allInnerTexts();
    return shown.length > 0 && shown.every((a) => a.startsWith("role."));
  }, "only role.* entries");
});

test("a guest sees no directory", async () => {
  await alice.call("POST", "/users", { username: "visitor", password: opts.password, display_name: "Visiting Vendor", guest: true });
  const G = await newPage(browser, "guest");
  await signIn(G.page, opts.base, "visitor", opts.password);
  await G.page.getByRole("heading", { name: "Channels" }).waitFor();
  await sleep(500);
  assertEqual(await G.page.locator("nav.sidebar").getByRole("link", { name: "Directory" }).count(), 0, "no Directory link");
  await G.page.goto(`${opts.base}/directory`);
  await G.page.getByText("The directory is for members of the organisation").waitFor();
  await G.context.close();
});

test("message search: Chinese and English, highlights, no results, open a hit", async () => {
  const zh = "企业级即时通讯工具上线";
  const enText = "The enterprise messenger goes live on Monday";
  await openChannel(A.page, design.id);
  await sendFromComposer(A.page, zh);
  await sendFromComposer(A.page, enText);
  await A.page.locator("article.msg", { hasText: enText }).waitFor();
  // Searchable once the indexer has caught up (normally within a second).
  await eventually(async () => (await alice.call("GET", `/search?q=${encodeURIComponent("即时通讯")}`)).total > 0, "indexed");
  await openChannel(A.page, general.id);

  // Ctrl+K focuses the header box; Enter opens the results.
  await A.page.locator(".channel .vlist").click();
  await A.page.keyboard.press("Control+k");
  const box = A.page.getByRole("searchbox", { name: "Search messages" });
  await eventually(async () => await box.evaluate((el) => el === document.activeElement), "Ctrl+K focuses the search box");
  await box.fill("即时通讯");
  await box.press("Enter");
  await A.page.waitForURL(/\/search\?q=/);
  const hit = A.page.locator(".search-hit", { hasText: "工具上线" });
  await hit.waitFor();
  const marks = await hit.locator(".snippet mark").allInnerTexts();
  assertEqual(marks.join(""), "即时通讯", "the matched text is marked");
  assertEqual(await A.page.locator(".search-hit", { hasText: "enterprise messenger" }).count(), 0, "the English message does not match");
  assert((await A.page.locator(".search-count").innerText()).includes("1 result"), "one result");
  await screenshot(A.page, shots, "search.png");

  // English by stem, with a filter.
  await A.page.locator(`.search-filters select[name="channel"]`).selectOption({ label: "#design" });
  await box.fill("messengers");
  await box.press("Enter");
  await A.page.locator(".search-hit .snippet mark", { hasText: "messenger" }).waitFor();

  // No results: the empty state.
  await A.page.locator(`.search-filters select[name="channel"]`).selectOption({ label: "All channels" });
  await box.fill("药");
  await box.press("Enter");
  await A.page.getByText("No messages match “药”.").waitFor();
  assertEqual(await A.page.locator(".search-hit").count(), 0, "no hits");

  // "/" focuses the box too; a hit opens the channel at the message.
  await A.page.locator("#page-title").click();
  await A.page.keyboard.press("/");
  await eventually(async () => await box.evaluate((el) => el === document.activeElement), "/ focuses the search box");
  await box.fill("即时通讯");
  await box.press("Enter");
  await A.page.locator(".search-hit", { hasText: "工具上线" }).click();
  await A.page.waitForURL(`**/c/${design.id}`);
  await A.page.locator("article.msg.highlight", { hasText: zh }).waitFor();

  // A hit far back in a long channel: older pages load until it is there.
  const n = Math.max(1, opts.bulk - 700);
  const target = `Bulk message ${n} of ${opts.bulk}`;
  await box.fill(`"${target}"`);
  await box.press("Enter");
  const far = A.page.locator(".search-hit", { hasText: new RegExp(`Bulk message ${n} of`) }).first();
  await far.waitFor();
  await far.click();
  await A.page.waitForURL(`**/c/${bulk.id}`);
  const shown = A.page.locator("article.msg.highlight", { hasText: target });
  await shown.waitFor();
  await eventually(async () => {
    const [list, row] = await Promise.all([A.page.locator(".channel .vlist").boundingBox(), shown.boundingBox()]);
    return !!list && !!row && row.y >= list.y && row.y + row.height <= list.y + list.height;
  }, "the hit is scrolled into view");
});

test("no console errors, page errors or dialogs", async () => {
  assertEqual(problems, [], "problems seen in the browsers");
});

const ok = await runAll(async () => {
  await A.context.close();
  await B.context.close();
  await browser.close();
});
process.exit(ok ? 0 : 1);
