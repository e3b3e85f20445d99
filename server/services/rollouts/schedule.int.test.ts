// Scheduled starts against real PostgreSQL, the real pg-boss queue and real rollout workers (with
// the scripted executor of rollouts.int.test.ts: the host side is not what this tests). The default
// policy's prod window is 22:00–06:00 UTC; the workers and services share a clock the test moves.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { activatePolicy } from "@/server/test/policy";
import { waitFor } from "@/server/test/wait-for";
import { seedHosts, seedRelease, seedUser } from "@/prisma/seed/fleet";
import { startRolloutWorker } from "@/server/jobs/rollouts/worker";
import type { HostExecutor } from "@/server/jobs/rollouts/executor";
import { DEFAULT_POLICY } from "@/server/services/policy/default-policy";
import { createRollout } from "./create-rollout";
import { answerRollout } from "./answer-rollout";
import { getRollout } from "./get-rollout";
import { scheduleRollout, startDueRollouts, unscheduleRollout } from "./schedule-rollout";
import type { TRolloutSpec } from "./types";

let t: TestDatabase;
let db: PrismaClient;
let now = new Date("2026-11-26T20:00:00Z"); // a Thursday evening, before the prod window opens
const clock = () => now;
type User = { id: string; roles: ("operator" | "approver" | "admin" | "auditor")[] };
let operator: User;
let approver1: User;
let approver2: User;
const ran: string[] = [];
const executor: HostExecutor = {
  async run(input, progress) {
    await progress({ step: "send", bytesSent: input.plan.bytes });
    ran.push(input.host.name);
    return { outcome: "succeeded" };
  },
};

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  operator = await seedUser(db, "op@example.test", ["operator"]);
  approver1 = await seedUser(db, "ap1@example.test", ["approver"]);
  approver2 = await seedUser(db, "ap2@example.test", ["approver"]);
  await seedHosts(db, 4, { prefix: "prod", environment: "prod", app: "web", current: "1.0" });
  await seedRelease(db, "web", "1.1");
});
afterAll(async () => {
  await db?.$disconnect();
  await t?.drop();
});

const spec: TRolloutSpec = {
  action: "update",
  app: "web",
  version: "1.1",
  targets: { environments: ["prod"] },
  waves: ["1", "100%"],
  failureThreshold: 0,
  parallelism: 4,
};

/** A prod rollout with `approvals` of the two it needs; the hosts are put back on 1.0 first. */
async function prodRollout(approvals: number) {
  await db.installedVersion.updateMany({ where: { app: "web" }, data: { version: "1.0" } });
  const r = await createRollout({ db, clock }, operator, spec);
  for (const a of [approver1, approver2].slice(0, approvals))
    await answerRollout({ db, clock }, a, { rolloutId: r.id, digest: r.digest, verdict: "approve" });
  return r;
}
const rolloutOf = (id: string) => db.rollout.findUniqueOrThrow({ where: { id } });
const worker = (id: string) =>
  startRolloutWorker({ db, databaseUrl: t.url, executor, sweepMs: 200, clock, workerId: id });

