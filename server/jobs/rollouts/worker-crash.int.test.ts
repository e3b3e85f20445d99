// RELIABILITY case 4: a worker is SIGKILLed mid-rollout (some hosts mid-step, some changed but not
// yet reported); a second worker takes over. Every host ends up done exactly once, none skipped.
// The host side is the ledger executor (PostgreSQL tables standing in for the hosts); the real
// SSH executor has the same reconcile rule and runs against lab hosts in e2e/bench.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { waitFor } from "@/server/test/wait-for";
import { seedHosts, seedRelease, seedUser } from "@/prisma/seed/fleet";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import { startRollout } from "@/server/services/rollouts/control-rollout";
import { startRolloutWorker, type RolloutWorker } from "./worker";
import { LEDGER_DDL, ledgerExecutor } from "./test-support/ledger-executor";

let t: TestDatabase;
let db: PrismaClient;
let survivor: RolloutWorker | undefined;

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  // The app role may not create tables: the owner makes the test's scratch tables (the app gets its rights by default privileges).
  const owner = createDb(t.ownerUrl);
  for (const sql of LEDGER_DDL) await owner.$executeRawUnsafe(sql);
  await owner.$disconnect();
});
afterAll(async () => {
  await survivor?.stop();
  await db?.$disconnect();
  await t?.drop();
});

const until = (what: string, f: () => Promise<boolean>) =>
  waitFor(what, f, { timeoutMs: 60_000, everyMs: 100 });

it("a second worker finishes a rollout after the first is killed with SIGKILL; no host skipped or done twice", async () => {
  const op = await seedUser(db, "op@example.test", ["operator"]);
  await seedHosts(db, 9, { prefix: "w", environment: "dev", app: "svc", current: "1.0" });
  await seedRelease(db, "svc", "1.1");
  const r = await createRollout({ db }, op, {
    action: "update",
    app: "svc",
    version: "1.1",
    targets: { q: "w-" },
    waves: ["100%"],
    failureThreshold: 0,
    parallelism: 3,
  });
  await startRollout({ db }, op, r.id);

  const child = spawn(
    process.execPath,
    ["--import", "tsx", "server/jobs/rollouts/test-support/ledger-worker.ts"],
    {
      env: { ...process.env, DATABASE_URL: t.url },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  try {
    // Kill it while it is in the middle of hosts: some started, at least one changed but unreported.
    await until("the first worker to be mid-step", async () => {
      const [x] = await db.$queryRaw<{ started: number; changed: number; ended: number }[]>`
        SELECT (SELECT count(*)::int FROM test_exec_log WHERE phase = 'start') AS started,
               (SELECT count(*)::int FROM test_host_state) AS changed,
               (SELECT count(*)::int FROM test_exec_log WHERE phase = 'end') AS ended`;
      return x!.changed > x!.ended && x!.started >= 4;
    });
  } finally {
    child.kill("SIGKILL");
  }
  await new Promise((r) => child.once("exit", r));

  survivor = await startRolloutWorker({
    db,
    databaseUrl: t.url,
    executor: ledgerExecutor(db, "survivor", 200),
    concurrency: 3,
    sweepMs: 300,
    heartbeatMs: 300,
    staleAfterMs: 2000,
    workerId: "survivor",
  });
  await until(
    "the rollout to finish",
    async () => (await db.rollout.findUniqueOrThrow({ where: { id: r.id } })).state === "succeeded",
  );

  const hosts = await db.rolloutHost.findMany({ where: { rolloutId: r.id } });
  expect(hosts.map((h) => h.state)).toEqual(Array(9).fill("succeeded"));
  const changes = await db.$queryRaw<
    { host: string; n: number }[]
  >`SELECT host, count(*)::int AS n FROM test_host_state GROUP BY host ORDER BY host`;
  expect(changes).toHaveLength(9); // none skipped
  expect(changes.every((c) => c.n === 1)).toBe(true); // none done twice
  const reconciled = await db.$queryRaw<
    { n: number }[]
  >`SELECT count(*)::int AS n FROM test_exec_log WHERE phase = 'reconciled'`;
  expect(reconciled[0]!.n).toBeGreaterThanOrEqual(1); // the lost reply was recovered by asking, not redoing
  expect(hosts.some((h) => h.attempts >= 2)).toBe(true);
});
