// End-to-end test of the org watermark in headless Chromium, against a server started with
// `[web] watermark = true` and one user (display name with markup in it):
//
//   CONCORD_TEST_CHROMIUM=/usr/bin/chromium node e2e/watermark.mjs \
//     --base http://127.0.0.1:8080 --user dana --password '...'
//
// The chat view and the thread panel carry a tiled image of the viewer's name and id that takes
// no clicks; renaming oneself redraws it; other screens have none. Saves
// docs/screenshots/watermark.png (after the rename to a plain name). (run.mjs checks that it is off by default.)

import { Api, assert, assertEqual, eventually, launch, newPage, openChannel, options, problems, runAll, screenshot, sleep, test } from "./harness.mjs";

const opts = options();
const browser = await launch(opts.chromium);
const dana = await Api.login(opts.base, opts.user, opts.password);
const channel = await dana.channel("incidents", "public", [], "Post-mortems, in confidence");
const root = await dana.send(channel.id, "Timeline of Tuesday's outage is in the doc; please keep it internal.");
await dana.send(channel.id, "Root cause: an expired certificate on the edge proxy.", root.id);
await dana.send(channel.id, "Action items: alerting on certificate expiry, a runbook, and a game day.");

const { context, page } = await newPage(browser, "dana");

/** The text drawn by the watermark over `selector`: the SVG in its ::after background. */
async function watermarkText(selector) {
  return page.locator(selector).evaluate((el) => {
    const style = getComputedStyle(el, "::after");
    const m = /url\("data:image\/svg\+xml,(.*)"\)/.exec(style.backgroundImage);
    if (!m) return null;
    const svg = new DOMParser().parseFromString(decodeURIComponent(m[1]), "image/svg+xml");
    if (svg.querySelector("parsererror")) return "parse error";
    return {
      lines: [...svg.querySelectorAll("tspan")].map((t) => t.textContent),
      elements: [...svg.querySelectorAll("*")].map((e) => e.localName),
      pointerEvents: style.pointerEvents,
      userSelect: style.userSelect,
    };
  });
}

test("the chat view carries the viewer's name and id, and takes no clicks", async () => {
  await page.goto(`${opts.base}/`);
  await page.locator('input[name="login"]').fill(opts.user);
  await page.locator('input[name="password"]').fill(opts.password);
  await page.locator('button[type="submit"]').click();
  await openChannel(page, channel.id);
  await page.locator(".shell.watermarked").waitFor();
  const mark = await watermarkText(".main");
  assert(mark && typeof mark === "object", `a watermark image over the view: ${JSON.stringify(mark)}`);
  assertEqual(mark.lines, [dana.user.display_name, `@${dana.user.username} · #${dana.user.id}`], "name, username and id");
  // The markup in the display name stayed text.
  assertEqual(mark.elements, ["svg", "text", "tspan", "tspan"], "no elements from the name");
  assertEqual(mark.pointerEvents, "none", "clicks go through");
  assertEqual(mark.userSelect, "none", "not selectable");
  // Clicks reach what is under it: the message list scrolls and the composer takes text.
  const box = page.locator(".channel .composer textarea");
  await box.click();
  await box.pressSequentially("still typable", { delay: 10 });
  assertEqual(await box.inputValue(), "still typable", "the composer takes input under the watermark");
  await box.fill("");
});

test("the thread panel carries it too", async () => {
  await page.getByRole("button", { name: "1 reply" }).click();
  await page.locator(".thread-panel article.msg", { hasText: "expired certificate" }).waitFor();
  const mark = await watermarkText(".thread-panel");
  assert(mark && typeof mark === "object", "a watermark image over the thread");
  assert(mark.lines.includes(`@${dana.user.username} · #${dana.user.id}`), "the thread shows the id");
  await page.keyboard.press("Escape");
});

test("renaming oneself redraws it; screens outside the chat have none", async () => {
  await page.goto(`${opts.base}/settings`);
  assertEqual(await page.locator(".shell.watermarked").count(), 0, "no watermark on the settings page");
  const name = page.locator('input[name="display_name"]');
  await name.fill("Dana Xu");
  await page.locator('form[aria-labelledby="settings-profile"] button[type="submit"]').click();
  await eventually(async () => (await page.locator('form[aria-labelledby="settings-profile"] button[type="submit"]').isDisabled()), "profile saved");
  await page.goBack();
  await page.locator(`a[data-channel-id="${channel.id}"]`).click();
  await page.locator(".shell.watermarked").waitFor();
  await sleep(100);
  const mark = await watermarkText(".main");
  assertEqual(mark.lines[0], "Dana Xu", "the new name is drawn");
  // For the docs: the view and a thread under the watermark.
  await page.getByRole("button", { name: "1 reply" }).click();
  await page.locator(".thread-panel article.msg", { hasText: "expired certificate" }).waitFor();
  await screenshot(page, opts.screenshots, "watermark.png");
  await page.keyboard.press("Escape");
});

test("no console errors, page errors or dialogs", async () => {
  assertEqual(problems, [], "problems seen in the browser");
});

const ok = await runAll(async () => {
  await context.close();
  await browser.close();
});
process.exit(ok ? 0 : 1);
