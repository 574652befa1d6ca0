// Prints the gzipped size of the initial JavaScript (the entry chunk index.html loads, plus any
// chunks it preloads) and CSS of a build. Usage: npm run build && npm run size [-- dist-dir]
import { readFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";

const dir = path.resolve(process.argv[2] ?? "dist");
const html = await readFile(path.join(dir, "index.html"), "utf8");
const refs = (re) => [...html.matchAll(re)].map((m) => m[1]);
const scripts = [...refs(/<script[^>]+src="([^"]+)"/g), ...refs(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g)];
const styles = refs(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g);

const BUDGET = 150 * 1024;
async function report(kind, files) {
  let raw = 0;
  let gz = 0;
  for (const f of files) {
    const data = await readFile(path.join(dir, f.replace(/^\//, "")));
    const z = gzipSync(data, { level: 9 }).length;
    raw += data.length;
    gz += z;
    console.log(`${kind} ${f}: ${(data.length / 1024).toFixed(1)} KB, ${(z / 1024).toFixed(1)} KB gzipped`);
  }
  return { raw, gz };
}
const js = await report("js ", scripts);
await report("css", styles);
console.log(`initial JavaScript: ${(js.gz / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB)`);
if (js.gz > BUDGET) {
  console.error("over budget");
  process.exit(1);
}
