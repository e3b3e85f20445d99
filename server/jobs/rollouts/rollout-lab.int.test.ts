// Rollouts end to end on real lab hosts (sshd in network namespaces, btrfs stores, keel-agent):
// prod needs two approvers, installs run in waves, an update travels as a delta from the version the
// hosts hold, and a fleet rollback makes `previous` current on every host without sending content.
// What is asserted about the hosts is read on the hosts themselves.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedUser } from "@/prisma/seed/fleet";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { DEFAULT_POLICY } from "@/server/services/policy/default-policy";
import { answerPolicy, proposePolicy } from "@/server/services/policy/propose-policy";
import { answerRollout } from "@/server/services/rollouts/answer-rollout";
import { startRollout } from "@/server/services/rollouts/control-rollout";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import type { TRolloutSpec } from "@/server/services/rollouts/types";
import { labExec, labRekey } from "@/infra/lab/api";
import { DEFAULT_STORE, residentSocketPath } from "@/agent/protocol";
import { createSigningKey } from "@/server/services/keys/create-signing-key";
import { setUpLabFleet, type LabFleet } from "./test-support/lab-fleet";

const LAB = "ro" + randomBytes(3).toString("hex");
const RESIDENT_SOCKET = residentSocketPath(DEFAULT_STORE);

/** The resident agent's pid on one lab host (lab hosts share the machine's pid namespace, not its network one). */
async function residentPids(host: string): Promise<string[]> {
  const script =
    'for p in $(pgrep -f "keel-agent [r]esident"); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && echo $p; done; true';
  return (await labExec(LAB, host, ["sh", "-c", script])).stdout.split(/\s+/).filter(Boolean);
}
let t: TestDatabase;
let fleet: LabFleet;
type Person = { id: string; roles: ("admin" | "operator" | "approver" | "auditor")[] };
let admin: Person, operator: Person, ap1: Person, ap2: Person;

beforeAll(async () => {
  t = await createTestDatabase();
  fleet = await setUpLabFleet({ lab: LAB, count: 5, databaseUrl: t.url, environment: "prod" });
  const db = fleet.db;
  admin = await seedUser(db, "admin@example.test", ["admin"]);
  operator = await seedUser(db, "op@example.test", ["operator"]);
  ap1 = await seedUser(db, "ap1@example.test", ["approver"]);
  ap2 = await seedUser(db, "ap2@example.test", ["approver"]);
  // The default policy without its night window, so the test does not depend on the time of day;
  // the edit itself goes through approval.
  const v = await proposePolicy({ db }, admin, { ...DEFAULT_POLICY, windows: [] }, "tests run at any hour");
  expect(v.state).toBe("proposed");
  await expect(
    answerPolicy({ db }, admin, { versionId: v.id, digest: v.digest, verdict: "approve" }),
  ).rejects.toThrow(/someone else/);
  expect(
    (await answerPolicy({ db }, ap1, { versionId: v.id, digest: v.digest, verdict: "approve" })).state,
  ).toBe("active");
}, 900_000);

afterAll(async () => {
  await fleet?.teardown();
  await t?.drop();
}, 300_000);

async function runApproved(spec: TRolloutSpec, approvers: Person[]) {
  const db = fleet.db;
  const r = await createRollout({ db }, operator, spec);
  for (const a of approvers)
    await answerRollout({ db }, a, { rolloutId: r.id, digest: r.digest, verdict: "approve" });
  await startRollout({ db, boss: fleet.worker.boss }, operator, r.id);
  const end = Date.now() + 180_000;
  for (;;) {
    const x = await db.rollout.findUniqueOrThrow({ where: { id: r.id }, include: { hosts: true } });
    if (["succeeded", "finished_with_failures", "paused", "failed", "cancelled"].includes(x.state))
      return { ...x, plan: r.plan };
    if (Date.now() > end)
      throw new Error(
        `rollout ${x.number} still ${x.state}: ${JSON.stringify(x.hosts.map((h) => [h.hostName, h.state, h.step, h.error]))}`,
      );
    await new Promise((res) => setTimeout(res, 300));
  }
}

const spec = (over: Partial<TRolloutSpec>): TRolloutSpec => ({
  action: "update",
  app: "web",
  targets: { environments: ["prod"] },
  waves: ["1", "50%", "100%"],
  failureThreshold: 0,
  parallelism: 5,
  ...over,
});

