// The control relation behind the two-person rule (docs/decisions/0015-two-person-rule.md).
import { describe, expect, it } from "vitest";
import { controllers } from "./count-independent";

const at = new Date("2026-12-01T00:00:00Z");
const g = (
  userId: string,
  grantedById: string | null,
  approvedByIds: string[] = [],
  revokedAt: Date | null = null,
) => ({
  userId,
  role: "approver",
  grantedById,
  approvedByIds,
  grantedAt: at,
  revokedAt,
});
const sorted = (s: Set<string>) => [...s].sort();

describe("controllers", () => {
  it("a founder rests on no one; what an account grants alone rests on it, transitively", () => {
    const of = controllers([g("A", null), g("X", "A"), g("Y", "X")]);
    expect(sorted(of("A"))).toEqual(["A"]);
    expect(sorted(of("X"))).toEqual(["A", "X"]);
    expect(sorted(of("Y"))).toEqual(["A", "X", "Y"]);
  });
  it("a grant approved by another person rests only on what granter and approver share", () => {
    const of = controllers([g("A", null), g("D", null), g("B", "A", ["D"]), g("C", "A", ["B"])]);
    expect(sorted(of("B"))).toEqual(["B"]);
    // B rests on no one but B; A and B share nothing, so C rests on no one else either.
    expect(sorted(of("C"))).toEqual(["C"]);
  });
  it("a puppet approving a puppet's grant adds nothing", () => {
    const of = controllers([g("A", null), g("P", "A"), g("Q", "A", ["P"])]);
    expect(sorted(of("Q"))).toEqual(["A", "Q"]);
  });
  it("a revoked grant still counts, and cycles settle", () => {
    const of = controllers([g("A", null, [], at), g("A", "X"), g("X", "A")]);
    expect(sorted(of("A"))).toEqual(["A", "X"]);
    expect(sorted(of("X"))).toEqual(["A", "X"]);
  });
});
