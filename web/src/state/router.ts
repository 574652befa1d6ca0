// Client-side routes. The server answers every non-API path with index.html, so these URLs can
// be bookmarked and reloaded.

import { createStore } from "./store";

export type Route =
  | { name: "home" }
  | { name: "channel"; channelId: number }
  | { name: "browse" }
  | { name: "settings" }
  | { name: "admin" };

export function parseRoute(path: string): Route {
  const m = /^\/c\/(\d+)\/?$/.exec(path);
  if (m) return { name: "channel", channelId: Number(m[1]) };
  if (path === "/browse") return { name: "browse" };
  if (path === "/settings") return { name: "settings" };
  if (path === "/admin") return { name: "admin" };
  return { name: "home" };
}

export function routePath(r: Route): string {
  switch (r.name) {
    case "home":
      return "/";
    case "channel":
      return `/c/${r.channelId}`;
    default:
      return `/${r.name}`;
  }
}

export const route = createStore<Route>(
  typeof location === "undefined" ? { name: "home" } : parseRoute(location.pathname),
);

export function navigate(r: Route, replace = false): void {
  const path = routePath(r);
  if (typeof history !== "undefined" && location.pathname !== path) {
    if (replace) history.replaceState(null, "", path);
    else history.pushState(null, "", path);
  }
  route.set(r);
}

if (typeof window !== "undefined") {
  window.addEventListener("popstate", () => route.set(parseRoute(location.pathname)));
}
