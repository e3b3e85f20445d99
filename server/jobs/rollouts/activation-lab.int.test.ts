// Activation hooks and exports on real lab hosts (sshd in network namespaces, btrfs stores, the real
// SSH executor), with the worked example infra/lab/examples/hello (docs/activation.md): each update
// makes the new version answer without anyone touching the host (its onActivate restarts the
// service through the example's supervisor), a fleet rollback makes the old one answer again (the
// old version's hook ran), a hook that fails sends the host back (and the old hook runs), and
// hostile manifests — an export outside the allow-list, an export through a symlink out of the
// tree, a root hook the policy forbids — are refused with a clear error and change nothing.
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labExec } from "@/infra/lab/api";
import { DEFAULT_POLICY } from "@/server/services/policy/default-policy";
import { buildRelease } from "@/server/services/releases/build-release";
import { startRollout } from "@/server/services/rollouts/control-rollout";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import type { TRolloutSpec } from "@/server/services/rollouts/types";
import { waitForRollout, type LabFleet } from "./test-support/lab-fleet";
import { setUpLabTest, type LabTest } from "./test-support/lab-test";
import { activatePolicy } from "@/server/test/policy";

const LAB = "ah" + randomBytes(3).toString("hex");
const EXAMPLE = join(process.cwd(), "infra/lab/examples/hello/tree");
const HOOK = { argv: ["bin/restart"], timeoutMs: 30_000 };
const EXPORTS = [
  { from: "hello.service", dir: "/etc/systemd/system" },
  { from: "bin/hello", dir: "/usr/local/bin" },
];
const HEALTH = {
  type: "http" as const,
  url: "http://127.0.0.1:8080/health",
  expectStatus: 200,
  timeoutMs: 5_000,
};
let setup: LabTest | undefined;
let fleet: LabFleet;
let operator: { id: string; roles: "operator"[] };
let src: string;
let hostNames: string[] = [];

async function build(
  v: string,
  o: { onActivate?: object; exports?: object[]; tweak?: (dir: string) => void } = {},
) {
  rmSync(src, { recursive: true, force: true });
  cpSync(EXAMPLE, src, { recursive: true });
  writeFileSync(join(src, "VERSION"), `${v}\n`);
  o.tweak?.(src);
  const activation = { onActivate: o.onActivate ?? HOOK, exports: o.exports ?? EXPORTS };
  return buildRelease(fleet.deps, {
    app: "hello",
    version: v,
    source: { dir: src },
    healthCheck: HEALTH,
    activation,
  });
}

const run = (rolloutId: string) =>
  waitForRollout(fleet.db, rolloutId, ["succeeded", "finished_with_failures", "paused", "failed"]);

async function roll(action: "update" | "rollback", version?: string) {
  const spec: TRolloutSpec = {
    action,
    app: "hello",
    ...(version ? { version } : {}),
    targets: { environments: ["dev"] },
    waves: ["100%"],
    failureThreshold: 100,
    parallelism: 2,
  };
  const r = await createRollout({ db: fleet.db, releases: fleet.deps }, operator, spec);
  await startRollout({ db: fleet.db, boss: fleet.worker.boss }, operator, r.id);
  return run(r.id);
}

/** What the service on a host answers (its own network namespace), as a user would ask it. */
const answer = async (host: string) =>
  (await labExec(LAB, host, ["curl", "-fsS", "http://127.0.0.1:8080/"])).stdout.trim();
const readlink = async (host: string, p: string) => {
  const r = await labExec(LAB, host, ["readlink", p]);
  return r.code === 0 ? r.stdout.trim() : null;
};

beforeAll(async () => {
  setup = await setUpLabTest({ lab: LAB, count: 2, environment: "dev" });
  ({ fleet, operator, src } = setup);
  hostNames = (await fleet.db.host.findMany({ select: { name: true }, orderBy: { name: "asc" } })).map(
    (h) => h.name,
  );
}, 900_000);

afterAll(async () => {
  // The example's supervisors and servers run as keel-check; stop them by their recorded pids.
  for (const h of hostNames) {
    const pid = (f: string) => {
      try {
        return Number(readFileSync(`/tmp/keel-hello-${h}/${f}`, "utf8").trim());
      } catch {
        return 0;
      }
    };
    for (const f of ["supervise.pid", "server.pid"]) {
      const p = pid(f);
      if (p > 1) {
        try {
          process.kill(p, "SIGTERM");
        } catch {
          /* gone */
        }
      }
    }
    rmSync(`/tmp/keel-hello-${h}`, { recursive: true, force: true });
  }
  await setup?.teardown();
}, 300_000);

const states = (x: Awaited<ReturnType<typeof run>>) =>
  JSON.stringify(x.hosts.map((h) => [h.hostName, h.state, h.error]));

