// After a re-plan, the approval card says what changed since the plan someone approved: against
// real PostgreSQL, with the plan kept by digest when the rollout was created.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { seedHosts, seedRelease, seedUser } from "@/prisma/seed/fleet";
import { createRollout } from "./create-rollout";
import { answerRollout } from "./answer-rollout";
import { listPendingApprovals } from "./list-pending-approvals";
import { replanRollout } from "./replan-rollout";
import type { TRolloutSpec } from "./types";

let t: TestDatabase;
let db: PrismaClient;
const clock = () => new Date("2026-11-26T23:00:00Z"); // inside the default prod window

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
});
afterAll(async () => {
  await db?.$disconnect();
  await t?.drop();
});

describe("what changed since the last approval", () => {
  it("names the approver and each difference; nothing before anyone approved or after the plan was approved as is", async () => {
    const operator = await seedUser(db, "op@example.test", ["operator"]);
    const ap1 = await seedUser(db, "ap1@example.test", ["approver"]);
    const ap2 = await seedUser(db, "ap2@example.test", ["approver"]);
    await seedHosts(db, 4, { prefix: "prod", environment: "prod", app: "web", current: "1.0" });
    await seedRelease(db, "web", "1.1");
    const spec: TRolloutSpec = {
      action: "update",
      app: "web",
      version: "1.1",
      targets: { environments: ["prod"] },
      waves: ["1", "100%"],
      failureThreshold: 0,
      parallelism: 4,
    };
    const r = await createRollout({ db, clock }, operator, spec);
    const card = async () => (await listPendingApprovals({ db }, ap2)).rollouts.find((x) => x.id === r.id)!;
    expect((await card()).changedSinceApproval).toBeNull();

    await answerRollout({ db, clock }, ap1, { rolloutId: r.id, digest: r.digest, verdict: "approve" });
    expect((await card()).changedSinceApproval).toBeNull(); // the approved plan is the current one

    await replanRollout({ db, clock }, operator, r.id, {
      ...spec,
      waves: ["1", "2", "100%"],
      parallelism: 2,
    });
    const c = (await card()).changedSinceApproval!;
    expect(c.approvedBy).toEqual(["ap1@example.test"]);
    expect(c.changes).toContain("hosts at once: 4 → 2");
    expect(c.changes.some((l) => /^hosts per wave: 1, 3 → /.test(l))).toBe(true);
    expect(c.changes).toContain("prod-003: wave 2 → 3");
    expect(c.changes).toHaveLength(3);
  });
});
