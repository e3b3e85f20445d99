// Fleet-scale benchmark (`npm run bench:scale -- --hosts 1000`): the console against SIMULATED hosts
// (infra/sim: real SSH key exchange and pinned host keys, the agent protocol answered from its
// types, nothing installed anywhere — docs/decisions/0028-fleet-simulator.md). Every figure it prints
// is labeled "simulated". What is real: PostgreSQL, the migrations, enrollment (importHosts), the
// inventory refresh (refreshHosts over the console's SSH client), planning (createRollout, delta
// artifacts built on a btrfs loop image), the rollout worker and its SSH executor, in their own
// worker processes (bench/scale-worker.ts) as `npm run worker` runs them.
//  1. enroll N hosts, refresh the inventory of all of them (timed; this process is the console);
//  2. for 1, 2 and 4 worker processes: a delta update of every host, then a fleet rollback (timed);
//  3. with 2 workers, an update during which one worker is SIGKILLed: the simulator's per-host
//     counts show whether any step was lost or run twice.
// Options: --hosts N (10000), --workers 1,2,4, --concurrency C (50 per worker, as KEEL_WORKER_CONCURRENCY),
// --parallelism P (workers × concurrency), --sim-processes P (1), --phases refresh,rollouts,kill (all), --enroll-limit (1000), --latency MS (mean delay of each simulated agent answer, 5), --loss R, --fail R.
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { utils } from "ssh2";
import { startSimFleetProcesses, type SimFleetProcesses } from "@/infra/sim/api";
import { startEmbeddedPostgres } from "@/infra/start/postgres";
import { applyMigrations } from "@/prisma/migrate";
import { seedUser } from "@/prisma/seed/fleet";
import { createDb } from "@/server/db";
import { openQueue } from "@/server/jobs/rollouts/queue";
import { createDiskArtifactStore } from "@/server/services/artifacts/store";
import { importHosts } from "@/server/services/inventory/hosts/import-hosts";
import { refreshHosts } from "@/server/services/inventory/refresh-hosts";
import { createInventorySsh } from "@/server/services/inventory/ssh-adapter";
import { createSigningKey } from "@/server/services/keys/create-signing-key";
import { listTrustedPublicKeys } from "@/server/services/keys/list-trusted-public-keys";
import { createSecretBox } from "@/server/services/keys/secret-box";
import { buildRelease } from "@/server/services/releases/build-release";
import type { ReleaseDeps } from "@/server/services/releases/deps";
import { startRollout } from "@/server/services/rollouts/control-rollout";
import { createRollout } from "@/server/services/rollouts/create-rollout";
import type { TRolloutSpec } from "@/server/services/rollouts/types";
import { SshPool, loadAgentBundle } from "@/server/ssh";
import { mountBtrfs, unmountBtrfs } from "@/server/test/btrfs";
import { validateManifest } from "@/agent/protocol";
import { countQueries, machineCpuMs, mib, processCpuMs, rssSampler, sec } from "./console-measure";
import { loadavg } from "./measure";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
};
const N = Number(arg("hosts", "10000"));
const WORKERS = arg("workers", "1,2,4").split(",").map(Number);
const CONCURRENCY = Number(arg("concurrency", "50"));
const SIM_PROCESSES = Number(arg("sim-processes", "1"));
const FAULTS = {
  latencyMs: Number(arg("latency", "5")),
  lossRate: Number(arg("loss", "0")),
  failRate: Number(arg("fail", "0")),
};
const APP = "simapp";
/** Up to this many hosts are enrolled through importHosts (audited); more are written directly (--enroll-limit). */
/** Which parts run (default all): refresh, rollouts, kill. */
const PHASES = new Set(arg("phases", "refresh,rollouts,kill").split(","));
/**
 * Hosts in flight per rollout; default the workers' free slots (workers × concurrency, at most 200),
 * so that the figures measure the steps, not steps waiting in the queue for a free slot (which is
 * safe: the sweep re-sends only a step whose job has left the queue, server/jobs/rollouts/worker.ts).
 */
const PARALLELISM = process.argv.includes("--parallelism") ? Number(arg("parallelism", "200")) : undefined;
const ENROLL_LIMIT = Number(arg("enroll-limit", "1000"));
const queries = countQueries();
const rss = rssSampler();
const lines: string[] = [];
const say = (s: string) => {
  console.log(s);
  lines.push(s);
};

type Worker = { proc: ChildProcess; usage(): Promise<WorkerUsage> };
type WorkerUsage = { cpuMs: number; rss: number; queries: number; pool: number };

