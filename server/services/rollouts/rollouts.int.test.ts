// Rollout lifecycle against real PostgreSQL and the real pg-boss queue. The host side is the
// HostExecutor seam with a scripted executor that records what it did; the same scheduling runs
// against real lab hosts in e2e/tests/rollouts and bench/rollout.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { waitFor } from "@/server/test/wait-for";
import { seedHosts, seedRelease, seedUser } from "@/prisma/seed/fleet";
import { startRolloutWorker, type RolloutWorker } from "@/server/jobs/rollouts/worker";
import type { HostExecutor } from "@/server/jobs/rollouts/executor";
import { openQueue } from "@/server/jobs/rollouts/queue";
import { createRollout } from "./create-rollout";
import { answerRollout } from "./answer-rollout";
import { replanRollout } from "./replan-rollout";
import { listPendingApprovals } from "./list-pending-approvals";
import { cancelRollout, startRollout } from "./control-rollout";
import type { TRolloutSpec } from "./types";

let t: TestDatabase;
let db: PrismaClient;
const night = () => new Date("2026-11-26T23:00:00Z"); // inside the default prod window

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
});
afterAll(async () => {
  await db?.$disconnect();
  await t?.drop();
});

/** Executes steps by recording them; hosts listed in `failOn` fail their health check and revert. */
function scripted(failOn: Set<string> = new Set()) {
  const ran: string[] = [];
  const executor: HostExecutor = {
    async run(input, progress) {
      await progress({ step: "send", bytesSent: input.plan.bytes });
      ran.push(input.host.name);
      if (failOn.has(input.host.name)) return { outcome: "reverted", error: "health check failed: exit 1" };
      return { outcome: "succeeded" };
    },
  };
  return { executor, ran };
}

