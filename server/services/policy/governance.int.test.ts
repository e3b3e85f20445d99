// Admin actions under the policy and the two-person rule (RELIABILITY case 30), against real
// PostgreSQL, through the tRPC procedures people and scripts call. Founders are seeded (they rest
// on no one); everyone else is made through Keel, so their roles record who granted them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { seedHosts, seedRelease, seedUser } from "@/prisma/seed/fleet";
import { createCaller } from "@/server/trpc/root";
import { createContextInner, type Role } from "@/server/trpc/init";
import { createUser } from "@/server/services/users/create-user";
import { setUserRoles } from "@/server/services/users/set-user-roles";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import { answerRollout } from "@/server/services/rollouts/answer-rollout";
import { countValidApprovals } from "@/server/services/rollouts/count-approvals";
import { DEFAULT_POLICY } from "./default-policy";
import { getActivePolicy } from "./get-active-policy";
import { ensureFirstAdmin } from "@/infra/start/first-admin";

let t: TestDatabase;
let db: PrismaClient;
type Person = { id: string; email: string; roles: Role[] };
const night = () => new Date("2026-11-26T23:00:00Z"); // inside the default prod window
const as = (p: Person) =>
  createCaller(createContextInner({ db, user: { id: p.id, email: p.email, name: p.email, roles: p.roles } }));
const audits = (action: string) => db.auditEvent.count({ where: { action } });
const person = async (email: string, roles: Role[], by: Person) => {
  const { user } = await createUser({
    db,
    actorId: by.id,
    input: { email, name: email, roles, password: "correct horse battery staple" },
  });
  return { id: user.id, email, roles } as Person;
};

let admin: Person; // founder: the first admin
let ap1: Person; // founders: two approvers who are other people
let ap2: Person;
let op: Person; // founder operator

/** Makes `cedar` (the default plus extra rules) the policy in force: proposed by the admin, approved by ap1. */
async function activate(extra: string) {
  const cur = await getActivePolicy({ db });
  const doc = { cedar: DEFAULT_POLICY.cedar + extra, windows: DEFAULT_POLICY.windows };
  if (cur.document.cedar === doc.cedar) return;
  const p = await as(admin).policy.propose({ document: doc, comment: "test" });
  expect((await as(ap1).policy.approve({ versionId: p.id, digest: p.digest })).state).toBe("active");
}

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  admin = await seedUser(db, "admin@example.test", ["admin"]);
  ap1 = await seedUser(db, "ap1@example.test", ["approver"]);
  ap2 = await seedUser(db, "ap2@example.test", ["approver"]);
  op = await seedUser(db, "op@example.test", ["operator"]);
  await seedHosts(db, 4, { prefix: "prod", environment: "prod", app: "web", current: "1.9" });
  await seedHosts(db, 2, { prefix: "dev", environment: "dev", app: "web", current: "1.9" });
  await seedRelease(db, "web", "1.10");
});
afterAll(async () => {
  await db?.$disconnect();
  await t?.drop();
});

describe("admin actions obey the policy", () => {
  const freeze = `
@id("audit-freeze")
@reason("users and hosts are frozen during the audit")
forbid (principal, action in [Keel::Action::"manage_users", Keel::Action::"enroll_host", Keel::Action::"remove_host"], resource);
`;
  it("a policy forbidding manage_users, enroll_host and remove_host refuses them for an admin, with its reason, audited", async () => {
    await activate(freeze);
    const denied = await audits("change.denied");
    await expect(
      as(admin).users.create({ email: "new@example.test", name: "New", roles: ["operator"] }),
    ).rejects.toThrow(/frozen during the audit/);
    expect(await db.user.count({ where: { email: "new@example.test" } })).toBe(0);
    const fp = `SHA256:${"A".repeat(43)}`;
    await expect(
      as(admin).hosts.enroll({
        name: "new-host",
        address: "10.9.9.9",
        acceptedFingerprint: fp,
        refresh: false,
      }),
    ).rejects.toThrow(/frozen/);
    expect(await db.host.count({ where: { name: "new-host" } })).toBe(0);
    const host = await db.host.findFirstOrThrow({ where: { environment: "dev" } });
    await expect(as(admin).hosts.remove({ id: host.id })).rejects.toThrow(/frozen/);
    expect(await db.host.count({ where: { id: host.id } })).toBe(1);
    await expect(as(admin).users.disable({ userId: op.id })).rejects.toThrow(/frozen/);
    expect(await audits("change.denied")).toBe(denied + 4);
    const ev = await db.auditEvent.findFirstOrThrow({
      where: { action: "change.denied", target: "hosts.remove" },
    });
    expect(ev.actorId).toBe(admin.id);
    expect(JSON.stringify(ev.detail)).toMatch(/frozen during the audit/);
    await activate("");
  });
});

