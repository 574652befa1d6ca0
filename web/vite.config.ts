// Vite builds the single-page app; vitest reads the same file for the unit tests.
// `npm run dev` proxies the API to a running server (CONCORD_DEV_API, default :8080).
import { defineConfig } from "vitest/config";

const api = process.env.CONCORD_DEV_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  esbuild: {
    jsx: "automatic",
    jsxImportSource: "preact",
  },
  build: {
    target: "es2022",
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 200,
  },
  server: {
    proxy: {
      "/api": { target: api, ws: true },
    },
  },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    environment: "node",
  },
});
