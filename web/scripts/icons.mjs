// Renders the PWA's PNG icons from the SVG sources with headless Chromium (playwright-core).
// Run after changing public/icons/*.svg:
//   CONCORD_TEST_CHROMIUM=/usr/bin/chromium node scripts/icons.mjs
import { chromium } from "playwright-core";
import { readFile, writeFile } from "node:fs/promises";

const executablePath = process.env.CONCORD_TEST_CHROMIUM ?? "/usr/bin/chromium";
const browser = await chromium.launch({
  executablePath,
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
const jobs = [
  ["public/icons/icon.svg", "public/icons/icon-192.png", 192],
  ["public/icons/icon.svg", "public/icons/icon-512.png", 512],
  ["public/icons/maskable.svg", "public/icons/maskable-512.png", 512],
];
for (const [src, out, size] of jobs) {
  const svg = await readFile(src, "utf8");
  const page = await browser.newPage({ viewport: { width: size, height: size } });
  await page.setContent(
    `<html><body style="margin:0;background:transparent">${svg.replace("<svg ", `<svg width="${size}" height="${size}" `)}</body></html>`,
  );
  await writeFile(out, await page.screenshot({ omitBackground: true }));
  await page.close();
  console.log(`${out} (${size}x${size})`);
}
await browser.close();
