// Decisions on live facts and the approved artifact, on real lab hosts (sshd in network namespaces,
// btrfs stores, keel-agent, the real SSH executor and artifact store). What is asserted about the
// hosts is read on the hosts themselves:
// - prod hosts moved to dev for the plan and back before the start: the start is refused with the
//   reason and nothing reaches a host; planned again, approved twice, it runs.
// - the approved delta removed from the artifact store: the host fails with that reason, no full
//   stream is sent instead, the hosts keep their version.
// - the approved full stream's bytes replaced in the store (same size): the host fails, nothing sent.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedUser } from "@/prisma/seed/fleet";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { DEFAULT_POLICY } from "@/server/services/policy/default-policy";
import { setHostEnvironment } from "@/server/services/inventory/hosts/set-host-environment";
import { answerRollout } from "@/server/services/rollouts/answer-rollout";
import { cancelRollout, startRollout } from "@/server/services/rollouts/control-rollout";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import { replanRollout } from "@/server/services/rollouts/replan-rollout";
import type { TRolloutSpec } from "@/server/services/rollouts/types";
import { setUpLabFleet, waitForRollout, type LabFleet } from "./test-support/lab-fleet";
import { activatePolicy } from "@/server/test/policy";

const LAB = "ld" + randomBytes(3).toString("hex");
let t: TestDatabase;
let fleet: LabFleet;
type Person = { id: string; roles: ("admin" | "operator" | "approver" | "auditor")[] };
let operator: Person, ap1: Person, ap2: Person;
let ids: string[];

beforeAll(async () => {
  t = await createTestDatabase();
  fleet = await setUpLabFleet({ lab: LAB, count: 2, databaseUrl: t.url, environment: "prod" });
  const db = fleet.db;
  operator = await seedUser(db, "op@example.test", ["operator"]);
  ap1 = await seedUser(db, "ap1@example.test", ["approver"]);
  ap2 = await seedUser(db, "ap2@example.test", ["approver"]);
  // The default policy without its night window (the test runs at any hour), set in place.
  await activatePolicy(db, { ...DEFAULT_POLICY, windows: [] });
  ids = (await db.host.findMany({ select: { id: true }, orderBy: { name: "asc" } })).map((h) => h.id);
}, 900_000);

afterAll(async () => {
  await fleet?.teardown();
  await t?.drop();
}, 300_000);

const spec = (over: Partial<TRolloutSpec>): TRolloutSpec => ({
  action: "update",
  app: "web",
  targets: { ids },
  waves: ["1", "100%"],
  failureThreshold: 0,
  parallelism: 2,
  ...over,
});

const settle = (rolloutId: string) => waitForRollout(fleet.db, rolloutId, undefined, 180_000);
const onHosts = (app: string) => Promise.all(fleet.inv.hosts.map((h) => fleet.onHost(h.name, app)));
const approveBoth = async (r: { id: string; digest: string }) => {
  for (const a of [ap1, ap2])
    await answerRollout({ db: fleet.db }, a, { rolloutId: r.id, digest: r.digest, verdict: "approve" });
};

