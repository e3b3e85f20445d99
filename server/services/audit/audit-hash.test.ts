import { describe, expect, it } from "vitest";
import { auditRowHash, canonicalJson, GENESIS_HASH } from "./audit-hash";

const row = {
  id: 7n,
  at: new Date("2026-11-26T10:00:00.123Z"),
  actorId: "u1",
  actor: "a@keel.local",
  action: "user.create",
  target: "user:b",
  detail: { b: 1, a: { d: [1, { z: 0, y: 1 }], c: null } },
};

describe("audit hash", () => {
  it("does not depend on key order at any depth", () => {
    expect(canonicalJson({ b: 1, a: { y: 1, z: 0 } })).toBe('{"a":{"y":1,"z":0},"b":1}');
    const reordered = { ...row, detail: { a: { c: null, d: [1, { y: 1, z: 0 }] }, b: 1 } };
    expect(auditRowHash(GENESIS_HASH, reordered)).toBe(auditRowHash(GENESIS_HASH, row));
  });
  it("changes with any field and with the previous hash", () => {
    const h = auditRowHash(GENESIS_HASH, row);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(auditRowHash("1".repeat(64), row)).not.toBe(h);
    for (const change of [
      { id: 8n },
      { at: new Date(row.at.getTime() + 1) },
      { actorId: null },
      { actor: "x" },
      { action: "user.roles" },
      { target: null },
      { detail: { b: 2 } },
    ])
      expect(auditRowHash(GENESIS_HASH, { ...row, ...change }), JSON.stringify(Object.keys(change))).not.toBe(
        h,
      );
  });
});
