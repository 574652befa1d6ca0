// Client-side routes. The server answers every non-API path with index.html, so these URLs can
// be bookmarked and reloaded.

import { createStore } from "./store";

export type AdminTab = "users" | "people" | "departments" | "roles" | "retention" | "exports" | "audit" | "apps";
const ADMIN_TABS: readonly string[] = ["users", "people", "departments", "roles", "retention", "exports", "audit", "apps"];

export type Route =
  | { name: "home" }
  | { name: "channel"; channelId: number }
  | { name: "browse" }
  | { name: "settings" }
  | { name: "directory"; userId?: number }
  | { name: "admin"; tab?: AdminTab }
  | { name: "search"; q: string };

/** A path, optionally with its query string (`/search?q=...`). */
export function parseRoute(full: string): Route {
  const qi = full.indexOf("?");
  const path = qi < 0 ? full : full.slice(0, qi);
  if (path === "/search") return { name: "search", q: new URLSearchParams(qi < 0 ? "" : full.slice(qi)).get("q") ?? "" };
  const m = /^\/c\/(\d+)\/?$/.exec(path);
  if (m) return { name: "channel", channelId: Number(m[1]) };
  if (path === "/browse") return { name: "browse" };
  if (path === "/settings") return { name: "settings" };
  if (path === "/directory") return { name: "directory" };
  const d = /^\/directory\/people\/(\d+)\/?$/.exec(path);
  if (d) return { name: "directory", userId: Number(d[1]) };
  if (path === "/admin") return { name: "admin" };
  const a = /^\/admin\/([a-z]+)\/?$/.exec(path);
  if (a && ADMIN_TABS.includes(a[1]!)) return { name: "admin", tab: a[1] as AdminTab };
  return { name: "home" };
}

export function routePath(r: Route): string {
  switch (r.name) {
    case "home":
      return "/";
    case "channel":
      return `/c/${r.channelId}`;
    case "directory":
      return r.userId !== undefined ? `/directory/people/${r.userId}` : "/directory";
    case "admin":
      return r.tab ? `/admin/${r.tab}` : "/admin";
    case "search":
      return r.q ? `/search?q=${encodeURIComponent(r.q)}` : "/search";
    default:
      return `/${r.name}`;
  }
}

export const route = createStore<Route>(
  typeof location === "undefined" ? { name: "home" } : parseRoute(location.pathname + location.search),
);

export function navigate(r: Route, replace = false): void {
  const path = routePath(r);
  if (typeof history !== "undefined" && location.pathname + location.search !== path) {
    if (replace) history.replaceState(null, "", path);
    else history.pushState(null, "", path);
  }
  route.set(r);
}

if (typeof window !== "undefined") {
  window.addEventListener("popstate", () => route.set(parseRoute(location.pathname + location.search)));
}
