import { describe, expect, it } from "vitest";
import { lineDiff, type DiffLine } from "./line-diff";

const brief = (d: DiffLine[]) =>
  d.map((l) => `${l.kind === "same" ? " " : l.kind === "add" ? "+" : "-"}${l.text}`);
/** The diff read back: unchanged + removed lines give the old text, unchanged + added the new one. */
const rebuild = (d: DiffLine[]) => ({
  before: d
    .filter((l) => l.kind !== "add")
    .map((l) => l.text)
    .join("\n"),
  after: d
    .filter((l) => l.kind !== "del")
    .map((l) => l.text)
    .join("\n"),
});

describe("lineDiff", () => {
  it("shows a changed line as removed then added, keeping the rest, with line numbers on both sides", () => {
    expect(lineDiff("a\nb\nc", "a\nB\nc")).toEqual([
      { kind: "same", text: "a", oldNo: 1, newNo: 1 },
      { kind: "del", text: "b", oldNo: 2 },
      { kind: "add", text: "B", newNo: 2 },
      { kind: "same", text: "c", oldNo: 3, newNo: 3 },
    ]);
  });
  it("handles pure additions and deletions", () => {
    expect(lineDiff("a", "a\nb").filter((l) => l.kind !== "same")).toEqual([
      { kind: "add", text: "b", newNo: 2 },
    ]);
    expect(lineDiff("a\nb", "b").filter((l) => l.kind !== "same")).toEqual([
      { kind: "del", text: "a", oldNo: 1 },
    ]);
    expect(brief(lineDiff("", "x"))).toEqual(["-", "+x"]);
  });
  it("keeps indentation: a line whose only change is its leading spaces is a change, shown with them", () => {
    const before = "permit (\n  principal,\n  action,\n  resource\n);";
    const after = "permit (\n  principal,\n      action,\n  resource\n);";
    expect(brief(lineDiff(before, after))).toEqual([
      " permit (",
      "   principal,",
      "-  action,",
      "+      action,",
      "   resource",
      " );",
    ]);
    // Tabs are not spaces.
    expect(brief(lineDiff("\tx", "    x"))).toEqual(["-\tx", "+    x"]);
  });
  it("keeps blank lines, as lines of their own, added and removed like any other", () => {
    const d = lineDiff("a\n\nb\n", "a\nb\n\n\n");
    expect(rebuild(d)).toEqual({ before: "a\n\nb\n", after: "a\nb\n\n\n" });
    expect(d.filter((l) => l.kind === "del")).toEqual([{ kind: "del", text: "", oldNo: 2 }]);
    expect(d.filter((l) => l.kind === "add").map((l) => l.text)).toEqual(["", ""]);
    // A CRLF text is the same text.
    expect(lineDiff("a\r\n  b\r\n", "a\n  b\n").every((l) => l.kind === "same")).toBe(true);
  });
  it("shows a moved block once removed and once added, and nothing else changed", () => {
    const block = ['@id("x")', "permit (principal, action, resource)", "  when { true };"];
    const rest = Array.from({ length: 10 }, (_, i) => `rule ${i}`);
    const before = [...block, ...rest].join("\n");
    const after = [...rest, ...block].join("\n");
    const d = lineDiff(before, after);
    expect(d.filter((l) => l.kind === "del").map((l) => l.text)).toEqual(block);
    expect(d.filter((l) => l.kind === "add").map((l) => l.text)).toEqual(block);
    expect(d.filter((l) => l.kind === "same").map((l) => l.text)).toEqual(rest);
    expect(rebuild(d)).toEqual({ before, after });
  });
  it("finds the shortest edit on interleaved edits and reads back both texts with consecutive numbers", () => {
    const before = "a\nb\nc\na\nb\nb\na";
    const after = "c\nb\na\nb\na\nc";
    const d = lineDiff(before, after);
    expect(d.filter((l) => l.kind !== "same")).toHaveLength(5); // Myers' paper: D = 5 for ABCABBA → CBABAC
    expect(rebuild(d)).toEqual({ before, after });
    expect(d.flatMap((l) => (l.kind === "add" ? [] : [l.oldNo]))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(d.flatMap((l) => (l.kind === "del" ? [] : [l.newNo]))).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it("stays exact and fast on a long text with a few edits, and replaces wholesale only past its edit budget", () => {
    const long = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
    const edited = [...long];
    edited[10] = "  changed";
    edited.splice(15_000, 1);
    const d = lineDiff(long.join("\n"), edited.join("\n"));
    expect(brief(d.filter((l) => l.kind !== "same"))).toEqual(["-line 10", "+  changed", "-line 15000"]);
    const other = long.map((l) => `x${l}`);
    const all = lineDiff(long.join("\n"), other.join("\n"));
    expect(rebuild(all)).toEqual({ before: long.join("\n"), after: other.join("\n") });
  });
});