describe("scheduled starts", () => {
  it("scheduled for the next window, it gets the window's opening and starts by itself then, as the scheduler, and runs", async () => {
    now = new Date("2026-11-26T20:00:00Z");
    ran.length = 0;
    const r = await prodRollout(2);
    const s = await scheduleRollout({ db, clock }, operator, r.id, { nextWindow: true });
    expect(s.scheduledStartAt.toISOString()).toBe("2026-11-26T22:00:00.000Z");
    expect((await getRollout({ db }, r.id)).schedule).toEqual({
      at: new Date("2026-11-26T22:00:00Z"),
      by: "op@example.test",
    });
    // Not due yet: nothing starts.
    expect(await startDueRollouts({ db, clock })).toEqual([]);
    const w = await worker("w-next");
    try {
      now = new Date("2026-11-26T22:00:30Z");
      await waitFor(
        "the scheduled rollout to succeed",
        async () => (await rolloutOf(r.id)).state === "succeeded",
      );
      const done = await rolloutOf(r.id);
      expect(done.startedAt).toEqual(now);
      expect(done.scheduledStartAt).toBeNull();
      expect(done.scheduleError).toBeNull();
      expect([...ran].sort()).toEqual(["prod-000", "prod-001", "prod-002", "prod-003"]);
      const start = await db.auditEvent.findFirstOrThrow({
        where: { action: "rollout.start", target: `rollout:${r.number}` },
      });
      expect(start.actorId).toBe(operator.id);
      expect(
        await db.auditEvent.count({ where: { action: "rollout.schedule", target: `rollout:${r.number}` } }),
      ).toBe(1);
    } finally {
      await w.stop();
    }
  });

  it("a time outside the hosts' window is refused when scheduling, with the window's next opening", async () => {
    now = new Date("2026-11-27T09:00:00Z");
    const r = await prodRollout(2);
    await expect(
      scheduleRollout({ db, clock }, operator, r.id, { at: new Date("2026-11-27T12:00:00Z") }),
    ).rejects.toThrow(/prod-nights .* closed; they next open at 2026-11-27T22:00:00.000Z/);
    await expect(
      scheduleRollout({ db, clock }, operator, r.id, { at: new Date("2026-11-26T23:00:00Z") }),
    ).rejects.toThrow(/in the past/);
    expect((await rolloutOf(r.id)).scheduledStartAt).toBeNull();
  });

  it("a scheduled start that is refused (not approved yet) clears the schedule and shows and audits the reason", async () => {
    now = new Date("2026-11-27T20:00:00Z");
    const r = await prodRollout(1);
    expect(r.state).toBe("awaiting_approval");
    await scheduleRollout({ db, clock }, operator, r.id, { at: new Date("2026-11-27T23:00:00Z") });
    const w = await worker("w-refused");
    try {
      now = new Date("2026-11-27T23:00:00Z");
      const x = await waitFor("the schedule to be refused", async () => {
        const y = await rolloutOf(r.id);
        return y.scheduleError ? y : undefined;
      });
      expect(x.state).toBe("awaiting_approval");
      expect(x.scheduledStartAt).toBeNull();
      expect(x.scheduleError).toMatch(/awaiting approval; only an approved rollout can start/);
      const shown = await getRollout({ db }, r.id);
      expect(shown.schedule).toBeNull();
      expect(shown.scheduleError).toBe(x.scheduleError);
      const audit = await db.auditEvent.findFirstOrThrow({
        where: { action: "rollout.schedule_failed", target: `rollout:${r.number}` },
      });
      expect(audit.actorId).toBe(operator.id);
      expect(JSON.stringify(audit.detail)).toMatch(/awaiting approval/);
    } finally {
      await w.stop();
    }
  });

  it("unschedule clears the schedule, is audited, and the time passing then starts nothing", async () => {
    now = new Date("2026-11-28T20:00:00Z");
    const r = await prodRollout(2);
    await scheduleRollout({ db, clock }, operator, r.id, { nextWindow: true });
    await unscheduleRollout({ db, clock }, operator, r.id);
    expect(
      await db.auditEvent.count({ where: { action: "rollout.unschedule", target: `rollout:${r.number}` } }),
    ).toBe(1);
    await expect(unscheduleRollout({ db, clock }, operator, r.id)).rejects.toThrow(/has no scheduled start/);
    now = new Date("2026-11-28T23:00:00Z");
    expect(await startDueRollouts({ db, clock })).toEqual([]);
    expect((await rolloutOf(r.id)).state).toBe("approved");
  });

  it("with two workers and concurrent ticks, a due schedule is tried exactly once: one start, one refusal", async () => {
    now = new Date("2026-11-29T21:00:00Z");
    ran.length = 0;
    // One that will be refused (a refused start does not clear the schedule by itself: only the claim does).
    const unapproved = await prodRollout(0);
    await scheduleRollout({ db, clock }, operator, unapproved.id, { at: new Date("2026-11-29T22:05:00Z") });
    const r = await prodRollout(2);
    await scheduleRollout({ db, clock }, operator, r.id, { at: new Date("2026-11-29T22:10:00Z") });
    const [w1, w2] = [await worker("w-one"), await worker("w-two")];
    try {
      now = new Date("2026-11-29T22:15:00Z");
      // Besides the two workers' sweeps, four ticks at once from here.
      const ticks = (
        await Promise.all([1, 2, 3, 4].map(() => startDueRollouts({ db, boss: w1.boss, clock })))
      ).flat();
      await waitFor(
        "the scheduled rollout to succeed",
        async () => (await rolloutOf(r.id)).state === "succeeded",
      );
      expect(ticks.filter((x) => x.started).length).toBeLessThanOrEqual(1);
      expect(
        await db.auditEvent.count({ where: { action: "rollout.start", target: `rollout:${r.number}` } }),
      ).toBe(1);
      expect(
        await db.auditEvent.count({
          where: { action: "rollout.schedule_failed", target: `rollout:${r.number}` },
        }),
      ).toBe(0);
      expect(ran.length).toBe(4);
      await waitFor("the refusal", async () => (await rolloutOf(unapproved.id)).scheduleError);
      expect(await startDueRollouts({ db, clock })).toEqual([]); // nothing is left to claim
      expect(
        await db.auditEvent.count({
          where: { action: "rollout.schedule_failed", target: `rollout:${unapproved.number}` },
        }),
      ).toBe(1);
    } finally {
      await Promise.all([w1.stop(), w2.stop()]);
    }
  });

  it("'next window' is refused with the windows' names when they never open together in 14 days", async () => {
    now = new Date("2026-11-30T12:00:00Z");
    const document = {
      ...DEFAULT_POLICY,
      windows: [
        ...DEFAULT_POLICY.windows,
        {
          name: "staging-mornings",
          environments: ["staging"],
          timeZone: "UTC",
          days: ["mon" as const],
          start: "10:00",
          end: "11:00",
        },
      ],
    };
    await activatePolicy(db, document, { at: now });
    await seedHosts(db, 2, { prefix: "stg", environment: "staging", app: "web", current: "1.0" });
    const r = await createRollout({ db, clock }, operator, {
      ...spec,
      targets: { environments: ["prod", "staging"] },
    });
    await expect(scheduleRollout({ db, clock }, operator, r.id, { nextWindow: true })).rejects.toThrow(
      /maintenance windows \(prod-nights, staging-mornings\) are never open together in the next 14 days/,
    );
  });
});