describe("changing what the policy keys on is governed", () => {
  it("moving a prod host to dev needs two approvers and does not happen until they approve", async () => {
    const host = await db.host.findFirstOrThrow({ where: { environment: "prod" } });
    const err = await as(op)
      .hosts.setEnvironment({ hostIds: [host.id], environment: "dev" })
      .catch((e: Error & { cause?: unknown }) => e);
    expect((err as Error).message).toMatch(/needs 2 approval\(s\) from approver .*prod host/);
    expect((await db.host.findUniqueOrThrow({ where: { id: host.id } })).environment).toBe("prod");
    const [cr] = (await as(ap1).policy.changes()).filter(
      (c) => c.state === "pending" && c.kind === "hosts.setEnvironment",
    );
    expect(cr).toMatchObject({ requiredApprovals: 2, canAnswer: true });
    // The requester never answers their own change; an answer to another digest is refused.
    await expect(
      as({ ...op, roles: ["operator", "approver"] }).policy.approveChange({ id: cr!.id, digest: cr!.digest }),
    ).rejects.toThrow(/someone else/);
    await expect(as(ap1).policy.approveChange({ id: cr!.id, digest: "0".repeat(64) })).rejects.toThrow(
      /not the change/,
    );
    expect((await as(ap1).policy.approveChange({ id: cr!.id, digest: cr!.digest })).state).toBe("pending");
    expect((await db.host.findUniqueOrThrow({ where: { id: host.id } })).environment).toBe("prod");
    expect((await as(ap2).policy.approveChange({ id: cr!.id, digest: cr!.digest })).state).toBe("applied");
    expect((await db.host.findUniqueOrThrow({ where: { id: host.id } })).environment).toBe("dev");
    expect(await audits("change.applied")).toBeGreaterThanOrEqual(1);
  });

  it("labels of a prod host need approval too; moving a dev host, or labelling it, does not", async () => {
    const prod = await db.host.findFirstOrThrow({ where: { environment: "prod" } });
    await expect(as(op).hosts.setLabels({ hostIds: [prod.id], set: { tier: "canary" } })).rejects.toThrow(
      /change request \d+ waits/i,
    );
    expect((await db.host.findUniqueOrThrow({ where: { id: prod.id } })).labels).not.toHaveProperty("tier");
    const dev = await db.host.findFirstOrThrow({ where: { environment: "dev" } });
    expect(await as(op).hosts.setEnvironment({ hostIds: [dev.id], environment: "staging" })).toEqual({
      updated: 1,
    });
    expect(await as(op).hosts.setLabels({ hostIds: [dev.id], set: { tier: "x" } })).toEqual({ updated: 1 });
  });
});