describe("activation hooks and exports on lab hosts (the hello example)", () => {
  it("installs 1.0: the hook starts the service, exports link through current, facts report them", async () => {
    await build("1.0");
    const done = await roll("update", "1.0");
    expect(done.state, states(done)).toBe("succeeded");
    for (const h of hostNames) {
      expect(await answer(h)).toBe("hello 1.0");
      expect(await readlink(h, "/etc/systemd/system/hello.service")).toBe(
        "/var/lib/keel/apps/hello/current/hello.service",
      );
      expect((await labExec(LAB, h, ["/usr/local/bin/hello"])).stdout.trim()).toBe("hello 1.0");
      const facts = JSON.parse(
        (await labExec(LAB, h, ["node", "/usr/local/lib/keel/keel-agent.mjs", "facts"])).stdout,
      ) as { apps: { app: string; exports?: unknown }[] };
      expect(facts.apps.find((a) => a.app === "hello")?.exports).toEqual([
        {
          path: "/etc/systemd/system/hello.service",
          target: "/var/lib/keel/apps/hello/current/hello.service",
        },
        { path: "/usr/local/bin/hello", target: "/var/lib/keel/apps/hello/current/bin/hello" },
      ]);
    }
    // The lab's export directories are the hosts' own: the machine's are untouched.
    expect(existsSync("/etc/systemd/system/hello.service")).toBe(false);
    expect(existsSync("/usr/local/bin/hello")).toBe(false);
  });

  it("updating to 2.0 makes 2.0 answer, with nobody touching the hosts", async () => {
    await build("2.0");
    const done = await roll("update", "2.0");
    expect(done.state, states(done)).toBe("succeeded");
    for (const h of hostNames) {
      expect(await answer(h)).toBe("hello 2.0");
      expect((await labExec(LAB, h, ["/usr/local/bin/hello"])).stdout.trim()).toBe("hello 2.0");
    }
  });

  it("a fleet rollback makes 1.0 answer again: the old version's hook ran", async () => {
    const done = await roll("rollback");
    expect(done.state, states(done)).toBe("succeeded");
    for (const h of hostNames) {
      expect((await fleet.onHost(h, "hello")).current).toBe("1.0");
      expect(await answer(h)).toBe("hello 1.0");
    }
  });

  it("a failing hook is a failed step: the host goes back to 1.0 and 1.0's hook makes it answer", async () => {
    // 3.0's server does not start: its hook waits for it in vain and exits 1.
    await build("3.0", {
      tweak: (d) => writeFileSync(join(d, "server.mjs"), 'throw new Error("hello 3.0 is broken");\n'),
    });
    const done = await roll("update", "3.0");
    for (const h of done.hosts) {
      expect(h.state, `${h.hostName}: ${h.error}`).toBe("reverted");
      expect(h.error).toMatch(
        new RegExp(
          `^HOOK_FAILED on ${h.hostName} \\(step onActivate of hello 3\\.0\\): exit 1 \\(exit code 1\\); stderr: hello 3\\.0 did not answer on 127\\.0\\.0\\.1:8080 within 10 s \\(Error: hello 3\\.0 is broken\\)`,
        ),
      );
      expect(h.error).toMatch(/; back on 1\.0$/);
      expect((await fleet.onHost(h.hostName, "hello")).current).toBe("1.0");
      expect(await answer(h.hostName)).toBe("hello 1.0");
    }
  });

  it("an export outside the host's allow-list is refused before current moves", async () => {
    await build("4.0", { exports: [{ from: "hello.service", dir: "/etc" }] });
    const done = await roll("update", "4.0");
    for (const h of done.hosts) {
      expect(h.state).toBe("failed");
      expect(h.error).toMatch(
        /^activate: .*hello 4\.0: export hello\.service -> \/etc\/hello\.service refused: \/etc is not on this host's allow-list/,
      );
      expect((await fleet.onHost(h.hostName, "hello")).current).toBe("1.0");
      expect((await labExec(LAB, h.hostName, ["test", "-e", "/etc/hello.service"])).code).not.toBe(0);
      expect(await answer(h.hostName)).toBe("hello 1.0");
    }
  });

  it("an export through a symlink that leaves the tree is refused before current moves", async () => {
    await build("5.0", {
      exports: [{ from: "shadow", dir: "/usr/local/bin" }],
      tweak: (d) => symlinkSync("/etc/shadow", join(d, "shadow")),
    });
    const done = await roll("update", "5.0");
    for (const h of done.hosts) {
      expect(h.state).toBe("failed");
      expect(h.error).toMatch(
        /export shadow -> \/usr\/local\/bin\/shadow refused: shadow resolves to \/etc\/shadow, outside the version's tree/,
      );
      expect((await fleet.onHost(h.hostName, "hello")).current).toBe("1.0");
      expect(await readlink(h.hostName, "/usr/local/bin/shadow")).toBeNull();
      expect(await readlink(h.hostName, "/usr/local/bin/hello")).toBe(
        "/var/lib/keel/apps/hello/current/bin/hello",
      );
    }
  });

  it("a root hook is shown on the plan, and a policy that forbids root hooks refuses the rollout", async () => {
    await build("6.0", { onActivate: { ...HOOK, runAs: "root" } });
    const doc = {
      ...DEFAULT_POLICY,
      cedar:
        DEFAULT_POLICY.cedar +
        `\n@id("no-root-hooks") @reason("no activation hook runs as root in dev") forbid (principal, action, resource) when { context.rootHook && context.environments.contains("dev") };\n`,
    };
    await activatePolicy(fleet.db, doc);
    const spec: TRolloutSpec = {
      action: "update",
      app: "hello",
      version: "6.0",
      targets: { environments: ["dev"] },
      waves: ["100%"],
      failureThreshold: 100,
      parallelism: 2,
    };
    const refused = await createRollout({ db: fleet.db, releases: fleet.deps }, operator, spec).then(
      () => null,
      (e: Error) => e,
    );
    expect(refused?.message).toMatch(/no activation hook runs as root in dev/);
    expect(await fleet.db.rollout.count({ where: { version: "6.0" } })).toBe(0);
    for (const h of hostNames) {
      expect((await fleet.onHost(h, "hello")).current).toBe("1.0");
      expect(await answer(h)).toBe("hello 1.0");
    }
  });
});
