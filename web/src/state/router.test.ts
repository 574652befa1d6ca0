// Routes round-trip through their paths, including the directory and admin sections.

import { describe, expect, it } from "vitest";
import { parseRoute, routePath, type Route } from "./router";

describe("routes", () => {
  it("round-trip", () => {
    const routes: Route[] = [
      { name: "home" },
      { name: "channel", channelId: 12 },
      { name: "browse" },
      { name: "settings" },
      { name: "directory" },
      { name: "directory", userId: 5 },
      { name: "admin" },
      { name: "admin", tab: "roles" },
      { name: "admin", tab: "audit" },
      { name: "admin", tab: "apps" },
      { name: "search", q: "" },
      { name: "search", q: "即时通讯 & \"go live\"" },
    ];
    for (const r of routes) expect(parseRoute(routePath(r))).toEqual(r);
  });

  it("send unknown paths home", () => {
    expect(parseRoute("/admin/nope")).toEqual({ name: "home" });
    expect(parseRoute("/directory/people/x")).toEqual({ name: "home" });
  });
});
