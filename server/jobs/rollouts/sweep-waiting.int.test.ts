// The sweep re-sends the job of a step that was lost, never of one that only waits for a free
// worker. Real PostgreSQL and pg-boss; the host side is a scripted executor that takes its time,
// so with parallelism above the worker's slots most steps wait in the queue far longer than the
// stale limit. Found by bench:scale at 1,000 simulated hosts: the queue grew by ≈ 150 duplicate
// jobs a second (119,756 jobs for 1,000 steps) and the worker spent its time on them.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { seedHosts, seedRelease, seedUser } from "@/prisma/seed/fleet";
import { startRollout } from "@/server/services/rollouts/control-rollout";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import type { HostExecutor } from "./executor";
import { HOST_STEP_QUEUE } from "@/server/services/rollouts/host-step-job";
import { startRolloutWorker, type RolloutWorker } from "./worker";

let t: TestDatabase;
let db: PrismaClient;
let worker: RolloutWorker | undefined;
const ran: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
}, 120_000);
afterAll(async () => {
  await worker?.stop();
  await db?.$disconnect();
  await t?.drop();
});

it("steps waiting in the queue longer than the stale limit are not sent again; each host runs once", async () => {
  const operator = await seedUser(db, "sweep@example.test", ["operator"]);
  await seedHosts(db, 6, { prefix: "wait", environment: "dev", app: "api", current: "2.0" });
  await seedRelease(db, "api", "2.1");
  const slow: HostExecutor = {
    async run(input) {
      await new Promise((r) => setTimeout(r, 500));
      ran.push(input.host.name);
      return { outcome: "succeeded" };
    },
  };
  // One slot, steps of 0.5 s (shorter than the stale limit, so a running step keeps its claim),
  // stale after 1.5 s, a sweep every 0.1 s: the last steps wait ≈ 2–2.5 s in the queue.
  worker = await startRolloutWorker({
    db,
    databaseUrl: t.url,
    executor: slow,
    concurrency: 1,
    staleAfterMs: 1_500,
    sweepMs: 100,
  });
  const r = await createRollout({ db }, operator, {
    action: "update",
    app: "api",
    version: "2.1",
    targets: { q: "wait-" },
    waves: ["100%"],
    failureThreshold: 0,
    parallelism: 6,
  });
  await startRollout({ db, boss: worker.boss }, operator, r.id);
  const end = Date.now() + 60_000;
  while ((await db.rollout.findUniqueOrThrow({ where: { id: r.id } })).state !== "succeeded") {
    if (Date.now() > end) throw new Error("the rollout did not finish in 60 s");
    await new Promise((res) => setTimeout(res, 200));
  }
  expect([...ran].sort()).toEqual(["wait-000", "wait-001", "wait-002", "wait-003", "wait-004", "wait-005"]);
  const [jobs] = await db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pgboss.job WHERE name = ${HOST_STEP_QUEUE}`;
  expect(jobs!.n).toBe(6);
}, 120_000);
