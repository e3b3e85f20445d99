// Reading one policy version (policy.version) against real PostgreSQL, through the tRPC procedure the
// page calls: a proposal is readable in full by every role that reads the policy, with its proposer,
// its state as it moves (proposed → active, the old one superseded; or rejected), the version in
// force to diff against, and who may answer it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { seedUser } from "@/prisma/seed/fleet";
import { createCaller } from "@/server/trpc/root";
import { createContextInner, type Role } from "@/server/trpc/init";
import { DEFAULT_POLICY } from "./default-policy";
import { getActivePolicy } from "./get-active-policy";

let t: TestDatabase;
let db: PrismaClient;
type Person = { id: string; email: string; roles: Role[] };
const as = (p: Person) =>
  createCaller(createContextInner({ db, user: { id: p.id, email: p.email, name: p.email, roles: p.roles } }));
let admin: Person;
let ap1: Person;
let ap2: Person;
let op: Person;
let auditor: Person;

/** The default policy with one indented line re-indented, plus a comment block: what a reviewer must see exactly. */
const indentedEdit = () => {
  const cedar =
    DEFAULT_POLICY.cedar.replace("\n  principal,\n", "\n      principal,\n") +
    "\n\n// reviewed\n\t// tab-indented note\n";
  expect(cedar).not.toBe(DEFAULT_POLICY.cedar);
  return { cedar, windows: DEFAULT_POLICY.windows };
};

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  admin = await seedUser(db, "admin@example.test", ["admin"]);
  ap1 = await seedUser(db, "ap1@example.test", ["approver"]);
  ap2 = await seedUser(db, "ap2@example.test", ["approver"]);
  op = await seedUser(db, "op@example.test", ["operator"]);
  auditor = await seedUser(db, "aud@example.test", ["auditor"]);
  await getActivePolicy({ db }); // version 1, the default
});
afterAll(async () => {
  await db?.$disconnect();
  await t?.drop();
});

describe("policy.version", () => {
  it("a proposal is readable in full by every role that reads the policy, with its proposer and the version in force", async () => {
    const doc = indentedEdit();
    const p = await as(admin).policy.propose({ document: doc, comment: "re-indent a line" });
    expect(p.state).toBe("proposed");
    for (const who of [admin, ap1, op, auditor]) {
      const v = await as(who).policy.version({ version: p.version });
      expect(v).toMatchObject({
        id: p.id,
        version: p.version,
        state: "proposed",
        digest: p.digest,
        comment: "re-indent a line",
      });
      expect(v.proposedBy).toEqual({ name: "admin", email: admin.email });
      // The text is the text proposed, byte for byte: indentation, tabs and blank lines kept.
      expect(v.document.cedar).toBe(doc.cedar);
      expect(v.document.cedar).toContain("\n      principal,\n");
      expect(v.document.cedar).toContain("\n\n// reviewed\n\t// tab-indented note\n");
      expect(v.document.windows).toEqual(DEFAULT_POLICY.windows);
      expect(v.active).toMatchObject({ version: 1, document: { cedar: DEFAULT_POLICY.cedar } });
    }
  });

  it("says who may answer, as answerPolicy decides: not the proposer, not operators or auditors, an approver yes", async () => {
    const latest = (await db.policyVersion.findFirstOrThrow({ where: { state: "proposed" } })).version;
    expect(await as(ap1).policy.version({ version: latest })).toMatchObject({
      canAnswer: true,
      cannotAnswerWhy: null,
    });
    expect(await as(admin).policy.version({ version: latest })).toMatchObject({
      canAnswer: false,
      cannotAnswerWhy: expect.stringMatching(/You proposed/),
    });
    expect(await as(op).policy.version({ version: latest })).toMatchObject({
      canAnswer: false,
      cannotAnswerWhy: expect.stringMatching(/approvers/),
    });
    expect(await as(auditor).policy.version({ version: latest })).toMatchObject({ canAnswer: false });
  });

  it("follows the version through approval: active with the approval listed, the previous one superseded", async () => {
    const v = await as(ap1).policy.version({ version: 2 });
    expect((await as(ap1).policy.approve({ versionId: v.id, digest: v.digest })).state).toBe("active");
    const after = await as(op).policy.version({ version: 2 });
    expect(after.state).toBe("active");
    expect(after.activatedAt).toBeInstanceOf(Date);
    expect(after.answers).toEqual([
      expect.objectContaining({ by: ap1.email, verdict: "approve", current: true }),
    ]);
    expect(after.active.version).toBe(2);
    expect(after.canAnswer).toBe(false);
    expect((await as(op).policy.version({ version: 1 })).state).toBe("superseded");
  });

  it("a rejected proposal reads as rejected, with who rejected it", async () => {
    const p = await as(admin).policy.propose({
      document: { ...indentedEdit(), cedar: indentedEdit().cedar + "// another\n" },
      comment: "",
    });
    await as(ap2).policy.reject({ versionId: p.id, digest: p.digest, comment: "not now" });
    const v = await as(auditor).policy.version({ version: p.version });
    expect(v).toMatchObject({ state: "rejected", canAnswer: false, activatedAt: null });
    expect(v.answers).toEqual([
      expect.objectContaining({ by: ap2.email, verdict: "reject", comment: "not now" }),
    ]);
    expect(v.active.version).toBe(2);
  });

  it("an unknown version is NOT_FOUND with a way forward, and a bad version number is refused before the database", async () => {
    await expect(as(op).policy.version({ version: 999 })).rejects.toThrow(
      /no policy version 999.*Policy page/,
    );
    await expect(as(op).policy.version({ version: 0 })).rejects.toThrow();
    await expect(as(op).policy.version({ version: 1.5 })).rejects.toThrow();
  });
});
