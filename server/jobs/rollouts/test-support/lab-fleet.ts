// A real fleet for rollout tests and benchmarks: lab hosts (own netns, sshd, btrfs store), a
// console data directory on its own btrfs loop image (release builds need btrfs), a signing key,
// the hosts enrolled with their pinned keys and the console's trusted key installed, and a rollout
// worker with the real SSH executor. `teardown()` removes all of it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PrismaClient } from "@prisma/client";
import { inventoryPath, labDown, labExec, labUp, type LabInventory } from "@/infra/lab/api";
import { createDb } from "@/server/db";
import { createDiskArtifactStore } from "@/server/services/artifacts/store";
import { importHosts } from "@/server/services/inventory/hosts/import-hosts";
import { parseLabInventory } from "@/server/services/inventory/hosts/parse-import";
import { refreshHosts } from "@/server/services/inventory/refresh-hosts";
import { recordFacts } from "@/server/services/inventory/record-facts";
import { createInventorySsh, factsFromAgent } from "@/server/services/inventory/ssh-adapter";
import { createSigningKey } from "@/server/services/keys/create-signing-key";
import { listTrustedPublicKeys } from "@/server/services/keys/list-trusted-public-keys";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { buildRelease } from "@/server/services/releases/build-release";
import type { ReleaseDeps } from "@/server/services/releases/deps";
import { SshPool, loadAgentBundle } from "@/server/ssh";
import { sshExecutor } from "@/server/jobs/rollouts/ssh-executor";
import { startRolloutWorker, type RolloutWorker } from "@/server/jobs/rollouts/worker";
import { mountBtrfs, unmountBtrfs } from "@/server/test/btrfs";

export type LabFleet = {
  lab: string;
  inv: LabInventory;
  db: PrismaClient;
  deps: ReleaseDeps;
  dataDir: string;
  privateKey: string;
  worker: RolloutWorker;
  /** The SSH pool the rollout executor uses (shared with the inventory's refresh). */
  pool: SshPool;
  /** Build version `v` of app `app` from a tree that changes a little per version. */
  build(app: string, v: string): Promise<{ fullBytes: number; incrementalBytes: number | null }>;
  /** What `apps/<app>/current` and `previous` point at on a host, read on the host itself. */
  onHost(host: string, app: string): Promise<{ current: string | null; previous: string | null }>;
  teardown(): Promise<void>;
};

