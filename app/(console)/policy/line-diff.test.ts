import { describe, expect, it } from "vitest";
import { lineDiff } from "./line-diff";

describe("lineDiff", () => {
  it("shows a changed line as removed then added, keeping the rest", () => {
    expect(lineDiff("a\nb\nc", "a\nB\nc")).toEqual([
      { kind: "same", text: "a" },
      { kind: "del", text: "b" },
      { kind: "add", text: "B" },
      { kind: "same", text: "c" },
    ]);
  });
  it("handles pure additions and deletions", () => {
    expect(lineDiff("a", "a\nb").filter((l) => l.kind !== "same")).toEqual([{ kind: "add", text: "b" }]);
    expect(lineDiff("a\nb", "b").filter((l) => l.kind !== "same")).toEqual([{ kind: "del", text: "a" }]);
  });
});
