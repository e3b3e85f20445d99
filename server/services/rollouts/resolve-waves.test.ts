import { describe, expect, it } from "vitest";
import { resolveWaves, WaveSpecError } from "./resolve-waves";

describe("resolveWaves", () => {
  it("turns canary → 10% → 50% → 100% into wave sizes", () => {
    expect(resolveWaves(["1", "10%", "50%", "100%"], 100)).toEqual([1, 9, 40, 50]);
    expect(resolveWaves(["1", "10%", "50%", "100%"], 5)).toEqual([1, 2, 2]); // 10% of 5 is within the canary
  });

  it("puts the rest into the last wave and never makes an empty wave", () => {
    expect(resolveWaves(["2", "3"], 10)).toEqual([2, 8]);
    expect(resolveWaves(["5"], 3)).toEqual([3]);
    expect(resolveWaves([], 7)).toEqual([7]);
    expect(resolveWaves(["1", "100%"], 1)).toEqual([1]);
  });

  it("rejects specs that mean nothing", () => {
    expect(() => resolveWaves(["ten"], 5)).toThrow(WaveSpecError);
    expect(() => resolveWaves(["0"], 5)).toThrow(/at least one host/);
    expect(() => resolveWaves(["150%"], 5)).toThrow(/between 0% and 100%/);
  });
});