export async function setUpLabFleet(o: {
  lab: string;
  count: number;
  databaseUrl: string;
  environment: string;
  labels?: Record<string, string>;
  concurrency?: number;
  /** Worker timings; tests use short ones (default sweep 500 ms, heartbeat 1 s). */
  sweepMs?: number;
  heartbeatMs?: number;
  /** Resident agents on the hosts (seconds idle; default 600 as a console would, 0: off). */
  residentSeconds?: number;
}): Promise<LabFleet> {
  const root = mkdtempSync(join(tmpdir(), `keel-fleet-${o.lab}-`));
  const dataDir = mountBtrfs(root, "console", "1G");
  let inv: LabInventory | undefined;
  let worker: RolloutWorker | undefined;
  const pool = new SshPool({ maxConnections: 256 });
  const db = createDb(o.databaseUrl, { max: 30 }); // as the console's worker (start-workers.ts)
  const teardown = async () => {
    await worker?.stop().catch(() => undefined);
    await pool.close().catch(() => undefined);
    await db.$disconnect().catch(() => undefined);
    await labDown(o.lab).catch(() => undefined);
    unmountBtrfs(dataDir);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    inv = await labUp({ lab: o.lab, count: o.count });
    const privateKey = readFileSync(inv.consoleKey.privateKeyPath!, "utf8");
    const deps: ReleaseDeps = {
      db,
      dataDir,
      store: createDiskArtifactStore({ dataDir }),
      box: createSecretBox({ secret: "fleet-secret-".padEnd(40, "x"), dataDir }),
      actorId: null,
    };
    await createSigningKey(deps, { name: "console" });
    const ssh = createInventorySsh({ privateKey, pool, timeoutMs: 300_000 });
    const entries = parseLabInventory(readFileSync(inventoryPath(o.lab), "utf8")).entries;
    await importHosts(
      { db },
      { actorId: null, entries, source: "lab", environment: o.environment, labels: o.labels },
    );
    // What enrollment does for hosts added one by one: trust the console's release signing key.
    const keys = await listTrustedPublicKeys({ db });
    const hosts = await db.host.findMany({
      select: { name: true, address: true, port: true, user: true, hostKeyFingerprint: true, sudoMode: true },
    });
    await Promise.all(
      hosts.map((h) => ssh.installTrustedKeys!({ ...h, fingerprint: h.hostKeyFingerprint }, keys)),
    );
    const refreshed = await refreshHosts({ db, ssh }, { all: true });
    if (refreshed.ok !== o.count)
      throw new Error(
        `only ${refreshed.ok} of ${o.count} lab hosts answered: ${JSON.stringify(refreshed.results.filter((r) => r.status !== "ok"))}`,
      );

    const bundle = await loadAgentBundle();
    const executor = sshExecutor({
      db,
      pool,
      privateKey,
      artifacts: deps.store,
      bundle,
      residentSeconds: o.residentSeconds ?? 600,
      recordFacts: async (tx, hostId, facts) =>
        void (await recordFacts({ db: tx }, hostId, factsFromAgent(facts))),
    });
    worker = await startRolloutWorker({
      db,
      databaseUrl: o.databaseUrl,
      executor,
      concurrency: o.concurrency ?? 20,
      sweepMs: o.sweepMs ?? 500,
      heartbeatMs: o.heartbeatMs ?? 1000,
    });

    const src = join(root, "src");
    mkdirSync(join(src, "bin"), { recursive: true });
    writeFileSync(join(src, "data.bin"), Buffer.alloc(2 << 20, 7));
    const lab = o.lab;
    return {
      lab,
      inv,
      db,
      deps,
      dataDir,
      privateKey,
      worker,
      pool,
      async build(app, v) {
        // Each version rewrites a small file and one byte of the 2 MiB one: deltas stay small.
        writeFileSync(join(src, "bin", "app"), `#!/bin/sh\necho ${app} ${v}\n`);
        writeFileSync(join(src, "VERSION"), `${v}\n`);
        const big = readFileSync(join(src, "data.bin"));
        big[v.length * 1000]! ^= 1;
        writeFileSync(join(src, "data.bin"), big);
        const r = await buildRelease(deps, { app, version: v, source: { dir: src } });
        return { fullBytes: r.fullBytes, incrementalBytes: r.incrementalBytes };
      },
      async onHost(host, app) {
        const read = async (link: string) => {
          const r = await labExec(lab, host, ["readlink", `/var/lib/keel/apps/${app}/${link}`]);
          return r.code === 0 ? r.stdout.trim() : null;
        };
        return { current: await read("current"), previous: await read("previous") };
      },
      teardown,
    };
  } catch (e) {
    await teardown();
    throw e;
  }
}

const TERMINAL = ["succeeded", "finished_with_failures", "paused", "failed", "cancelled"];

/**
 * Polls a rollout (every 300 ms, its hosts by name) until it is in one of `until` and none of its
 * host steps is still queued or running (a pause stops dispatching, not the steps under way); after
 * `timeoutMs` throws naming each host's state, step and error.
 */
export async function waitForRollout(
  db: PrismaClient,
  rolloutId: string,
  until = TERMINAL,
  timeoutMs = 240_000,
) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const x = await db.rollout.findUniqueOrThrow({
      where: { id: rolloutId },
      include: { hosts: { orderBy: { hostName: "asc" } } },
    });
    if (until.includes(x.state) && !x.hosts.some((h) => h.state === "running" || h.state === "queued"))
      return x;
    if (Date.now() > end)
      throw new Error(
        `rollout ${x.number} still ${x.state}: ${JSON.stringify(x.hosts.map((h) => [h.hostName, h.state, h.step, h.error]))}`,
      );
    await new Promise((res) => setTimeout(res, 300));
  }
}
