// One console worker process for bench:scale (forked by bench/scale.ts): the real rollout worker
// with the real SSH executor, built as server/jobs/start-workers.ts builds it (pool of 256
// connections, facts recorded at the end of each step), against the bench's PostgreSQL, artifacts
// and console key. It answers `usage` (CPU ms, RSS, database round trips) over IPC; the bench may
// SIGKILL it mid-run.
import { readFileSync } from "node:fs";
import { createDb } from "@/server/db";
import { sshExecutor } from "@/server/jobs/rollouts/ssh-executor";
import { startRolloutWorker } from "@/server/jobs/rollouts/worker";
import { createDiskArtifactStore } from "@/server/services/artifacts/store";
import { recordFacts } from "@/server/services/inventory/record-facts";
import { factsFromAgent } from "@/server/services/inventory/ssh-adapter";
import { SshPool, loadAgentBundle } from "@/server/ssh";
import { countQueries, processCpuMs, rssSampler } from "./console-measure";

const queries = countQueries();
const rss = rssSampler();
const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`scale-worker: ${k} is not set (bench/scale.ts sets it)`);
  return v;
};

async function main() {
  const databaseUrl = env("DATABASE_URL");
  const concurrency = Number(env("KEEL_WORKER_CONCURRENCY"));
  const db = createDb(databaseUrl, { max: Math.min(30, concurrency + 5) });
  const pool = new SshPool({ maxConnections: 256 });
  const privateKey = readFileSync(env("KEEL_BENCH_CONSOLE_KEY"), "utf8");
  const executor = sshExecutor({
    db,
    pool,
    privateKey,
    artifacts: createDiskArtifactStore({ dataDir: env("KEEL_DATA_DIR") }),
    bundle: await loadAgentBundle(),
    residentSeconds: 3600,
    recordFacts: async (tx, hostId, facts) =>
      void (await recordFacts({ db: tx }, hostId, factsFromAgent(facts))),
  });
  const worker = await startRolloutWorker({ db, databaseUrl, executor, concurrency, sweepMs: 1000 });
  process.on("message", (m: { op: string }) => {
    if (m.op === "usage")
      process.send!({
        cpuMs: processCpuMs(),
        rss: rss.peak(),
        queries: queries(),
        pool: pool.connectionHighWater,
      });
    else if (m.op === "wake") worker.wake();
    else if (m.op === "stop")
      void worker
        .stop()
        .then(() => pool.close())
        .then(() => db.$disconnect())
        .then(() => process.exit(0));
  });
  process.on("disconnect", () => process.exit(0));
  process.send!({ ready: worker.id });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
