// Who may call the releases and keys procedures (RELIABILITY.md cases 17, 18): pinned here so a
// change of roles is a deliberate edit. server/trpc/authz.test.ts checks the matrix for every procedure.
import { describe, expect, it } from "vitest";
import { appRouter } from "../../root";
import type { Meta } from "../../init";

const EXPECTED: Record<string, unknown> = {
  "releases.list": ["admin", "operator", "approver", "auditor"],
  "releases.show": ["admin", "operator", "approver", "auditor"],
  "releases.delete": ["admin", "operator"],
  "releases.buildSupport": ["admin", "operator"],
  "releases.plan": ["admin", "operator"],
  "keys.list": ["admin", "operator", "approver", "auditor"],
  "keys.create": ["admin"],
  "keys.import": ["admin"],
  "keys.retire": ["admin"],
};

describe("releases and keys procedures", () => {
  const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { meta?: Meta } }>;
  it("declare exactly the expected roles", () => {
    const mine = Object.keys(procedures)
      .filter((p) => /^(releases|keys)\./.test(p))
      .sort();
    expect(mine).toEqual(Object.keys(EXPECTED).sort());
    for (const p of mine) expect(procedures[p]!._def.meta?.roles, p).toEqual(EXPECTED[p]);
  });
});
