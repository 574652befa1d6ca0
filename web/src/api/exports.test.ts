// The export downloads in the API client: what is sent, the archive handed back as a Blob,
// and a refusal read as the server's JSON error like any other request's.

import { describe, expect, it } from "vitest";
import { ApiClient, ApiError } from "./client";

function client(respond: (url: string, init: RequestInit) => Response) {
  const calls: { url: string; init: RequestInit }[] = [];
  const api = new ApiClient({
    getToken: () => "tok",
    fetchImpl: async (input, init) => {
      calls.push({ url: String(input), init: init! });
      return respond(String(input), init!);
    },
  });
  return { api, calls };
}

describe("export downloads", () => {
  it("posts the criteria and answers the archive", async () => {
    const zip = new Uint8Array([0x50, 0x4b, 3, 4]);
    const { api, calls } = client(() => new Response(zip, { status: 200, headers: { "content-type": "application/zip" } }));
    const blob = await api.complianceExport({ channel_ids: [9], user_ids: [], include_files: true });
    expect(new Uint8Array(await blob.arrayBuffer())).toEqual(zip);
    expect(calls[0]!.url).toBe("/api/v1/compliance/exports");
    expect(calls[0]!.init.method).toBe("POST");
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual({ channel_ids: [9], user_ids: [], include_files: true });
    expect((calls[0]!.init.headers as Record<string, string>).authorization).toBe("Bearer tok");
  });

  it("reads a refusal as the server's error", async () => {
    const { api } = client(
      () =>
        new Response(JSON.stringify({ error: { code: "missing_permission", message: "you need compliance.export" } }), {
          status: 403,
          headers: { "content-type": "application/json" },
        }),
    );
    const err = await api.complianceExport({ channel_ids: [9], user_ids: [], include_files: false }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(403);
    expect(err.code).toBe("missing_permission");
    expect(err.message).toBe("you need compliance.export");
  });

  it("fetches the caller's own data", async () => {
    const { api, calls } = client(() => new Response(new Uint8Array([1]), { status: 200 }));
    await api.myExport();
    expect(calls[0]!.url).toBe("/api/v1/users/me/export");
    expect(calls[0]!.init.method).toBe("GET");
    expect(calls[0]!.init.body).toBeNull();
  });
});
