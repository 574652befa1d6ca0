// The Apps admin section: the install form's rules (username suggested from the name until
// edited, the server's username rule, at least one scope), the request it sends, scope order
// and labels in both languages, and the token shown once.

import { describe, expect, it } from "vitest";
import { renderToString } from "preact-render-to-string";
import type { AppWithToken } from "../api/types";
import { translate } from "../i18n";
import { EMPTY_INSTALL, installProblem, installRequest, scopeDescription, sortScopes, suggestUsername, withName, withScope } from "./apps";
import { ScopeChecklist, TokenOnce } from "../components/AdminApps";

describe("install form", () => {
  it("suggests a bot username from the name until the admin edits it", () => {
    expect(suggestUsername("Logistics Dispatch")).toBe("logistics-dispatch-bot");
    expect(suggestUsername("  ERP 报表 v2! ")).toBe("erp-v2-bot");
    expect(suggestUsername("报表助手")).toBe("");
    expect(suggestUsername("x".repeat(60))).toBe("x".repeat(28) + "-bot");
    let f = withName(EMPTY_INSTALL, "Dispatch");
    expect(f.username).toBe("dispatch-bot");
    f = { ...f, username: "dispatcher", usernameEdited: true };
    expect(withName(f, "Dispatch 2").username).toBe("dispatcher");
  });

  it("names the first problem, as the server would", () => {
    const ok = withScope(withName(EMPTY_INSTALL, "Dispatch"), "messages:write", true);
    expect(installProblem(ok)).toBeNull();
    expect(installProblem({ ...ok, name: "   " })).toBe("apps.needName");
    expect(installProblem({ ...ok, name: "n".repeat(65) })).toBe("apps.nameTooLong");
    expect(installProblem({ ...ok, username: "has space" })).toBe("apps.badUsername");
    expect(installProblem({ ...ok, username: "-bot" })).toBe("apps.badUsername");
    expect(installProblem({ ...ok, username: "here" })).toBe("apps.badUsername");
    expect(installProblem({ ...ok, username: "b".repeat(33) })).toBe("apps.badUsername");
    expect(installProblem({ ...ok, description: "d".repeat(501) })).toBe("apps.descriptionTooLong");
    expect(installProblem(withScope(ok, "messages:write", false))).toBe("apps.needScope");
  });

  it("sends trimmed fields and each scope once, sorted", () => {
    let f = withName(EMPTY_INSTALL, "  Dispatch ");
    f = withScope(withScope(withScope(f, "messages:write", true), "channels:read", true), "messages:write", true);
    expect(f.scopes).toEqual(["channels:read", "messages:write"]);
    expect(installRequest({ ...f, username: " Dispatch-Bot ", description: " orders \n" })).toEqual({
      name: "Dispatch",
      username: "dispatch-bot",
      description: "orders",
      scopes: ["channels:read", "messages:write"],
    });
  });
});

describe("scopes", () => {
  const catalogue = [
    { name: "messages:write", description: "w" },
    { name: "permissions:check", description: "c" },
    { name: "channels:read", description: "r" },
    { name: "future:thing", description: "Server text" },
  ];

  it("lists reads before writes and translates the known ones", () => {
    expect(sortScopes(catalogue).map((s) => s.name)).toEqual(["channels:read", "permissions:check", "future:thing", "messages:write"]);
    const zh = (k: Parameters<typeof translate>[1]) => translate("zh-CN", k);
    expect(scopeDescription(catalogue[0]!, zh)).toBe(translate("zh-CN", "apps.scope.messagesWrite"));
    expect(scopeDescription(catalogue[3]!, zh)).toBe("Server text");
  });

  it("renders a checkbox per scope, checked when chosen", () => {
    const html = renderToString(<ScopeChecklist scopes={catalogue} chosen={["channels:read"]} onToggle={() => undefined} />);
    expect(html.match(/type="checkbox"/g)?.length).toBe(4);
    expect(html).toMatch(/value="channels:read" checked/);
    expect(html).not.toMatch(/value="messages:write" checked/);
  });
});

describe("the token shown once", () => {
  it("shows the token and says it will not be shown again", () => {
    const result: AppWithToken = {
      token: "ccb_0123abcd",
      app: {
        id: 1,
        name: "Dispatch",
        description: "",
        scopes: ["messages:write"],
        bot_user: { id: 9, username: "dispatch-bot", display_name: "Dispatch", email: null, is_admin: false, is_bot: true, created_at: "2026-11-25T00:00:00Z" },
        installed_by: 1,
        installed_at: "2026-11-25T00:00:00Z",
        token_issued_at: "2026-11-25T00:00:00Z",
      },
    };
    const html = renderToString(<TokenOnce result={result} onDone={() => undefined} />);
    expect(html).toContain('value="ccb_0123abcd"');
    expect(html).toContain("readonly");
    expect(html).toContain(translate("en", "apps.tokenTitle", { name: "Dispatch" }));
    expect(html).toContain("shown only once");
  });
});