describe("two people means two people", () => {
  const spec = {
    action: "update" as const,
    app: "web",
    version: "1.10",
    targets: { environments: ["prod"] },
    waves: ["1", "100%"],
    failureThreshold: 0,
    parallelism: 5,
  };

  it("an admin cannot simply create an approver: the grant waits for an independent approver", async () => {
    await expect(
      as(admin).users.create({ email: "puppet0@example.test", name: "P", roles: ["approver"] }),
    ).rejects.toThrow(/needs 1 approval/);
    expect(await db.user.count({ where: { email: "puppet0@example.test" } })).toBe(0);
  });

  it("a sock-puppet approver made by the admin does not count for the admin's rollout or policy change", async () => {
    // As if the policy let admins grant roles freely: the grant records the admin as its only voucher.
    const puppet = await person("puppet@example.test", ["approver"], admin);
    const r = await createRollout({ db, clock: night }, admin, spec);
    expect(r.state).toBe("awaiting_approval");
    // Refused with the reason, audited, and not recorded (the puppet is not told it approved).
    const refusedBefore = await audits("rollout.approval_refused");
    await expect(
      answerRollout({ db, clock: night }, puppet, { rolloutId: r.id, digest: r.digest, verdict: "approve" }),
    ).rejects.toThrow(/would not count: the approver's approver role rests solely on the requester/);
    const counted = await countValidApprovals(
      db,
      { id: r.id, planDigest: r.digest, createdById: admin.id },
      night(),
    );
    expect(counted.checks).toEqual([]);
    expect(await audits("rollout.approval_refused")).toBe(refusedBefore + 1);
    expect((await db.rollout.findUniqueOrThrow({ where: { id: r.id } })).state).toBe("awaiting_approval");
    // Two founders (other people) make it approved.
    await answerRollout({ db, clock: night }, ap1, { rolloutId: r.id, digest: r.digest, verdict: "approve" });
    expect(
      (
        await answerRollout({ db, clock: night }, ap2, {
          rolloutId: r.id,
          digest: r.digest,
          verdict: "approve",
        })
      ).state,
    ).toBe("approved");

    const p = await as(admin).policy.propose({
      document: { ...DEFAULT_POLICY, windows: [] },
      comment: "no windows",
    });
    await expect(as(puppet).policy.approve({ versionId: p.id, digest: p.digest })).rejects.toThrow(
      /would not count: the approver's approver role rests solely on the requester/,
    );
    expect((await db.policyVersion.findUniqueOrThrow({ where: { id: p.id } })).state).toBe("proposed");
    expect(await audits("policy.approval_refused")).toBe(1);
    await as(ap1).policy.reject({ versionId: p.id, digest: p.digest });
  });

  it("a puppet requester and a puppet approver made by the same admin do not make two people", async () => {
    const c = await person("puppet-op@example.test", ["operator"], admin);
    const b = await person("puppet-ap@example.test", ["approver"], admin);
    const r = await createRollout({ db, clock: night }, c, spec);
    await expect(
      answerRollout({ db, clock: night }, b, { rolloutId: r.id, digest: r.digest, verdict: "approve" }),
    ).rejects.toThrow(/would not count: the requester and the approver both rest solely on the same account/);
    const counted = await countValidApprovals(
      db,
      { id: r.id, planDigest: r.digest, createdById: c.id },
      night(),
    );
    expect(counted.count).toBe(0);
  });

  it("the transitive chain: the admin makes X admin, X makes Y approver — Y does not count for the admin", async () => {
    const x = await person("x@example.test", ["admin"], admin);
    const y = await person("y@example.test", ["approver"], x);
    // Y's role granted again later by X with the role removed in between changes nothing.
    await setUserRoles({ db, actorId: x.id, userId: y.id, roles: [] });
    await setUserRoles({ db, actorId: x.id, userId: y.id, roles: ["approver"] });
    const p = await as(admin).policy.propose({
      document: { ...DEFAULT_POLICY, windows: [] },
      comment: "chain",
    });
    await expect(as(y).policy.approve({ versionId: p.id, digest: p.digest })).rejects.toThrow(
      /would not count/,
    );
    // Nor does X's own approval (X would need the approver role, and rests on the admin anyway).
    await as(ap1).policy.reject({ versionId: p.id, digest: p.digest });
  });

  it("two approvers resting on the same account count once", async () => {
    const z1 = await person("z1@example.test", ["approver"], ap1);
    const z2 = await person("z2@example.test", ["approver"], ap1);
    const r = await createRollout({ db, clock: night }, op, spec);
    await answerRollout({ db, clock: night }, z1, { rolloutId: r.id, digest: r.digest, verdict: "approve" });
    await expect(
      answerRollout({ db, clock: night }, z2, { rolloutId: r.id, digest: r.digest, verdict: "approve" }),
    ).rejects.toThrow(
      /would not count: this approver and .+, who already approved, rest solely on the same account/,
    );
    const counted = await countValidApprovals(
      db,
      { id: r.id, planDigest: r.digest, createdById: op.id },
      night(),
    );
    expect(counted.count).toBe(1);
    expect(counted.checks).toHaveLength(1);
  });

  it("a legitimate second person: an approver whose grant an independent approver approved counts for the admin", async () => {
    await expect(
      as(admin).users.create({
        email: "bob@example.test",
        name: "Bob",
        roles: ["approver"],
        password: "correct horse battery staple",
      }),
    ).rejects.toThrow(/change request (\d+) waits/i);
    const [cr] = (await as(ap1).policy.changes()).filter(
      (c) => c.state === "pending" && c.summary.includes("bob@"),
    );
    // The admin's puppet cannot approve the grant; an independent approver can.
    const puppet = await db.user.findUniqueOrThrow({ where: { email: "puppet@example.test" } });
    await expect(
      as({ id: puppet.id, email: puppet.email, roles: ["approver"] }).policy.approveChange({
        id: cr!.id,
        digest: cr!.digest,
      }),
    ).rejects.toThrow(/would not count/);
    expect((await as(ap1).policy.approveChange({ id: cr!.id, digest: cr!.digest })).state).toBe("applied");
    const bob = await db.user.findUniqueOrThrow({
      where: { email: "bob@example.test" },
      include: { roleGrants: true },
    });
    expect(bob.roleGrants).toMatchObject([
      { role: "approver", via: "change", grantedById: admin.id, approvedByIds: [ap1.id] },
    ]);
    const listed = (await as(admin).users.list()).find((u) => u.email === "bob@example.test");
    expect(listed!.grants).toMatchObject([
      { role: "approver", via: "change", grantedBy: admin.email, approvedBy: [ap1.email] },
    ]);
    const p = await as(admin).policy.propose({
      document: { ...DEFAULT_POLICY, windows: [] },
      comment: "bob approves",
    });
    expect(
      (
        await as({ id: bob.id, email: bob.email, roles: ["approver"] }).policy.approve({
          versionId: p.id,
          digest: p.digest,
        })
      ).state,
    ).toBe("active");
  });
});

describe("founders are named where Keel is installed", () => {
  it("the first start makes the first admin and KEEL_FOUNDERS as founders; an unknown role is refused by name", async () => {
    const fresh = await createTestDatabase();
    try {
      await expect(
        ensureFirstAdmin({
          databaseUrl: fresh.url,
          email: "a@example.test",
          founders: "b@example.test:king",
        }),
      ).rejects.toThrow(/"b@example.test:king" names the role "king"/);
      const r = await ensureFirstAdmin({
        databaseUrl: fresh.url,
        email: "a@example.test",
        founders: "b@example.test:approver, c@example.test:operator+approver",
      });
      expect(r.created && r.founders.map((f) => f.email)).toEqual(["b@example.test", "c@example.test"]);
      expect(r.created && r.founders.every((f) => (f.generatedPassword ?? "").length >= 20)).toBe(true);
      const d = createDb(fresh.url);
      try {
        const grants = await d.roleGrant.findMany({
          select: { role: true, via: true, grantedById: true },
          orderBy: { role: "asc" },
        });
        expect(grants).toHaveLength(4);
        expect(grants.every((g) => g.via === "founder" && g.grantedById === null)).toBe(true);
      } finally {
        await d.$disconnect();
      }
      // A second start changes nothing.
      expect(
        await ensureFirstAdmin({
          databaseUrl: fresh.url,
          email: "a@example.test",
          founders: "z@example.test:admin",
        }),
      ).toEqual({ created: false });
    } finally {
      await fresh.drop();
    }
  });
});
