// Who a release's health check runs as, on real lab hosts (sshd in network namespaces, btrfs
// stores, keel-agent, the real SSH executor and the resident agent). A hostile builder's exec check
// tries to become root's business — a file in /root, a file in the host's /etc/keel, a file in the
// store — and fails, because it runs as the unprivileged user keel-check: the rollout marks each
// host's check failed and reverts it, and none of the files exists. A check whose signed manifest
// says runAs "root" runs as root (it writes its uid where only root can), and the plan, the policy's
// context and the approval card say so before anyone approves.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { labExec } from "@/infra/lab/api";
import { seedUser } from "@/prisma/seed/fleet";
import { DEFAULT_POLICY } from "@/server/services/policy/default-policy";
import { ROOT_CHECKS_NEED_APPROVAL } from "@/server/services/policy/test-fixtures";
import { buildRelease } from "@/server/services/releases/build-release";
import { answerRollout } from "@/server/services/rollouts/answer-rollout";
import { startRollout } from "@/server/services/rollouts/control-rollout";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import { listPendingApprovals } from "@/server/services/rollouts/list-pending-approvals";
import type { TRolloutSpec } from "@/server/services/rollouts/types";
import { waitForRollout, type LabFleet } from "./test-support/lab-fleet";
import { setUpLabTest, type LabTest } from "./test-support/lab-test";
import { activatePolicy } from "@/server/test/policy";

const LAB = "rc" + randomBytes(3).toString("hex");
const tag = randomBytes(4).toString("hex");
const ROOT_FILE = `/root/keel-pwned-${tag}`;
let setup: LabTest | undefined;
let fleet: LabFleet;
let operator: { id: string; roles: "operator"[] };
let approver: { id: string; roles: "approver"[] };
let src: string;

async function build(v: string, healthCheck?: Parameters<typeof buildRelease>[1]["healthCheck"]) {
  writeFileSync(join(src, "VERSION"), `${v}\n`);
  return buildRelease(fleet.deps, { app: "web", version: v, source: { dir: src }, healthCheck });
}

const run = (rolloutId: string, until: string[]) => waitForRollout(fleet.db, rolloutId, until);

const spec = (version: string): TRolloutSpec => ({
  action: "update",
  app: "web",
  version,
  targets: { environments: ["dev"] },
  waves: ["100%"],
  failureThreshold: 10,
  parallelism: 2,
});

/** Exists on the lab host (its own /etc/keel and /var/lib/keel; / and /root are the machine's). */
const onHost = async (host: string, path: string) =>
  (await labExec(LAB, host, ["test", "-e", path])).code === 0;

beforeAll(async () => {
  setup = await setUpLabTest({ lab: LAB, count: 2, environment: "dev" });
  ({ fleet, operator, src } = setup);
  approver = (await seedUser(fleet.db, "ap@example.test", ["approver"])) as typeof approver;
  mkdirSync(join(src, "bin"));
  writeFileSync(join(src, "bin", "app"), "#!/bin/sh\necho web\n", { mode: 0o755 });
}, 900_000);

afterAll(async () => {
  rmSync(ROOT_FILE, { force: true });
  await setup?.teardown();
}, 300_000);

describe("who a health check runs as, on lab hosts", () => {
  it("installs 1.0 (no health check) everywhere", async () => {
    await build("1.0");
    const r = await createRollout({ db: fleet.db, releases: fleet.deps }, operator, spec("1.0"));
    await startRollout({ db: fleet.db, boss: fleet.worker.boss }, operator, r.id);
    expect((await run(r.id, ["succeeded", "finished_with_failures", "paused", "failed"])).state).toBe(
      "succeeded",
    );
  });

  it("a hostile builder's check runs as keel-check: it cannot write to /root, /etc/keel or the store; every host reverts", async () => {
    const argv = [
      "/bin/sh",
      "-c",
      `id -un >&2; touch ${ROOT_FILE} /etc/keel/pwned-${tag} /var/lib/keel/pwned-${tag}`,
    ];
    await build("2.0", { type: "exec", argv, timeoutMs: 20_000 });
    const r = await createRollout({ db: fleet.db, releases: fleet.deps }, operator, spec("2.0"));
    expect(r.plan.rootCommands).toBeUndefined(); // nothing runs as root: nothing to show
    expect(r.state).toBe("approved");
    await startRollout({ db: fleet.db, boss: fleet.worker.boss }, operator, r.id);
    const done = await run(r.id, ["succeeded", "finished_with_failures", "paused", "failed"]);
    expect(done.state).toBe("finished_with_failures");
    for (const h of done.hosts) {
      expect(h.state, `${h.hostName}: ${h.error}`).toBe("reverted");
      expect(h.error).toMatch(
        /^health check failed \(exit 1: keel-check\ntouch: cannot touch '\/root\/keel-pwned-[0-9a-f]+': Permission denied/,
      );
      expect(h.error).toMatch(/cannot touch '\/etc\/keel\/pwned-[0-9a-f]+': Permission denied/);
      expect(h.error).toMatch(/; back on 1\.0$/);
      expect((await fleet.onHost(h.hostName, "web")).current).toBe("1.0");
      expect(await onHost(h.hostName, `/etc/keel/pwned-${tag}`)).toBe(false);
      expect(await onHost(h.hostName, `/var/lib/keel/pwned-${tag}`)).toBe(false);
      expect(await onHost(h.hostName, ROOT_FILE)).toBe(false);
    }
    expect(existsSync(ROOT_FILE)).toBe(false);
  });

  it("a check signed runAs root runs as root; the plan, the policy and the approval card say so first", async () => {
    // A policy that keys on it: in dev, a root health check needs one approver.
    const doc = {
      ...DEFAULT_POLICY,
      cedar: DEFAULT_POLICY.cedar + ROOT_CHECKS_NEED_APPROVAL,
    };
    await activatePolicy(fleet.db, doc);

    const ranAs = `/etc/keel/ran-as-${tag}`;
    const argv = ["/bin/sh", "-c", `id -u > ${ranAs}`];
    await build("3.0", { type: "exec", argv, timeoutMs: 20_000, runAs: "root" });
    const r = await createRollout({ db: fleet.db, releases: fleet.deps }, operator, spec("3.0"));
    expect(r.plan.rootCommands).toEqual({ commands: ["health check"], hosts: 2 });
    expect(r.state).toBe("awaiting_approval");
    expect(r.decision.reasons).toContain("a health check that runs as root needs an approver");

    const card = (await listPendingApprovals({ db: fleet.db }, approver)).rollouts.find(
      (x) => x.id === r.id,
    )!;
    expect(card.risk.rootCommands).toEqual({ commands: ["health check"], hosts: 2 });
    expect(card.reasons).toContain("a health check that runs as root needs an approver");

    await answerRollout({ db: fleet.db }, approver, {
      rolloutId: r.id,
      digest: card.digest,
      verdict: "approve",
    });
    await startRollout({ db: fleet.db, boss: fleet.worker.boss }, operator, r.id);
    const done = await run(r.id, ["succeeded", "finished_with_failures", "paused", "failed"]);
    expect(done.state, JSON.stringify(done.hosts.map((h) => [h.hostName, h.state, h.error]))).toBe(
      "succeeded",
    );
    for (const h of done.hosts) {
      expect((await fleet.onHost(h.hostName, "web")).current).toBe("3.0");
      const uid = await labExec(LAB, h.hostName, ["cat", ranAs]);
      expect(uid.stdout.trim()).toBe("0");
    }
  });
});