describe("decisions on live facts, on lab hosts", () => {
  it("prod hosts moved to dev for the plan and back before the start: refused, nothing reaches a host; replanned and approved, it runs", async () => {
    const db = fleet.db;
    await fleet.build("web", "1.0");
    await setHostEnvironment({ db }, { actorId: operator.id, hostIds: ids, environment: "dev" });
    const r = await createRollout({ db }, operator, spec({ version: "1.0" }));
    expect(r.state).toBe("approved");
    await setHostEnvironment({ db }, { actorId: operator.id, hostIds: ids, environment: "prod" });
    await expect(startRollout({ db, boss: fleet.worker.boss }, operator, r.id)).rejects.toThrow(
      new RegExp(
        `its approvals lapsed: host ${fleet.inv.hosts[0]!.name} moved from dev to prod after the plan was made`,
      ),
    );
    // The worker sweeps every 500 ms: give it a few rounds to (not) do anything.
    await new Promise((res) => setTimeout(res, 2_000));
    expect((await db.rollout.findUniqueOrThrow({ where: { id: r.id } })).state).toBe("paused");
    expect(await onHosts("web")).toEqual([
      { current: null, previous: null },
      { current: null, previous: null },
    ]);
    expect(
      await db.auditEvent.count({ where: { action: "rollout.host_step", target: `rollout:${r.number}` } }),
    ).toBe(0);

    const again = await replanRollout({ db }, operator, r.id, spec({ version: "1.0" }));
    expect(again.state).toBe("awaiting_approval");
    await approveBoth({ id: r.id, digest: again.digest });
    await startRollout({ db, boss: fleet.worker.boss }, operator, r.id);
    const done = await settle(r.id);
    expect(done.state, JSON.stringify(done.hosts.map((h) => [h.hostName, h.state, h.error]))).toBe(
      "succeeded",
    );
    expect((await onHosts("web")).map((h) => h.current)).toEqual(["1.0", "1.0"]);
  });

  it("the approved delta removed from the artifact store: the host fails with that reason, and no full stream is sent instead", async () => {
    const db = fleet.db;
    await fleet.build("web", "1.1");
    const r = await createRollout({ db, releases: fleet.deps }, operator, spec({ version: "1.1" }));
    const canary = r.plan.hosts.find((h) => h.wave === 0)!;
    expect(canary.artifact).toMatchObject({ kind: "delta", parent: "1.0", bytes: canary.bytes });
    expect(canary.artifact!.digest).toMatch(/^[0-9a-f]{64}$/);
    await approveBoth(r);
    await fleet.deps.store.delete(canary.artifact!.digest);
    await startRollout({ db, boss: fleet.worker.boss }, operator, r.id);
    const x = await settle(r.id);
    expect(x.state).toBe("paused");
    const h = x.hosts.find((y) => y.hostName === canary.name)!;
    expect(h.state).toBe("failed");
    expect(h.error).toBe(
      `artifact: the approved delta 1.0→1.1 for host ${canary.name} is gone from the artifact store; replan the rollout`,
    );
    expect(Number(h.bytesSent)).toBe(0);
    expect((await onHosts("web")).map((y) => y.current)).toEqual(["1.0", "1.0"]);
    await cancelRollout({ db }, operator, r.id);
  });

  it("the approved full stream's bytes replaced in the store: the host fails, nothing is sent", async () => {
    const db = fleet.db;
    const built = await fleet.build("api", "1.0");
    const r = await createRollout(
      { db, releases: fleet.deps },
      operator,
      spec({ app: "api", version: "1.0" }),
    );
    const canary = r.plan.hosts.find((h) => h.wave === 0)!;
    expect(canary.artifact).toMatchObject({
      kind: "full",
      parent: null,
      bytes: built.fullBytes,
      encoding: "raw",
    });
    await approveBoth(r);
    writeFileSync(fleet.deps.store.localPath(canary.artifact!.digest)!, randomBytes(built.fullBytes));
    await startRollout({ db, boss: fleet.worker.boss }, operator, r.id);
    const x = await settle(r.id);
    const h = x.hosts.find((y) => y.hostName === canary.name)!;
    expect(h.state).toBe("failed");
    expect(h.error).toMatch(
      new RegExp(
        `^artifact: the approved full stream of 1\\.0 for host ${canary.name} in the artifact store no longer has the approved SHA-256 \\(${canary.artifact!.digest.slice(0, 12)}…, found [0-9a-f]{12}…\\); replan the rollout$`,
      ),
    );
    expect(Number(h.bytesSent)).toBe(0);
    expect((await onHosts("api")).map((y) => y.current)).toEqual([null, null]);
    await cancelRollout({ db }, operator, r.id);
  });
});