describe("rollouts under the default policy", () => {
  let operator: { id: string; roles: ("operator" | "approver" | "admin" | "auditor")[] };
  let approver1: typeof operator;
  let approver2: typeof operator;

  beforeAll(async () => {
    operator = await seedUser(db, "op@example.test", ["operator", "approver"]);
    approver1 = await seedUser(db, "ap1@example.test", ["approver"]);
    approver2 = await seedUser(db, "ap2@example.test", ["approver"]);
    await seedHosts(db, 10, {
      prefix: "prod",
      environment: "prod",
      app: "web",
      current: "1.9",
      previous: "1.8",
    });
    await seedHosts(db, 4, { prefix: "dev", environment: "dev", app: "web", current: "1.9" });
    await seedRelease(db, "web", "1.10");
  });

  /** `who` approves the plan of `r` at night, inside the prod window. */
  const approve = (who: typeof operator, r: { id: string; digest: string }) =>
    answerRollout({ db, clock: night }, who, { rolloutId: r.id, digest: r.digest, verdict: "approve" });

  const prodSpec = (over: Partial<TRolloutSpec> = {}): TRolloutSpec => ({
    action: "update",
    app: "web",
    version: "1.10",
    targets: { environments: ["prod"] },
    waves: ["1", "50%", "100%"],
    failureThreshold: 0,
    parallelism: 5,
    ...over,
  });

  it("refuses a prod update without a canary wave, with the policy's reason, and stores nothing", async () => {
    await expect(
      createRollout({ db, clock: night }, operator, prodSpec({ waves: ["100%"] })),
    ).rejects.toThrow(/canary wave/);
    expect(await db.rollout.count()).toBe(0);
    expect(await db.auditEvent.count({ where: { action: "rollout.denied" } })).toBe(1);
  });

  it("needs two approvers; the requester never counts; a replayed approval is refused", async () => {
    const r = await createRollout({ db, clock: night }, operator, prodSpec());
    expect(r.state).toBe("awaiting_approval");
    expect(r.plan.waves).toEqual([1, 4, 5]);
    expect(r.plan.totals).toMatchObject({ hosts: 10, update: 10, bytes: 10_000_000 });
    // The approver's card: every host's plan, the windows that bind them and when it could start.
    const card = (await listPendingApprovals({ db }, approver1)).rollouts.find((x) => x.id === r.id)!;
    expect(card.hostCount).toBe(10);
    expect(card.hosts[0]).toMatchObject({
      environment: "prod",
      action: "update",
      from: "1.9",
      to: "1.10",
      stream: "full",
      bytes: 1_000_000,
      wave: 0,
    });
    expect(card.windows).toEqual([
      expect.stringMatching(/^prod-nights \(mon,tue,wed,thu,fri,sat,sun 22:00–/),
    ]);
    expect(card.nextStart).toBeInstanceOf(Date);
    // The operator also holds the approver role, and still cannot approve their own rollout.
    await expect(approve(operator, r)).rejects.toThrow(/someone else must approve/);
    expect((await approve(approver1, r)).state).toBe("awaiting_approval");
    await expect(approve(approver1, r)).rejects.toThrow(/already answered/);
    expect((await approve(approver2, r)).state).toBe("approved");
    await cancelRollout({ db }, operator, r.id);
  });

  it("a plan changed after approval needs new approvals, and an approval of the old plan is refused", async () => {
    const r = await createRollout({ db, clock: night }, operator, prodSpec());
    await approve(approver1, r);
    await approve(approver2, r);
    const changed = await replanRollout(
      { db, clock: night },
      operator,
      r.id,
      prodSpec({ waves: ["1", "100%"] }),
    );
    expect(changed.digest).not.toBe(r.digest);
    expect(changed.state).toBe("awaiting_approval");
    await expect(approve(approver1, r)).rejects.toThrow(/plan .* changed/);
    await cancelRollout({ db }, operator, r.id);
  });

  it("a closed window blocks the start even when approved", async () => {
    const boss = await openQueue(t.url);
    try {
      const r = await createRollout({ db, clock: night }, operator, prodSpec());
      await approve(approver1, r);
      await approve(approver2, r);
      const noon = () => new Date("2026-11-27T12:00:00Z");
      await expect(startRollout({ db, boss, clock: noon }, operator, r.id)).rejects.toThrow(
        /maintenance window/,
      );
      expect((await db.rollout.findUniqueOrThrow({ where: { id: r.id } })).state).toBe("approved");
      await cancelRollout({ db }, operator, r.id);
    } finally {
      await boss.stop({ graceful: false });
    }
  });

  it("a rollout started inside the window whose steps come due after it closed is paused, not run", async () => {
    const exec = scripted();
    const r = await createRollout({ db, clock: night }, operator, prodSpec());
    await approve(approver1, r);
    await approve(approver2, r);
    await startRollout({ db, clock: night }, operator, r.id); // no queue: the first steps wait for a worker
    // The worker gets to them at 06:30 UTC, after the prod window (22:00–06:00) closed.
    const late = await startRolloutWorker({
      db,
      databaseUrl: t.url,
      executor: exec.executor,
      sweepMs: 300,
      clock: () => new Date("2026-11-27T06:30:00Z"),
    });
    try {
      const paused = await waitFor("the rollout to pause", async () => {
        const x = await db.rollout.findUniqueOrThrow({ where: { id: r.id } });
        return x.state === "paused" ? x : undefined;
      });
      expect(paused.pauseReason).toMatch(/policy at dispatch: .*maintenance window/);
      expect(exec.ran).toEqual([]);
      expect(await db.rolloutHost.count({ where: { rolloutId: r.id, state: "pending" } })).toBe(10);
    } finally {
      await late.stop();
      await cancelRollout({ db }, operator, r.id);
    }
  });
});

describe("running a rollout", () => {
  let operator: { id: string; roles: ("operator" | "approver" | "admin" | "auditor")[] };
  let worker: RolloutWorker;
  const failOn = new Set<string>();
  const exec = scripted(failOn);

  beforeAll(async () => {
    operator = await seedUser(db, "runner@example.test", ["operator"]);
    await seedHosts(db, 8, { prefix: "run", environment: "dev", app: "api", current: "2.0" });
    await seedRelease(db, "api", "2.1");
    worker = await startRolloutWorker({
      db,
      databaseUrl: t.url,
      executor: exec.executor,
      concurrency: 4,
      sweepMs: 1000,
    });
  });
  afterAll(async () => worker?.stop());

  const spec = (over: Partial<TRolloutSpec> = {}): TRolloutSpec => ({
    action: "update",
    app: "api",
    version: "2.1",
    targets: { q: "run-" },
    waves: ["1", "50%", "100%"],
    failureThreshold: 0,
    parallelism: 3,
    ...over,
  });

  it("runs dev without approval, wave by wave, each host exactly once; two starts give one run", async () => {
    const r = await createRollout({ db }, operator, spec());
    expect(r.state).toBe("approved");
    const starts = await Promise.allSettled([
      startRollout({ db, boss: worker.boss }, operator, r.id),
      startRollout({ db, boss: worker.boss }, operator, r.id),
    ]);
    expect(starts.filter((s) => s.status === "fulfilled")).toHaveLength(1);
    await waitFor(
      "rollout to succeed",
      async () => (await db.rollout.findUniqueOrThrow({ where: { id: r.id } })).state === "succeeded",
    );
    const hosts = await db.rolloutHost.findMany({ where: { rolloutId: r.id }, orderBy: { hostName: "asc" } });
    expect(hosts.map((h) => h.state)).toEqual(Array(8).fill("succeeded"));
    expect([...exec.ran].sort()).toEqual(hosts.map((h) => h.hostName));
    // The canary ran alone and first.
    expect(exec.ran[0]).toBe(hosts.find((h) => h.wave === 0)!.hostName);
    expect(
      await db.auditEvent.count({ where: { action: "rollout.host_step", target: `rollout:${r.number}` } }),
    ).toBe(8);
  });

  it("a host whose health check fails reverts, the rollout pauses at the threshold, and resuming goes on", async () => {
    exec.ran.length = 0;
    await db.installedVersion.updateMany({ where: { app: "api" }, data: { version: "2.0" } });
    const r = await createRollout({ db }, operator, spec());
    const canary = r.plan.hosts.find((h) => h.wave === 0)!.name;
    failOn.add(canary);
    await startRollout({ db, boss: worker.boss }, operator, r.id);
    const paused = await waitFor("rollout to pause", async () => {
      const x = await db.rollout.findUniqueOrThrow({ where: { id: r.id } });
      return x.state === "paused" ? x : undefined;
    });
    expect(paused.pauseReason).toMatch(/wave 1: 1 host\(s\) failed/);
    expect(exec.ran).toEqual([canary]);
    const h = await db.rolloutHost.findFirstOrThrow({ where: { rolloutId: r.id, hostName: canary } });
    expect(h.state).toBe("reverted");
    expect(h.error).toMatch(/health check failed/);
    failOn.clear();
    // Resuming acknowledges the canary's failure; the rest of the rollout goes on.
    await startRollout({ db, boss: worker.boss }, operator, r.id, "resume");
    // One host went back: every wave ran, but it is not a success.
    await waitFor(
      "rollout to finish after resume",
      async () =>
        (await db.rollout.findUniqueOrThrow({ where: { id: r.id } })).state === "finished_with_failures",
    );
    expect(await db.rolloutHost.count({ where: { rolloutId: r.id, state: "succeeded" } })).toBe(7);
    expect(exec.ran.filter((n) => n === canary)).toHaveLength(1);
  });
});
