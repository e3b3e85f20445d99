// A release's health check on real lab hosts (sshd in network namespaces, btrfs stores, keel-agent,
// the real SSH executor): 3.0 is built with an argv health check that fails only where a marker
// file exists, and one host of the first wave has it. That host must go back to 1.0 by itself,
// the other host of the wave stays on 3.0, the rollout pauses at the wave's threshold with a reason
// (the third host is not touched), and resuming finishes the rest. What is asserted about the hosts
// is read on the hosts themselves. The update travels as the 1.0 → 3.0 delta made while planning.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labExec } from "@/infra/lab/api";
import { buildRelease } from "@/server/services/releases/build-release";
import { startRollout } from "@/server/services/rollouts/control-rollout";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import type { TRolloutSpec } from "@/server/services/rollouts/types";
import { waitForRollout, type LabFleet } from "./test-support/lab-fleet";
import { setUpLabTest, type LabTest } from "./test-support/lab-test";

const LAB = "hc" + randomBytes(3).toString("hex");
const MARKER = "/etc/keel/lab-unhealthy";
let setup: LabTest | undefined;
let fleet: LabFleet;
let operator: { id: string; roles: "operator"[] };
let src: string;
let fullBytes = 0;
const servers: { host: string; pid: string }[] = [];

/** Builds `v` from a tree that changes one byte of a 2 MiB file and a small file per version. */
async function build(v: string, healthCheck?: Parameters<typeof buildRelease>[1]["healthCheck"]) {
  const big = readFileSync(join(src, "data.bin"));
  big[Number(v[0]) * 10_000]! ^= 0xff;
  writeFileSync(join(src, "data.bin"), big);
  writeFileSync(join(src, "VERSION"), `${v}\n`);
  return buildRelease(fleet.deps, { app: "web", version: v, source: { dir: src }, healthCheck });
}

/** Waits for one of the states, and for host steps already under way to end (a pause stops dispatching, not them). */
const run = (rolloutId: string, until: string[]) => waitForRollout(fleet.db, rolloutId, until);

const spec = (over: Partial<TRolloutSpec>): TRolloutSpec => ({
  action: "update",
  app: "web",
  targets: { environments: ["dev"] },
  waves: ["100%"],
  failureThreshold: 0,
  parallelism: 3,
  ...over,
});

beforeAll(async () => {
  setup = await setUpLabTest({ lab: LAB, count: 3, environment: "dev" });
  ({ fleet, operator, src } = setup);
  mkdirSync(join(src, "bin"));
  writeFileSync(join(src, "bin", "app"), "#!/bin/sh\necho web\n", { mode: 0o755 });
  writeFileSync(join(src, "data.bin"), Buffer.alloc(2 << 20, 9));
}, 900_000);

afterAll(async () => {
  for (const s of servers) await labExec(LAB, s.host, ["kill", s.pid]).catch(() => undefined);
  await setup?.teardown();
}, 300_000);

