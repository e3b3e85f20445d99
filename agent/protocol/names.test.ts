import { describe, expect, it } from "vitest";
import { appNameProblem, compareVersions, isValidAppName, isValidVersion, sortVersions } from "./names";

describe("name validation", () => {
  it.each(["web", "a", "my-app.v2", "x_y", "0day"])("accepts app name %j", (n) =>
    expect(isValidAppName(n)).toBe(true),
  );
  it.each([
    "",
    "-x",
    ".x",
    "_x",
    "A",
    "a/b",
    "..",
    "a..b",
    "a\nb",
    "$(id)",
    "a b",
    "x".repeat(65),
    "wеb" /* cyrillic e */,
    "app;rm",
  ])("refuses app name %j", (n) => expect(isValidAppName(n)).toBe(false));
  it.each(["1.0", "1.10", "2.0.0-rc.1", "1.0+build.5", "1.0~beta", "V1", "a".repeat(64)])(
    "accepts version %j",
    (v) => expect(isValidVersion(v)).toBe(true),
  );
  it.each([
    "",
    "-1",
    ".1",
    "1/2",
    "1..2",
    "..",
    "1\n",
    "$(id)",
    "a".repeat(65),
    "１.0",
    "current",
    "previous",
    "1 0",
  ])("refuses version %j", (v) => expect(isValidVersion(v)).toBe(false));
  it("says why", () => expect(appNameProblem("a/b")).toContain('"/"'));
});

describe("compareVersions", () => {
  it("puts 1.10 after 1.9", () => {
    expect(compareVersions("1.10", "1.9")).toBe(1);
    expect(compareVersions("1.9", "1.10")).toBe(-1);
  });
  it("orders a realistic list", () => {
    const sorted = [
      "1.10",
      "1.0~rc1",
      "1.9",
      "1.0",
      "1.0.1",
      "2.0.0-rc.1",
      "2.0.0",
      "1.0-rc.2",
      "10.0",
      "1.2a",
    ];
    expect(sortVersions(sorted)).toEqual([
      "1.0~rc1",
      "1.0-rc.2",
      "1.0",
      "1.0.1",
      "1.2a",
      "1.9",
      "1.10",
      "2.0.0-rc.1",
      "2.0.0",
      "10.0",
    ]);
  });
  it("is antisymmetric and reflexive", () => {
    const vs = ["1", "1.0", "1.0.0", "1a", "1~", "1-", "1+x", "01", "a", "B"];
    for (const a of vs) {
      expect(compareVersions(a, a)).toBe(0);
      for (const b of vs) expect(compareVersions(a, b)).toBe(-compareVersions(b, a) || 0);
    }
  });
  it("handles numbers beyond 2^53", () =>
    expect(compareVersions("1.99999999999999999999", "1.99999999999999999998")).toBe(1));
});
