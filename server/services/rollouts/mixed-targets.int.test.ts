// RELIABILITY.md case 18, the part about bulk targets: a selection that mixes hosts the caller may
// change with hosts they may not is refused as a whole, with the reason, and nothing is stored —
// never applied to the allowed part only. Real PostgreSQL, the real Cedar policy engine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { seedHosts, seedRelease, seedUser } from "@/prisma/seed/fleet";
import { DEFAULT_POLICY } from "@/server/services/policy/default-policy";
import { answerPolicy, proposePolicy } from "@/server/services/policy/propose-policy";
import { createRollout } from "./create-rollout";
import type { TRolloutSpec } from "./types";

// The default policy plus one rule: operators (who are not also admins) may not change prod.
const OPERATORS_NOT_PROD = `
@id("operators-not-prod")
@reason("operators may not install, update or remove software on prod; ask an admin")
forbid (principal, action in [Keel::Action::"install", Keel::Action::"update", Keel::Action::"remove"], resource)
when { principal.roles.contains("operator") && !principal.roles.contains("admin") && context.environments.contains("prod") };
`;

let t: TestDatabase;
let db: PrismaClient;
type Person = Awaited<ReturnType<typeof seedUser>>;
let admin: Person, operator: Person, approver: Person;
let prod: { id: string; name: string }[], dev: { id: string; name: string }[];
const night = () => new Date("2026-11-26T23:00:00Z"); // inside the default prod window

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  admin = await seedUser(db, "admin@example.test", ["admin"]);
  operator = await seedUser(db, "op@example.test", ["operator"]);
  approver = await seedUser(db, "ap@example.test", ["approver"]);
  prod = await seedHosts(db, 3, {
    prefix: "prod",
    environment: "prod",
    app: "web",
    current: "1.9",
    previous: "1.8",
  });
  dev = await seedHosts(db, 3, {
    prefix: "dev",
    environment: "dev",
    app: "web",
    current: "1.9",
    previous: "1.8",
  });
  await seedRelease(db, "web", "1.10");
  const v = await proposePolicy(
    { db },
    admin,
    { ...DEFAULT_POLICY, cedar: DEFAULT_POLICY.cedar + OPERATORS_NOT_PROD },
    "operators stay off prod",
  );
  expect(
    (await answerPolicy({ db }, approver, { versionId: v.id, digest: v.digest, verdict: "approve" })).state,
  ).toBe("active");
});
afterAll(async () => {
  await db?.$disconnect();
  await t?.drop();
});

const update = (ids: string[], over: Partial<TRolloutSpec> = {}): TRolloutSpec => ({
  action: "update",
  app: "web",
  version: "1.10",
  targets: { ids },
  waves: ["1", "100%"],
  failureThreshold: 0,
  parallelism: 5,
  ...over,
});

describe("bulk targets that mix hosts the caller may and may not change", () => {
  it("refuses an operator's update of dev hosts plus one prod host as a whole, naming the rule", async () => {
    const ids = [dev[0]!.id, dev[1]!.id, prod[0]!.id];
    await expect(createRollout({ db, clock: night }, operator, update(ids))).rejects.toThrow(
      /operators may not install, update or remove software on prod/,
    );
    expect(await db.rollout.count()).toBe(0);
    const denied = await db.auditEvent.findMany({
      where: { action: "rollout.denied", actorId: operator.id },
    });
    expect(denied).toHaveLength(1);
    expect(JSON.stringify(denied[0]!.detail)).toContain("operators may not");
  });

  it("lets the same operator update the dev part alone, without approvals, and plans only the chosen hosts", async () => {
    const r = await createRollout({ db, clock: night }, operator, update([dev[0]!.id, dev[1]!.id]));
    expect(r.state).toBe("approved");
    expect(r.plan.hosts.map((h) => h.name).sort()).toEqual([dev[0]!.name, dev[1]!.name]);
  });

  it("lets an admin ask for the mixed selection, which then needs prod's two approvers", async () => {
    const r = await createRollout(
      { db, clock: night },
      admin,
      update([dev[2]!.id, prod[1]!.id, prod[2]!.id]),
    );
    expect(r.state).toBe("awaiting_approval");
    expect(r.decision).toMatchObject({ effect: "needs_approval", approvals: 2 });
    expect(r.plan.hosts).toHaveLength(3);
  });

  it("still lets the operator roll the mixed selection back, with prod's one approver", async () => {
    const r = await createRollout({ db, clock: night }, operator, {
      ...update([dev[0]!.id, prod[0]!.id]),
      action: "rollback",
      version: undefined,
    });
    expect(r.state).toBe("awaiting_approval");
    expect(r.decision).toMatchObject({ effect: "needs_approval", approvals: 1 });
  });
});