describe("a failing health check on lab hosts", () => {
  it("installs 1.0 (no health check) everywhere", async () => {
    await build("1.0");
    const r = await createRollout({ db: fleet.db, releases: fleet.deps }, operator, spec({ version: "1.0" }));
    expect(r.state).toBe("approved"); // dev needs no approval under the default policy
    await startRollout({ db: fleet.db, boss: fleet.worker.boss }, operator, r.id);
    const done = await run(r.id, ["succeeded", "finished_with_failures", "paused", "failed", "cancelled"]);
    expect(done.state, JSON.stringify(done.hosts.map((h) => [h.hostName, h.state, h.error]))).toBe(
      "succeeded",
    );
    for (const h of fleet.inv.hosts) expect((await fleet.onHost(h.name, "web")).current).toBe("1.0");
  });

  it("reverts the one host whose check fails, pauses at the wave's threshold, and resuming finishes the rest", async () => {
    await build("2.0");
    const check = { type: "exec" as const, argv: ["/usr/bin/test", "!", "-e", MARKER], timeoutMs: 20_000 };
    const built = await build("3.0", check);
    fullBytes = built.fullBytes;
    expect(built.healthCheck).toEqual(check);

    const r = await createRollout(
      { db: fleet.db, releases: fleet.deps },
      operator,
      spec({ version: "3.0", waves: ["2", "100%"], failureThreshold: 0 }),
    );
    // Hosts are in waves in name order: the first two make wave 1; the second of them is unhealthy.
    const [healthy, sick, later] = [...r.plan.hosts].sort((a, b) => a.name.localeCompare(b.name));
    expect([healthy!.wave, sick!.wave, later!.wave]).toEqual([0, 0, 1]);
    for (const h of r.plan.hosts)
      expect(h).toMatchObject({ action: "update", from: "1.0", stream: "delta", parent: "1.0" });
    const marker = await labExec(LAB, sick!.name, ["touch", MARKER]);
    expect(marker.code).toBe(0);

    await startRollout({ db: fleet.db, boss: fleet.worker.boss }, operator, r.id);
    const paused = await run(r.id, ["paused", "succeeded", "finished_with_failures", "failed", "cancelled"]);
    const row = (name: string) => paused.hosts.find((h) => h.hostName === name)!;
    expect(paused.state, JSON.stringify(paused.hosts.map((h) => [h.hostName, h.state, h.error]))).toBe(
      "paused",
    );
    expect(paused.pauseReason).toBe("wave 1: 1 host(s) failed, more than the 0 tolerated");
    expect(row(sick!.name)).toMatchObject({ state: "reverted" });
    expect(row(sick!.name).error).toMatch(/^health check failed \(exit 1\); back on 1\.0$/);
    expect(row(healthy!.name)).toMatchObject({ state: "succeeded", error: null });
    expect(row(later!.name)).toMatchObject({ state: "pending" });
    for (const name of [healthy!.name, sick!.name]) {
      expect(Number(row(name).bytesSent)).toBeGreaterThan(0);
      expect(Number(row(name).bytesSent)).toBeLessThan(fullBytes / 10);
    }

    // On the hosts themselves.
    expect((await fleet.onHost(sick!.name, "web")).current).toBe("1.0");
    expect(await fleet.onHost(healthy!.name, "web")).toEqual({ current: "3.0", previous: "1.0" });
    expect((await fleet.onHost(later!.name, "web")).current).toBe("1.0");
    // The console's inventory follows.
    const current = await fleet.db.installedVersion.findMany({
      where: { app: "web", isCurrent: true },
      select: { version: true, host: { select: { name: true } } },
    });
    expect(Object.fromEntries(current.map((c) => [c.host.name, c.version]))).toEqual({
      [healthy!.name]: "3.0",
      [sick!.name]: "1.0",
      [later!.name]: "1.0",
    });

    // The audit log has the host's step with the reason, and the pause with its reason.
    const target = `rollout:${r.number}`;
    const steps = await fleet.db.auditEvent.findMany({ where: { action: "rollout.host_step", target } });
    expect(steps.map((s) => s.detail)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          host: sick!.name,
          outcome: "reverted",
          error: "health check failed (exit 1); back on 1.0",
        }),
        expect.objectContaining({ host: healthy!.name, outcome: "succeeded" }),
      ]),
    );
    expect(steps).toHaveLength(2);
    const pause = await fleet.db.auditEvent.findFirstOrThrow({ where: { action: "rollout.pause", target } });
    expect(pause.detail).toMatchObject({ reason: "wave 1: 1 host(s) failed, more than the 0 tolerated" });
    const timeline = await fleet.db.hostEvent.findFirstOrThrow({
      where: { kind: "rollout.reverted", hostId: sick!.hostId },
    });
    expect(timeline.message).toMatch(/health check failed/);

    // Resuming accepts that failure: the third host gets 3.0 (its check passes), the reverted
    // host is left alone.
    await startRollout({ db: fleet.db, boss: fleet.worker.boss }, operator, r.id, "resume");
    const finished = await run(r.id, [
      "succeeded",
      "finished_with_failures",
      "paused",
      "failed",
      "cancelled",
    ]);
    // Every wave ran, but one host went back: not a success.
    expect(finished.state).toBe("finished_with_failures");
    expect(finished.hosts.map((h) => [h.hostName, h.state])).toEqual([
      [healthy!.name, "succeeded"],
      [sick!.name, "reverted"],
      [later!.name, "succeeded"],
    ]);
    expect((await fleet.onHost(later!.name, "web")).current).toBe("3.0");
    expect((await fleet.onHost(sick!.name, "web")).current).toBe("1.0");
  });

  it("an HTTP health check: fetched on each host, a host without the service reverts, and two failures pass a threshold of one", async () => {
    const check = {
      type: "http" as const,
      url: "http://127.0.0.1:8080/health",
      expectStatus: 200,
      timeoutMs: 10_000,
    };
    expect((await build("4.0", check)).healthCheck).toEqual(check);
    const names = fleet.inv.hosts.map((h) => h.name).sort();
    const serving = names[0]!;
    // The service the check asks for, on one host only (its own network namespace).
    const started = await labExec(LAB, serving, [
      "sh",
      "-c",
      `node -e 'require("http").createServer((q, r) => { r.statusCode = q.url === "/health" ? 200 : 404; r.end(); }).listen(8080, "127.0.0.1")' >/dev/null 2>&1 & echo $!`,
    ]);
    expect(started.code).toBe(0);
    servers.push({ host: serving, pid: started.stdout.trim() });
    for (let i = 0; ; i++) {
      const up = await labExec(LAB, serving, [
        "node",
        "-e",
        `fetch("${check.url}").then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))`,
      ]);
      if (up.code === 0) break;
      if (i > 50) throw new Error("the test's HTTP service did not come up");
      await new Promise((res) => setTimeout(res, 200));
    }
    const before = Object.fromEntries(
      await Promise.all(names.map(async (n) => [n, (await fleet.onHost(n, "web")).current] as const)),
    );

    const r = await createRollout(
      { db: fleet.db, releases: fleet.deps },
      operator,
      spec({ version: "4.0", waves: ["100%"], failureThreshold: 1 }),
    );
    await startRollout({ db: fleet.db, boss: fleet.worker.boss }, operator, r.id);
    const paused = await run(r.id, ["paused", "succeeded", "finished_with_failures", "failed", "cancelled"]);
    expect(paused.state, JSON.stringify(paused.hosts.map((h) => [h.hostName, h.state, h.error]))).toBe(
      "paused",
    );
    expect(paused.pauseReason).toBe("wave 1: 2 host(s) failed, more than the 1 tolerated");
    for (const h of paused.hosts) {
      if (h.hostName === serving) {
        expect(h.state).toBe("succeeded");
        expect((await fleet.onHost(h.hostName, "web")).current).toBe("4.0");
      } else {
        expect(h.state).toBe("reverted");
        expect(h.error).toMatch(/^health check failed \(fetch failed.*ECONNREFUSED.*\); back on /);
        expect((await fleet.onHost(h.hostName, "web")).current).toBe(before[h.hostName]);
      }
    }
  });
});
