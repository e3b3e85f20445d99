import { describe, expect, it } from "vitest";
import { newestSatisfying, parseRange, rangeProblem, satisfies, validateRequires } from "./requires";
import { validateManifest } from "./manifest";

describe("version ranges", () => {
  const cases: [string, string[], string[]][] = [
    ["^1.2", ["1.2", "1.2.1", "1.10", "1.99.9"], ["1.1.9", "2", "2.0", "2.0-rc1", "2.0~rc1", "0.9"]],
    ["^0.2.3", ["0.2.3", "0.2.9"], ["0.3", "0.2.2", "1.0"]],
    ["^0.0.3", ["0.0.3"], ["0.0.4", "0.0.2"]],
    ["~1.2", ["1.2", "1.2.9"], ["1.3", "1.1"]],
    ["~1", ["1", "1.9"], ["2", "0.9"]],
    ["1.x", ["1.0", "1.55"], ["2.0", "0.1"]],
    ["1.2.x", ["1.2.0", "1.2.7"], ["1.3.0"]],
    ["1.2.3", ["1.2.3"], ["1.2.4", "1.2"]],
    ["=1.0-rc.1", ["1.0-rc.1"], ["1.0"]],
    [">=1.9 <1.11", ["1.9", "1.10"], ["1.11", "1.8"]],
    [">1 <=2", ["1.1", "2"], ["1", "2.1"]],
    ["<1.0 || >=3", ["0.9", "3", "10"], ["1.0", "2.9"]],
    ["*", ["0.1", "99"], []],
  ];
  for (const [range, yes, no] of cases) {
    it(`${range}`, () => {
      for (const v of yes) expect(satisfies(v, range), `${v} in ${range}`).toBe(true);
      for (const v of no) expect(satisfies(v, range), `${v} not in ${range}`).toBe(false);
    });
  }

  it("refuses what it does not understand, naming the part", () => {
    for (const bad of [
      "",
      "latest!",
      ">= 1.0",
      "^1.x.3",
      "1.2.3.4.5x",
      "^a",
      "~1.2.3.4",
      ">=",
      "1 ||",
      "|| 1",
      ">=1;rm",
      "a".repeat(300),
      "=/etc",
    ]) {
      expect(rangeProblem(bad), bad).not.toBeNull();
    }
    expect(() => parseRange(">=1.0 <<2")).toThrow(/<<2/);
  });

  it("picks the newest satisfying version", () => {
    expect(newestSatisfying(["1.9", "1.10", "2.0", "1.2"], "^1.2")).toBe("1.10");
    expect(newestSatisfying(["2.0"], "^1")).toBeNull();
  });

  it("validates requires and allows it only on apps", () => {
    expect(validateRequires([{ runtime: "node", versions: "^20" }])).toEqual([
      { runtime: "node", versions: "^20" },
    ]);
    expect(() => validateRequires([])).toThrow(/must not be empty/);
    expect(() => validateRequires([{ runtime: "Node", versions: "^20" }])).toThrow(/runtime name/);
    expect(() => validateRequires([{ runtime: "node", versions: "^20", extra: 1 }])).toThrow(/unknown field/);
    expect(() =>
      validateRequires([
        { runtime: "node", versions: "^20" },
        { runtime: "node", versions: "^21" },
      ]),
    ).toThrow(/twice/);
    expect(() => validateRequires([{ runtime: "node", versions: "newest" }])).toThrow(/versions/);
  });

  it("the manifest refuses requires on a runtime", () => {
    const m = {
      manifestVersion: 2,
      app: "node",
      version: "20.1",
      kind: "runtime",
      created: "2026-12-06T00:00:00Z",
      signer: "0123456789abcdef",
      tree: { files: 1, bytes: 1, sha256: "a".repeat(64), metaSha256: "b".repeat(64) },
      stream: {
        format: "keel-tree-1",
        compression: "none",
        bytes: 1,
        sha256: "c".repeat(64),
        chunkSize: 65536,
        chunks: ["c".repeat(64)],
      },
      signature: "A".repeat(86) + "==",
    };
    expect(
      validateManifest({ ...m, kind: "app", requires: [{ runtime: "node", versions: "^20" }] }).requires,
    ).toHaveLength(1);
    expect(() => validateManifest({ ...m, requires: [{ runtime: "x", versions: "1" }] })).toThrow(
      /only apps require runtimes/,
    );
  });
});