function startWorker(env: NodeJS.ProcessEnv): Promise<Worker> {
  const proc = fork(join(__dirname, "scale-worker.ts"), [], {
    execArgv: ["--import", "tsx"],
    env,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let waiting: ((u: WorkerUsage) => void) | null = null;
  return new Promise((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`worker ${proc.pid} exited (${code}) before it was ready`)));
    proc.on("message", (m: { ready?: string } & WorkerUsage) => {
      if (m.ready)
        return resolve({
          proc,
          usage: () => new Promise((r) => ((waiting = r), proc.send({ op: "usage" }))),
        });
      waiting?.(m);
      waiting = null;
    });
  });
}

async function stopWorker(w: Worker): Promise<void> {
  if (w.proc.exitCode !== null || w.proc.signalCode) return;
  const gone = new Promise((r) => w.proc.once("exit", r));
  w.proc.send({ op: "stop" });
  await gone;
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), "keel-bench-scale-"));
  const pg = await startEmbeddedPostgres({ dataDir: join(work, "pg") });
  const dataDir = mountBtrfs(work, "console", "1G");
  let sim: SimFleetProcesses | undefined;
  const workers: Worker[] = [];
  const cleanup = async () => {
    await Promise.all(workers.map((w) => stopWorker(w).catch(() => w.proc.kill("SIGKILL"))));
    await sim?.close().catch(() => undefined);
    await pg.stop().catch(() => undefined);
    unmountBtrfs(dataDir);
    rmSync(work, { recursive: true, force: true });
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const)
    process.once(sig, () => void cleanup().then(() => process.exit(130)));
  try {
    const url = pg.urlFor("postgres");
    await applyMigrations(url);
    const db = createDb(url, { max: 30 });
    const deps: ReleaseDeps = {
      db,
      dataDir,
      store: createDiskArtifactStore({ dataDir }),
      box: createSecretBox({ secret: "scale-secret-".padEnd(40, "x"), dataDir }),
      actorId: null,
    };
    await createSigningKey(deps, { name: "console" });
    const src = join(work, "src");
    mkdirSync(join(src, "bin"), { recursive: true });
    writeFileSync(join(src, "data.bin"), Buffer.alloc(1 << 20, 7));
    let built = 0;
    /** The next version of the app: a small script and one byte of a 1 MiB file change (a small delta). */
    const nextVersion = async () => {
      const v = `1.0.${built++}`;
      writeFileSync(join(src, "bin", "app"), `#!/bin/sh\necho ${APP} ${v}\n`);
      const big = Buffer.alloc(1 << 20, 7);
      big[built * 4096] = 1;
      writeFileSync(join(src, "data.bin"), big);
      await buildRelease(deps, { app: APP, version: v, source: { dir: src } });
      return v;
    };
    const first = await nextVersion();
    const firstManifest = validateManifest(
      JSON.parse((await db.release.findFirstOrThrow({ where: { app: APP, version: first } })).manifest),
    );
    const bundle = await loadAgentBundle();
    const consoleKey = utils.generateKeyPairSync("ed25519");
    const keyPath = join(work, "console_ed25519");
    writeFileSync(keyPath, consoleKey.private, { mode: 0o600 });

    let t0 = Date.now();
    sim = await startSimFleetProcesses({
      count: N,
      processes: SIM_PROCESSES,
      authorizedKey: consoleKey.public,
      agentSha256: bundle.sha256,
      trustedKeys: (await listTrustedPublicKeys({ db })).map((k) => k.publicKeyLine),
      initial: [firstManifest],
      faults: FAULTS,
    });
    say(
      `SIMULATED fleet of ${N} hosts (${SIM_PROCESSES} simulator process(es), answer latency ${FAULTS.latencyMs} ms mean, loss ${FAULTS.lossRate}, failures ${FAULTS.failRate}) listening in ${sec(Date.now() - t0)}; load average ${loadavg()}`,
    );
    t0 = Date.now();
    if (N <= ENROLL_LIMIT) {
      const imported = await importHosts(
        { db },
        {
          actorId: null,
          entries: sim.hosts.map((h) => ({ ...h, fingerprint: h.hostKeyFingerprint, labels: {} })),
          source: "sim",
          environment: "dev",
          labels: { fleet: "sim" },
        },
      );
      if (imported.enrolled !== N) throw new Error(`enrolled ${imported.enrolled} of ${N} simulated hosts`);
      say(
        `enrolled ${N} simulated hosts through importHosts (pinned keys, audited) in ${sec(Date.now() - t0)}`,
      );
    } else {
      // Enrollment is not what this benchmark measures: above ENROLL_LIMIT the rows are written
      // directly (same columns as importHosts writes, pinned fingerprints; no audit entries).
      for (let i = 0; i < N; i += 1000)
        await db.host.createMany({
          data: sim.hosts.slice(i, i + 1000).map((h) => ({
            name: h.name,
            address: h.address,
            port: h.port,
            user: h.user,
            hostKeyFingerprint: h.hostKeyFingerprint,
            environment: "dev",
            labels: { fleet: "sim" },
          })),
        });
      say(
        `seeded ${N} simulated hosts directly into the hosts table (pinned keys, not audited) in ${sec(Date.now() - t0)}`,
      );
    }

    // 1. The inventory refresh of the whole fleet, as the scheduled refresh runs it (16 at a time).
    if (PHASES.has("refresh")) {
      const refreshConcurrency = Number(process.env.KEEL_INVENTORY_REFRESH_CONCURRENCY ?? 16);
      const pool = new SshPool({ maxConnections: 256 });
      const ssh = createInventorySsh({ privateKey: consoleKey.private, pool, bundle, residentSeconds: 3600 });
      const before = await measureStart(sim);
      const refreshed = await refreshHosts({ db, ssh }, { all: true }, { concurrency: refreshConcurrency });
      const r = await measureEnd(sim, before);
      await pool.close();
      if (refreshed.ok !== N)
        throw new Error(`inventory refresh: ${refreshed.ok} of ${N} simulated hosts answered`);
      say(
        `inventory refresh of ${N} simulated hosts, ${refreshConcurrency} at a time: ${sec(r.ms)} (${(N / (r.ms / 1000)).toFixed(0)} hosts/s); console CPU ${sec(r.cpuMs)} (${(r.cpuMs / N).toFixed(2)} ms and ${((queries() - before.queries) / N).toFixed(1)} database queries per host); simulator CPU ${sec(r.simMs)}; machine CPU ${sec(r.machineMs)} of ${sec(r.ms * 2)} available`,
      );
    }

    const actor = (await seedUser(db, "bench@example.test", ["operator"])) as {
      id: string;
      roles: "operator"[];
    };
    const boss = await openQueue(url);
    const workerEnv = {
      ...process.env,
      DATABASE_URL: url,
      KEEL_DATA_DIR: dataDir,
      KEEL_BENCH_CONSOLE_KEY: keyPath,
      KEEL_WORKER_CONCURRENCY: String(CONCURRENCY),
    };
    const spec = (over: Partial<TRolloutSpec>): TRolloutSpec => ({
      action: "update",
      app: APP,
      targets: { labels: { fleet: "sim" } },
      waves: ["100%"],
      failureThreshold: 0,
      parallelism: 200,
      ...over,
    });

    /** One rollout through W workers; `kill` SIGKILLs the first worker once that share of hosts is done. */
    const run = async (label: string, s: TRolloutSpec, w: number, expect: string, kill?: number) => {
      while (workers.length < w) workers.push(await startWorker(workerEnv));
      s = { ...s, parallelism: PARALLELISM ?? Math.min(200, CONCURRENCY * w) };
      await sim!.resetCounters();
      const p0 = processCpuMs();
      const q0 = queries();
      const tp = Date.now();
      const ro = await createRollout({ db }, actor, s);
      if (ro.state !== "approved") throw new Error(`rollout ${ro.number} is ${ro.state}, expected approved`);
      const planMs = Date.now() - tp;
      const planCpu = processCpuMs() - p0;
      const planQueries = queries() - q0;
      const u0 = await Promise.all(workers.map((x) => x.usage()));
      const m = await measureStart(sim!);
      await startRollout({ db, boss }, actor, ro.id);
      workers.forEach((x) => x.proc.send({ op: "wake" }));
      let killed: Worker | null = null;
      for (;;) {
        const st = await db.rollout.findUniqueOrThrow({
          where: { id: ro.id },
          select: { state: true, finishedAt: true },
        });
        if (["succeeded", "finished_with_failures", "paused", "failed", "cancelled"].includes(st.state))
          break;
        if (kill !== undefined && !killed) {
          const done = await db.rolloutHost.count({ where: { rolloutId: ro.id, state: "succeeded" } });
          if (done >= N * kill) {
            killed = workers[0]!;
            killed.proc.kill("SIGKILL");
            say(`  SIGKILLed worker process ${killed.proc.pid} with ${done} of ${N} host steps done`);
          }
        }
        if (Date.now() - m.t0 > 30 * 60_000)
          throw new Error(`rollout ${ro.number} still ${st.state} after 30 min`);
        await new Promise((res) => setTimeout(res, 250));
      }
      if (kill !== undefined && !killed)
        say(
          `  the rollout ended before ${kill * 100} % of its steps were seen done: no worker was killed (use more hosts)`,
        );
      const fin = await db.rollout.findUniqueOrThrow({ where: { id: ro.id } });
      const end = await measureEnd(sim!, m, fin.finishedAt);
      const live = workers.filter((x) => x !== killed);
      const u1 = await Promise.all(live.map((x) => x.usage()));
      const cpu = u1.reduce((a, u, i) => a + u.cpuMs - u0[workers.indexOf(live[i]!)]!.cpuMs, 0);
      const q = u1.reduce((a, u, i) => a + u.queries - u0[workers.indexOf(live[i]!)]!.queries, 0);
      const hosts = await db.rolloutHost.groupBy({
        by: ["state"],
        where: { rolloutId: ro.id },
        _count: true,
      });
      // What the SIMULATED hosts saw: each host's current version, and how often it was changed or sent a stream.
      const rep = await sim!.report(APP);
      const wrong = rep.filter((h) => h.current !== expect).length;
      const twice = rep.filter((h) => h.counters.changed > 1).length;
      const never = rep.filter((h) => h.counters.changed === 0).length;
      const received = rep.reduce((a, h) => a + h.counters.received, 0);
      const requests = rep.reduce((a, h) => a + h.counters.requests, 0);
      if (killed) workers.splice(workers.indexOf(killed), 1);
      const rssMax = Math.max(...u1.map((u) => u.rss));
      say(
        `${label}, ${N} SIMULATED hosts, ${w} worker process(es) × ${CONCURRENCY}: ${sec(end.ms)} (${(N / (end.ms / 1000)).toFixed(0)} hosts/s), rollout ${fin.state} ${JSON.stringify(Object.fromEntries(hosts.map((h) => [h.state, h._count])))}; ` +
          `worker CPU ${sec(cpu)} (${(cpu / N).toFixed(2)} ms per host step${killed ? ", survivors only" : ""}), ${(q / N).toFixed(1)} database queries per host step, worker peak RSS ${mib(rssMax)}; ` +
          `planning ${sec(planMs)} (console CPU ${sec(planCpu)}, ${planQueries} queries); simulator CPU ${sec(end.simMs)}; machine CPU ${sec(end.machineMs)} of ${sec(end.ms * 2)} available; ` +
          `simulated hosts: ${wrong} not on ${expect}, ${never} never changed, ${twice} changed more than once, ${received} streams received, ${(requests / N).toFixed(1)} agent requests per host`,
      );
      return { ms: end.ms, cpu, wrong, twice, never };
    };

    const results: Record<string, number> = {};
    for (const w of PHASES.has("rollouts") ? WORKERS : []) {
      while (workers.length > w) await stopWorker(workers.pop()!);
      const v = await nextVersion();
      const up = await run(`delta update to ${v}`, spec({ version: v }), w, v);
      const rb = await run(`fleet rollback`, spec({ action: "rollback", version: undefined }), w, first);
      results[`up${w}`] = up.ms;
      results[`rb${w}`] = rb.ms;
    }
    const base = WORKERS[0]!;
    for (const w of PHASES.has("rollouts") ? WORKERS.slice(1) : [])
      say(
        `throughput with ${w} workers vs ${base}: update ${(results[`up${base}`]! / results[`up${w}`]!).toFixed(2)}×, rollback ${(results[`rb${base}`]! / results[`rb${w}`]!).toFixed(2)}× (simulated hosts)`,
      );

    if (PHASES.has("kill")) {
      while (workers.length > 2) await stopWorker(workers.pop()!);
      const v = await nextVersion();
      const k = await run(
        `delta update to ${v} with a worker SIGKILLed at 30 %`,
        spec({ version: v }),
        2,
        v,
        0.3,
      );
      say(
        `worker killed mid-run: ${k.wrong === 0 && k.twice === 0 && k.never === 0 ? "no step lost, none run twice" : `${k.never} host(s) lost, ${k.twice} run twice, ${k.wrong} not on ${v}`} (counted by the simulated hosts)`,
      );
    }
    say(
      `bench process (enrollment, refresh, planning) peak RSS ${mib(rss.peak())}; load average ${loadavg()}`,
    );
    await boss.stop({ graceful: false }).catch(() => undefined);
    await db.$disconnect();
  } finally {
    await cleanup();
  }
  console.log("\n" + lines.join("\n"));
}

async function measureStart(sim: SimFleetProcesses) {
  return {
    t0: Date.now(),
    cpu: processCpuMs(),
    sim: (await sim.usage()).cpuMs,
    machine: machineCpuMs(),
    queries: queries(),
  };
}

async function measureEnd(
  sim: SimFleetProcesses,
  s: Awaited<ReturnType<typeof measureStart>>,
  finishedAt?: Date | null,
) {
  return {
    ms: (finishedAt?.getTime() ?? Date.now()) - s.t0,
    cpuMs: processCpuMs() - s.cpu,
    simMs: (await sim.usage()).cpuMs - s.sim,
    machineMs: machineCpuMs() - s.machine,
  };
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
