// The compliance export form: ids, the time range and the archive's name.

import { describe, expect, it } from "vitest";
import { EMPTY_EXPORT_FORM, exportFileName, exportRequest, parseIds } from "./exports";

describe("export ids", () => {
  it("reads ids separated by commas (ASCII or full-width) and spaces, once each", () => {
    expect(parseIds("9, 12 9，7")).toEqual([9, 12, 7]);
    expect(parseIds("  ")).toEqual([]);
    expect(parseIds("9, x")).toBeNull();
    expect(parseIds("0")).toBeNull();
    expect(parseIds("-3")).toBeNull();
    expect(parseIds("2.5")).toBeNull();
  });
});

describe("export request", () => {
  it("needs a channel or a person", () => {
    expect(exportRequest(EMPTY_EXPORT_FORM)).toBe("export.noCriteria");
    expect(exportRequest({ ...EMPTY_EXPORT_FORM, channelIds: "a" })).toBe("export.badIds");
    const many = Array.from({ length: 501 }, (_, i) => i + 1).join(",");
    expect(exportRequest({ ...EMPTY_EXPORT_FORM, userIds: many })).toBe("export.tooMany");
  });

  it("builds the request with the range as instants, from before to", () => {
    const req = exportRequest({
      channelIds: "9",
      userIds: "7",
      from: "2026-01-01T00:00",
      to: "2026-04-01T00:00",
      includeFiles: true,
    });
    expect(req).toEqual({
      channel_ids: [9],
      user_ids: [7],
      include_files: true,
      from: new Date("2026-01-01T00:00").toISOString(),
      to: new Date("2026-04-01T00:00").toISOString(),
    });
    expect(exportRequest({ ...EMPTY_EXPORT_FORM, channelIds: "9" })).toEqual({ channel_ids: [9], user_ids: [], include_files: false });
    expect(exportRequest({ ...EMPTY_EXPORT_FORM, channelIds: "9", from: "2026-04-01T00:00", to: "2026-01-01T00:00" })).toBe(
      "export.badRange",
    );
    expect(exportRequest({ ...EMPTY_EXPORT_FORM, channelIds: "9", from: "2026-04-01T00:00", to: "2026-04-01T00:00" })).toBe(
      "export.badRange",
    );
    expect(exportRequest({ ...EMPTY_EXPORT_FORM, channelIds: "9", to: "not a time" })).toBe("export.badTime");
  });

  it("names the archive by the time in UTC", () => {
    expect(exportFileName(new Date("2026-11-25T09:30:05.123Z"))).toBe("concord-export-20261125T093005Z.zip");
    expect(exportFileName(new Date("2026-11-25T09:30:05Z"), "personal")).toBe("concord-my-data-20261125T093005Z.zip");
  });
});
