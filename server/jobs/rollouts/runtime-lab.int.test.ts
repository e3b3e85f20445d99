// Runtimes shared by apps on real lab hosts (sshd in network namespaces, btrfs stores, keel-agent,
// the real SSH executor; decision 0023). The runtime `rt` and the app `svc` are built on the
// console; `svc` requires `rt` by range. What is asserted about the hosts is read on the hosts.
//   1. rt 1.0 alone; then svc 1.0 (needs ~1.5) installs rt 1.5 and itself in one rollout.
//   2. svc 1.1 (needs >=1.6 <2) moves rt to 1.6 with it, although svc 1.0 did not accept 1.6.
//   3. Rolling svc back to 1.0 is refused (rt 1.6 is outside ~1.5); rt 2.0 is refused
//      (REQUIREMENT_UNMET) and changes nothing; rt 1.7 lists svc as affected and goes through.
//   4. gc keeps rt 1.5 (svc's previous version needs it) and removes rt 1.0; remove refuses 1.5.
//   5. svc 1.2, then a fleet rollback of svc back to 1.1 works.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labExec } from "@/infra/lab/api";
import { buildRelease } from "@/server/services/releases/build-release";
import { listApps } from "@/server/services/inventory/list-apps";
import { listHosts } from "@/server/services/inventory/list-hosts";
import { listRuntimes } from "@/server/services/inventory/list-runtimes";
import { startRollout } from "@/server/services/rollouts/control-rollout";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import type { TRolloutSpec } from "@/server/services/rollouts/types";
import { DEFAULT_AGENT_PATH } from "@/server/ssh/target";
import { waitForRollout, type LabFleet } from "./test-support/lab-fleet";
import { setUpLabTest, type LabTest } from "./test-support/lab-test";

const LAB = "rt" + randomBytes(3).toString("hex");
let setup: LabTest | undefined;
let fleet: LabFleet;
let operator: { id: string; roles: "operator"[] };
let src: string;

async function build(app: "rt" | "svc", version: string, requires?: string) {
  const dir = join(src, app);
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(join(dir, "bin", app), `#!/bin/sh\necho ${app} ${version}\n`, { mode: 0o755 });
  writeFileSync(join(dir, "VERSION"), `${version}\n`);
  return buildRelease(fleet.deps, {
    app,
    version,
    kind: app === "rt" ? "runtime" : "app",
    source: { dir },
    requires,
  });
}

const run = (rolloutId: string) => waitForRollout(fleet.db, rolloutId);

const spec = (over: Partial<TRolloutSpec>): TRolloutSpec => ({
  action: "update",
  app: "svc",
  targets: { environments: ["dev"] },
  waves: ["100%"],
  failureThreshold: 0,
  parallelism: 2,
  ...over,
});

async function rollOut(over: Partial<TRolloutSpec>) {
  const r = await createRollout({ db: fleet.db, releases: fleet.deps }, operator, spec(over));
  expect(r.state).toBe("approved"); // dev needs no approval under the default policy
  await startRollout({ db: fleet.db, boss: fleet.worker.boss }, operator, r.id);
  const done = await run(r.id);
  expect(done.state, JSON.stringify(done.hosts.map((h) => [h.hostName, h.state, h.error]))).toBe("succeeded");
  return r;
}

/** current/previous of apps/<name> or runtimes/<name>, and the installed versions, read on the host. */
async function onHost(host: string, section: "apps" | "runtimes", name: string) {
  const read = async (link: string) => {
    const r = await labExec(LAB, host, ["readlink", `/var/lib/keel/${section}/${name}/${link}`]);
    return r.code === 0 ? r.stdout.trim() : null;
  };
  const ls = await labExec(LAB, host, ["ls", `/var/lib/keel/${section}/${name}`]);
  const versions = ls.stdout
    .split("\n")
    .filter((v) => /^\d/.test(v))
    .sort();
  return { current: await read("current"), previous: await read("previous"), versions };
}

const agent = (host: string, args: string[]) => labExec(LAB, host, ["node", DEFAULT_AGENT_PATH, ...args]);
const hosts = () => fleet.inv.hosts.map((h) => h.name);

