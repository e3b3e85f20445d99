// Decisions rest on the hosts' facts as they are now (real PostgreSQL, real pg-boss, the real inventory
// services that move hosts): an environment, label or group change after the plan makes its
// approvals lapse — at approve, at start and before any host of a later wave is dispatched — with a
// reason naming the host and what changed, audited; nothing more is run until it is planned again.
// The host side is the HostExecutor seam, recording what it ran; the same checks against real lab
// hosts (asserting on their disks) are in server/jobs/rollouts/live-decision-lab.int.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { seedHosts, seedRelease, seedUser } from "@/prisma/seed/fleet";
import { startRolloutWorker } from "@/server/jobs/rollouts/worker";
import type { HostExecutor } from "@/server/jobs/rollouts/executor";
import { setHostEnvironment } from "@/server/services/inventory/hosts/set-host-environment";
import { setHostLabels } from "@/server/services/inventory/hosts/set-host-labels";
import { saveGroup } from "@/server/services/inventory/hosts/save-group";
import { setGroupMembers } from "@/server/services/inventory/hosts/set-group-members";
import { answerRollout } from "./answer-rollout";
import { cancelRollout, resumeRollout, startRollout } from "./control-rollout";
import { createRollout } from "./create-rollout";
import { replanRollout } from "./replan-rollout";
import type { TRolloutSpec } from "./types";

let t: TestDatabase;
let db: PrismaClient;
type Person = { id: string; roles: ("operator" | "approver" | "admin" | "auditor")[] };
let operator: Person, ap1: Person, ap2: Person;
const night = () => new Date("2026-11-26T23:00:00Z"); // inside the default prod window

beforeAll(async () => {
  t = await createTestDatabase();
  db = createDb(t.url);
  operator = await seedUser(db, "op@example.test", ["operator"]);
  ap1 = await seedUser(db, "ap1@example.test", ["approver"]);
  ap2 = await seedUser(db, "ap2@example.test", ["approver"]);
  await seedRelease(db, "web", "2.0");
});
afterAll(async () => {
  await db?.$disconnect();
  await t?.drop();
});

const spec = (prefix: string, over: Partial<TRolloutSpec> = {}): TRolloutSpec => ({
  action: "update",
  app: "web",
  version: "2.0",
  targets: { q: `${prefix}-` },
  waves: ["1", "100%"],
  failureThreshold: 0,
  parallelism: 5,
  ...over,
});
const rollout = (id: string) => db.rollout.findUniqueOrThrow({ where: { id } });
const audits = async (action: string, n: number) =>
  (await db.auditEvent.findMany({ where: { action, target: `rollout:${n}` }, orderBy: { id: "asc" } })).map(
    (a) => a.detail as Record<string, unknown>,
  );

