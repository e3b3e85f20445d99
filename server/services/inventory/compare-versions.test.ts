import { describe, expect, it } from "vitest";
import { compareVersionStrings } from "./compare-versions";

describe("compareVersionStrings", () => {
  it("orders numeric parts as numbers", () => {
    expect(compareVersionStrings("1.10", "1.9")).toBe(1);
    expect(compareVersionStrings("1.9", "1.10")).toBe(-1);
    expect(compareVersionStrings("2.0.0", "2.0.0")).toBe(0);
    expect(compareVersionStrings("2.0.1", "2.0")).toBe(1);
  });
  it("puts pre-releases with ~ before the release", () => {
    expect(compareVersionStrings("1.0~rc1", "1.0")).toBe(-1);
    expect(compareVersionStrings("1.0", "1.0~rc1")).toBe(1);
  });
  it("sorts a list the way people expect", () => {
    const l = ["1.10.0", "1.2.0", "1.9.3", "0.9", "1.10.0~beta"];
    expect([...l].sort(compareVersionStrings)).toEqual(["0.9", "1.2.0", "1.9.3", "1.10.0~beta", "1.10.0"]);
  });
});
