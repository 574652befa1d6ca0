// The service worker: keeps the app shell (index.html, the hashed bundles, the manifest and
// icons) so the installed app opens without a network. It never caches or answers API
// requests (/api/..., the WebSocket, SCIM, metrics): those always go to the server as usual.

const SHELL_CACHE = "concord-shell-v1";
/** Hashed bundles kept at most; older ones (from earlier versions) are dropped first. */
const MAX_ASSETS = 80;
const PRECACHE = ["/", "/manifest.webmanifest", "/icons/icon.svg", "/icons/icon-192.png"];

/** Paths the app does not own: never cached, never answered from a cache. */
function isServerPath(pathname) {
  return (
    pathname === "/api" ||
    pathname.startsWith("/api/") ||
    pathname.startsWith("/scim/") ||
    pathname === "/healthz" ||
    pathname === "/readyz" ||
    pathname === "/metrics"
  );
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("concord-") && n !== SHELL_CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

async function keepAsset(request, response) {
  const cache = await caches.open(SHELL_CACHE);
  await cache.put(request, response);
  const assets = (await cache.keys()).filter((r) => new URL(r.url).pathname.startsWith("/assets/"));
  for (const old of assets.slice(0, Math.max(0, assets.length - MAX_ASSETS))) await cache.delete(old);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || isServerPath(url.pathname)) return;

  if (request.mode === "navigate") {
    // The network first, so a new version shows at once; the cached shell when offline.
    event.respondWith(
      fetch(request).then(
        (response) => {
          if (response.ok) {
            const copy = response.clone();
            event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.put("/", copy)));
          }
          return response;
        },
        () => caches.match("/").then((cached) => cached ?? Response.error()),
      ),
    );
    return;
  }

  if (url.pathname.startsWith("/assets/")) {
    // Hashed names never change content: the cache first.
    event.respondWith(
      caches.match(request).then(
        (cached) =>
          cached ??
          fetch(request).then((response) => {
            if (response.ok) event.waitUntil(keepAsset(request, response.clone()));
            return response;
          }),
      ),
    );
    return;
  }

  if (PRECACHE.includes(url.pathname)) {
    // The manifest and icons: fresh when online, cached when not.
    event.respondWith(fetch(request).catch(() => caches.match(request).then((cached) => cached ?? Response.error())));
  }
});