beforeAll(async () => {
  setup = await setUpLabTest({ lab: LAB, count: 2, environment: "dev" });
  ({ fleet, operator, src } = setup);
}, 900_000);

afterAll(async () => {
  await setup?.teardown();
}, 300_000);

describe("runtimes shared by apps, on lab hosts", () => {
  it("installs an app and the runtime it requires in one rollout", async () => {
    for (const v of ["1.0", "1.5", "1.6", "2.0"]) await build("rt", v); // 1.7 comes later
    const s10 = await build("svc", "1.0", "rt@~1.5");
    await build("svc", "1.1", "rt@>=1.6 <2");
    await build("svc", "1.2", "rt@>=1.6 <2");
    expect(
      JSON.parse(
        (await fleet.db.release.findFirstOrThrow({ where: { app: "svc", version: "1.0" } })).manifest,
      ).requires,
    ).toEqual([{ runtime: "rt", versions: "~1.5" }]);
    expect(s10.version).toBe("1.0");

    // A runtime's rollout: into runtimes/ on the host, not apps/.
    const first = await rollOut({ app: "rt", version: "1.0" });
    expect(first.plan.kind).toBe("runtime");
    expect(first.plan.affects).toEqual([]);
    for (const h of hosts()) {
      expect(await onHost(h, "runtimes", "rt")).toMatchObject({ current: "1.0", previous: null });
      expect((await labExec(LAB, h, ["test", "-e", "/var/lib/keel/apps/rt"])).code).not.toBe(0);
    }

    // An app whose range nothing satisfies is refused, naming host, app, runtime, range and what exists.
    await build("svc", "9.0", "rt@^3");
    await expect(
      createRollout({ db: fleet.db, releases: fleet.deps }, operator, spec({ version: "9.0" })),
    ).rejects.toThrow(
      /host \S+: svc 9\.0 requires runtime rt \^3; the host has rt 1\.0; the console holds rt 1\.0, 1\.5, 1\.6, 2\.0/,
    );

    const r = await rollOut({ version: "1.0" });
    for (const h of r.plan.hosts) {
      expect(h).toMatchObject({ action: "install", to: "1.0" });
      expect(h.runtimes).toEqual([
        expect.objectContaining({ runtime: "rt", versions: "~1.5", from: "1.0", to: "1.5" }),
      ]);
      expect(h.runtimes![0]!.bytes).toBeGreaterThan(0);
    }
    for (const h of hosts()) {
      expect(await onHost(h, "runtimes", "rt")).toMatchObject({ current: "1.5", previous: "1.0" });
      expect(await onHost(h, "apps", "svc")).toMatchObject({ current: "1.0" });
    }
    // The inventory has the runtime as a runtime, and the Runtimes view says who uses it.
    const rows = await fleet.db.installedVersion.findMany({
      where: { app: "rt", isCurrent: true },
      select: { version: true, kind: true },
    });
    expect(rows).toEqual([
      { version: "1.5", kind: "runtime" },
      { version: "1.5", kind: "runtime" },
    ]);
    const [view] = await listRuntimes({ db: fleet.db });
    expect(view).toMatchObject({
      runtime: "rt",
      hosts: 2,
      versions: [{ version: "1.5", hosts: 2 }],
      drift: true,
      newestRelease: "2.0",
    });
    expect(view!.usedBy).toEqual([{ app: "svc", version: "1.0", versions: "~1.5", hosts: 2, unmet: 0 }]);
    // The Apps page and the hosts list count apps only: the runtime is not an app of its own.
    expect(await listApps({ db: fleet.db })).toEqual([{ app: "svc", hosts: 2, versions: 1 }]);
    const page = await listHosts({ db: fleet.db }, {});
    expect(page.rows.map((h) => h.appCount)).toEqual([1, 1]);
  });

  it("moves an app and its runtime together when the old version would not accept the new runtime", async () => {
    const r = await rollOut({ version: "1.1" });
    for (const h of r.plan.hosts)
      expect(h.runtimes).toEqual([expect.objectContaining({ from: "1.5", to: "1.6" })]);
    for (const h of hosts()) {
      expect(await onHost(h, "runtimes", "rt")).toMatchObject({ current: "1.6", previous: "1.5" });
      expect(await onHost(h, "apps", "svc")).toMatchObject({ current: "1.1", previous: "1.0" });
    }
  });

  it("refuses a runtime update or an app rollback that would break a range, and changes nothing", async () => {
    const before = await fleet.db.rollout.count();
    const refused = (over: Partial<TRolloutSpec>) =>
      createRollout({ db: fleet.db, releases: fleet.deps }, operator, spec(over)).then(
        () => null,
        (e: unknown) => e as { code: string; message: string },
      );
    const back = await refused({ action: "rollback", version: undefined });
    expect(back?.code).toBe("REQUIREMENT_UNMET");
    expect(back?.message).toMatch(
      /^rolling svc back would leave it without its runtime: host \S+: svc 1\.0 requires runtime rt ~1\.5, and the host has rt 1\.6/,
    );
    const rt2 = await refused({ app: "rt", version: "2.0" });
    expect(rt2?.code).toBe("REQUIREMENT_UNMET");
    expect(rt2?.message).toMatch(
      /^runtime rt 2\.0 would break installed apps .*: host \S+: svc 1\.1 requires rt >=1\.6 <2, and 2\.0 is outside it/,
    );
    expect(await fleet.db.rollout.count()).toBe(before);
    for (const h of hosts())
      expect(await onHost(h, "runtimes", "rt")).toMatchObject({
        current: "1.6",
        versions: ["1.0", "1.5", "1.6"],
      });

    // The agent refuses it too, whatever the console planned: 1.7 is fine for svc, the check is
    // the same for any target; here activating the installed 1.0 (outside svc 1.1's range).
    const direct = await agent(hosts()[0]!, ["activate", "rt", "1.0", "--rollback", "--kind", "runtime"]);
    expect(direct.code).toBe(1);
    expect(JSON.parse(direct.stdout).error).toMatchObject({
      code: "REQUIREMENT_UNMET",
      message: expect.stringMatching(/svc 1\.1 needs >=1\.6 <2/),
    });
    expect(await onHost(hosts()[0]!, "runtimes", "rt")).toMatchObject({ current: "1.6" });

    await build("rt", "1.7");
    const ok = await rollOut({ app: "rt", version: "1.7" });
    expect(ok.plan.affects).toEqual([{ app: "svc", version: "1.1", versions: ">=1.6 <2", hosts: 2 }]);
    for (const h of ok.plan.hosts) expect(h).toMatchObject({ kind: "runtime", from: "1.6", to: "1.7" });
    for (const h of hosts())
      expect(await onHost(h, "runtimes", "rt")).toMatchObject({ current: "1.7", previous: "1.6" });
  });

  it("gc keeps a runtime version an installed app needs", async () => {
    const h = hosts()[0]!;
    const gc = await agent(h, ["gc", "--keep", "2"]);
    expect(gc.code, gc.stdout + gc.stderr).toBe(0);
    // rt 1.7 current, 1.6 previous, 1.5 needed by svc's previous version 1.0 (~1.5): only 1.0 goes.
    expect(JSON.parse(gc.stdout).removed).toEqual([{ app: "rt", version: "1.0", kind: "runtime" }]);
    expect((await onHost(h, "runtimes", "rt")).versions).toEqual(["1.5", "1.6", "1.7"]);
    const rm = await agent(h, ["remove", "rt", "1.5", "--kind", "runtime"]);
    expect(JSON.parse(rm.stdout).error).toMatchObject({
      code: "IN_USE",
      message: "runtime rt 1.5 is needed by svc 1.0 and cannot be removed",
    });
    expect((await onHost(h, "runtimes", "rt")).versions).toEqual(["1.5", "1.6", "1.7"]);
  });

  it("rolls the app back", async () => {
    const up = await rollOut({ version: "1.2" });
    for (const h of up.plan.hosts) expect(h.runtimes).toBeUndefined(); // rt 1.7 satisfies it already
    await rollOut({ action: "rollback", version: undefined });
    for (const h of hosts()) {
      expect(await onHost(h, "apps", "svc")).toMatchObject({ current: "1.1", previous: "1.2" });
      expect(await onHost(h, "runtimes", "rt")).toMatchObject({ current: "1.7" });
    }
  });
});