describe("rollouts on lab hosts", () => {
  it("installs 1.0 on five prod hosts in waves once two other people approve", async () => {
    await fleet.build("web", "1.0");
    const r = await runApproved(spec({ version: "1.0" }), [ap1, ap2]);
    expect(
      r.state,
      `${r.pauseReason} ${JSON.stringify(r.hosts.map((h) => [h.hostName, h.state, h.step, h.error]))}`,
    ).toBe("succeeded");
    expect(r.hosts.map((h) => h.state)).toEqual(Array(5).fill("succeeded"));
    expect(r.plan.waves).toEqual([1, 2, 2]);
    for (const h of fleet.inv.hosts)
      expect(await fleet.onHost(h.name, "web")).toEqual({ current: "1.0", previous: null });
  });

  it("updates to 2.0 with a delta from 1.0, far smaller than the full stream", async () => {
    const built = await fleet.build("web", "2.0");
    const r = await runApproved(spec({ version: "2.0" }), [ap1, ap2]);
    expect(r.state).toBe("succeeded");
    for (const h of r.plan.hosts)
      expect(h).toMatchObject({ action: "update", stream: "delta", parent: "1.0" });
    for (const h of r.hosts) {
      expect(Number(h.bytesSent)).toBeGreaterThan(0);
      expect(Number(h.bytesSent)).toBeLessThan(built.fullBytes / 10);
    }
    for (const h of fleet.inv.hosts)
      expect(await fleet.onHost(h.name, "web")).toEqual({ current: "2.0", previous: "1.0" });
    // The console's inventory follows the hosts.
    const current = await fleet.db.installedVersion.findMany({
      where: { app: "web", isCurrent: true },
      select: { version: true },
    });
    expect(current.map((c) => c.version)).toEqual(Array(5).fill("2.0"));
  });

  it("rolls the fleet back with one approver, sending no content, through the agents left resident", async () => {
    // The earlier steps left a resident agent on every host, reachable only by root; one of them is
    // killed here: that host's step starts `serve` as before and leaves a new one behind.
    const [killed, ...others] = fleet.inv.hosts.map((h) => h.name);
    for (const h of fleet.inv.hosts)
      expect((await labExec(LAB, h.name, ["stat", "-c", "%a %U", RESIDENT_SOCKET])).stdout.trim()).toBe(
        "600 root",
      );
    expect(await residentPids(killed!)).toHaveLength(1);
    await labExec(LAB, killed!, ["kill", "-KILL", ...(await residentPids(killed!))]);
    const r = await runApproved(spec({ action: "rollback", version: undefined, waves: ["100%"] }), [ap2]);
    expect(r.state).toBe("succeeded");
    expect(r.requiredApprovals).toBe(1);
    expect(r.hosts.map((h) => Number(h.bytesSent))).toEqual(Array(5).fill(0));
    for (const h of fleet.inv.hosts) expect((await fleet.onHost(h.name, "web")).current).toBe("1.0");
    const steps = await fleet.db.auditEvent.findMany({
      where: { action: "rollout.host_step", target: `rollout:${r.number}` },
      select: { detail: true },
    });
    expect(steps).toHaveLength(5);
    const how = (host: string) =>
      JSON.stringify(steps.find((st) => (st.detail as { host?: string }).host === host)?.detail);
    expect(how(killed!)).toContain("serve (agent digest matched)");
    for (const h of others) expect(how(h)).toContain("resident agent (digest matched)");
    await expect.poll(() => residentPids(killed!), { timeout: 5_000 }).toHaveLength(1);
  });

  it("after a key rotation, installs the new signing key on each host before sending a release it signed", async () => {
    const rotated = await createSigningKey(fleet.deps, { name: "rotated" });
    const keyFile = `/etc/keel/trusted.d/${rotated.keyId}.pub`;
    for (const h of fleet.inv.hosts)
      expect((await labExec(LAB, h.name, ["test", "-e", keyFile])).code).toBe(1);
    await fleet.build("web", "3.0");
    const m = await fleet.db.release.findUniqueOrThrow({
      where: { app_version: { app: "web", version: "3.0" } },
      select: { manifest: true },
    });
    expect(JSON.parse(m.manifest).signer).toBe(rotated.keyId);
    const r = await runApproved(spec({ version: "3.0" }), [ap1, ap2]);
    expect(r.state, JSON.stringify(r.hosts.map((h) => [h.hostName, h.state, h.error]))).toBe("succeeded");
    for (const h of fleet.inv.hosts) {
      expect((await fleet.onHost(h.name, "web")).current).toBe("3.0");
      expect((await labExec(LAB, h.name, ["test", "-s", keyFile])).code).toBe(0);
    }
    const steps = await fleet.db.auditEvent.findMany({
      where: { action: "rollout.host_step", target: `rollout:${r.number}` },
      select: { detail: true },
    });
    // In the order they ran: the key goes in after the facts that showed it missing, before the stream.
    for (const st of steps)
      expect((st.detail as { commands: string[] }).commands.slice(1)).toEqual([
        "facts",
        `install-key ${rotated.keyId}`,
        "receive",
        "activate",
        "facts",
      ]);
  });

  it("a host that presents another SSH host key during a step fails that step and is flagged and audited once (which notifies)", async () => {
    const victim = fleet.inv.hosts[4]!;
    const { fingerprint } = await labRekey(LAB, victim.name);
    // Connections opened before the re-key stay authenticated; the next one meets the new key.
    await fleet.pool.closeIdle();
    const r = await runApproved(
      spec({ action: "rollback", version: undefined, waves: ["100%"], failureThreshold: 1 }),
      [ap2],
    );
    const step = r.hosts.find((h) => h.hostName === victim.name)!;
    expect(step).toMatchObject({ state: "failed", step: "connect" });
    expect(step.error).toMatch(/host key of .* changed/);
    for (const h of r.hosts.filter((x) => x.hostName !== victim.name)) expect(h.state).toBe("succeeded");
    expect((await fleet.onHost(victim.name, "web")).current).toBe("3.0");
    const host = await fleet.db.host.findFirstOrThrow({ where: { name: victim.name } });
    expect(host).toMatchObject({ hostKeyChanged: true, presentedKeyFingerprint: fingerprint });
    const flagged = () =>
      fleet.db.auditEvent.count({ where: { action: "host.key_changed", target: `host:${victim.name}` } });
    expect(await flagged()).toBe(1);
    expect(await fleet.db.hostEvent.count({ where: { hostId: host.id, kind: "host.key_changed" } })).toBe(1);
    // The next plan leaves the host out until an admin re-pins the key.
    const next = await createRollout({ db: fleet.db }, operator, spec({ version: "2.0" }));
    expect(next.plan.hosts.find((h) => h.hostId === host.id)).toMatchObject({ excluded: "key-changed" });
  });
});