describe("decisions on live facts", () => {
  it("hosts moved to dev for the plan and back to prod before the start: the start is refused, the approvals lapse, nothing runs", async () => {
    const hosts = await seedHosts(db, 3, { prefix: "flip", environment: "prod", app: "web", current: "1.0" });
    const ids = hosts.map((h) => h.id);
    await setHostEnvironment({ db }, { actorId: operator.id, hostIds: ids, environment: "dev" });
    const r = await createRollout({ db, clock: night }, operator, spec("flip"));
    expect(r.state).toBe("approved"); // dev needs no approval
    expect(r.plan.hosts.map((h) => h.environment)).toEqual(["dev", "dev", "dev"]);
    await setHostEnvironment({ db }, { actorId: operator.id, hostIds: ids, environment: "prod" });

    await expect(startRollout({ db, clock: night }, operator, r.id)).rejects.toThrow(
      /cannot start now: its approvals lapsed: host flip-000 moved from dev to prod after the plan was made; host flip-001 moved/,
    );
    const x = await rollout(r.id);
    expect(x.state).toBe("paused");
    expect(x.startedAt).toBeNull();
    expect(x.lapseReason).toMatch(/^host flip-000 moved from dev to prod after the plan was made/);
    expect(x.pauseReason).toMatch(/^approvals lapsed: host flip-000 moved from dev to prod/);
    expect(await db.rolloutHost.count({ where: { rolloutId: r.id, state: "pending" } })).toBe(3);
    const [lapse] = await audits("rollout.lapse", r.number);
    expect(lapse).toMatchObject({ digest: r.digest, found: "start", approvals: [] });
    expect(lapse!.changes).toHaveLength(3);
    expect(await audits("rollout.start_refused", r.number)).toHaveLength(1);

    // Moving the hosts back to dev does not revive the old decision; neither resume nor approve works.
    await setHostEnvironment({ db }, { actorId: operator.id, hostIds: ids, environment: "dev" });
    await expect(resumeRollout({ db, clock: night }, operator, r.id)).rejects.toThrow(
      /approvals lapsed \(host flip-000 moved/,
    );
    await setHostEnvironment({ db }, { actorId: operator.id, hostIds: ids, environment: "prod" });
    await expect(
      answerRollout({ db, clock: night }, ap1, { rolloutId: r.id, digest: r.digest, verdict: "approve" }),
    ).rejects.toThrow(/lapsed: host flip-000 moved from dev to prod/);
    // The way forward: plan again, on prod as it is now: two approvals.
    const again = await replanRollout({ db, clock: night }, operator, r.id, spec("flip"));
    expect(again.state).toBe("awaiting_approval");
    const y = await rollout(r.id);
    expect([y.requiredApprovals, y.lapseReason, y.pauseReason]).toEqual([2, null, null]);
    await cancelRollout({ db }, operator, r.id);
  });

  it("a label change after one approval: the next approval is refused and the first no longer counts", async () => {
    const hosts = await seedHosts(db, 2, {
      prefix: "lbl",
      environment: "prod",
      app: "web",
      current: "1.0",
      labels: { tier: "a" },
    });
    const r = await createRollout({ db, clock: night }, operator, spec("lbl"));
    expect(r.plan.hosts[0]!.labels).toEqual({ tier: "a" });
    await answerRollout({ db, clock: night }, ap1, { rolloutId: r.id, digest: r.digest, verdict: "approve" });
    await setHostLabels({ db }, { actorId: operator.id, hostIds: [hosts[1]!.id], set: { tier: "b" } });
    await expect(
      answerRollout({ db, clock: night }, ap2, { rolloutId: r.id, digest: r.digest, verdict: "approve" }),
    ).rejects.toThrow(/lapsed: host lbl-001's labels changed from tier=a to tier=b after approval/);
    const x = await rollout(r.id);
    expect([x.state, x.lapseReason]).toEqual([
      "paused",
      "host lbl-001's labels changed from tier=a to tier=b after approval",
    ]);
    expect((await audits("rollout.lapse", r.number))[0]).toMatchObject({
      approvals: [ap1.id],
      found: "approve",
    });
    expect(await db.approval.count({ where: { subjectId: r.id, approverId: ap2.id } })).toBe(0);
    await expect(startRollout({ db, clock: night }, operator, r.id)).rejects.toThrow(
      /only an approved rollout can start/,
    );
    await cancelRollout({ db }, operator, r.id);
  });

  it("a host joining a group after the rollout was approved: the start is refused with the group named", async () => {
    const hosts = await seedHosts(db, 2, { prefix: "grp", environment: "prod", app: "web", current: "1.0" });
    const r = await createRollout({ db, clock: night }, operator, spec("grp"));
    for (const a of [ap1, ap2])
      await answerRollout({ db, clock: night }, a, { rolloutId: r.id, digest: r.digest, verdict: "approve" });
    expect((await rollout(r.id)).state).toBe("approved");
    const g = await saveGroup({ db }, { actorId: operator.id, name: "payments", kind: "static" });
    await setGroupMembers({ db }, { actorId: operator.id, groupId: g.id, add: [hosts[0]!.id] });
    await expect(startRollout({ db, clock: night }, operator, r.id)).rejects.toThrow(
      /lapsed: host grp-000 joined group payments after approval/,
    );
    expect((await audits("rollout.lapse", r.number))[0]).toMatchObject({
      approvals: expect.arrayContaining([ap1.id, ap2.id]),
    });
    await cancelRollout({ db }, operator, r.id);
  });

  it("a host changed while wave 1 runs: the rollout pauses before wave 2 with the reason, no wave-2 host is run", async () => {
    const hosts = await seedHosts(db, 4, { prefix: "wave", environment: "dev", app: "web", current: "1.0" });
    const ran: string[] = [];
    let moved = "";
    const executor: HostExecutor = {
      async run(input) {
        ran.push(input.host.name);
        // While the canary runs, someone moves a wave-2 host to prod.
        const other = hosts.find((h) => h.name !== input.host.name)!;
        moved = other.name;
        await setHostEnvironment({ db }, { actorId: operator.id, hostIds: [other.id], environment: "prod" });
        return { outcome: "succeeded" };
      },
    };
    const worker = await startRolloutWorker({
      db,
      databaseUrl: t.url,
      executor,
      concurrency: 4,
      sweepMs: 300,
    });
    try {
      const r = await createRollout({ db }, operator, spec("wave"));
      expect(r.state).toBe("approved");
      await startRollout({ db, boss: worker.boss }, operator, r.id);
      const end = Date.now() + 30_000;
      // Until it stopped and every step claimed meanwhile has handed its host back.
      const busy = () =>
        db.rolloutHost.count({ where: { rolloutId: r.id, state: { in: ["queued", "running"] } } });
      while (((await rollout(r.id)).state === "running" || (await busy()) > 0) && Date.now() < end)
        await new Promise((ok) => setTimeout(ok, 200));
      const x = await rollout(r.id);
      expect(x.state).toBe("paused");
      expect(x.pauseReason).toBe(
        `approvals lapsed: host ${moved} moved from dev to prod after the plan was made; plan the rollout again`,
      );
      expect(ran).toHaveLength(1);
      const states = await db.rolloutHost.findMany({
        where: { rolloutId: r.id },
        select: { wave: true, state: true },
      });
      expect(states.filter((s) => s.wave === 1).map((s) => s.state)).toEqual([
        "pending",
        "pending",
        "pending",
      ]);
      expect((await audits("rollout.lapse", r.number))[0]!.found).toMatch(/^dispatch of wave-/);
      // Started rollouts are not planned again in place: they are cancelled (and a new one made).
      await expect(replanRollout({ db }, operator, r.id, spec("wave"))).rejects.toThrow(
        /cancel it and create a new one/,
      );
      await cancelRollout({ db }, operator, r.id);
    } finally {
      await worker.stop();
    }
  });
});
