import { describe, expect, it } from "vitest";
import { filtersFromParams, filtersToParams, localToDate } from "./filters";

describe("audit filters", () => {
  it("round-trips through the URL and drops empty values", () => {
    const f = filtersFromParams(
      new URLSearchParams("actor=a%40x.io&action=user.create&target=&from=2026-11-26T10:00&junk=1"),
    );
    expect(f).toEqual({ actor: "a@x.io", action: "user.create", from: "2026-11-26T10:00" });
    expect(filtersToParams(f).toString()).toBe("actor=a%40x.io&action=user.create&from=2026-11-26T10%3A00");
  });
  it("ignores invalid times", () => {
    expect(localToDate("not a time")).toBeUndefined();
    expect(localToDate("")).toBeUndefined();
    expect(localToDate("2026-11-26T10:00")?.getFullYear()).toBe(2026);
  });
});
