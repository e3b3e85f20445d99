// Starts the console's background work in this process: the rollout worker with the real SSH
// executor. `npm start` calls it; `npm run worker` runs it alone (more workers → more throughput,
// and one that dies is replaced by the others: steps are claimed in PostgreSQL).
import { createDb } from "@/server/db";
import { consoleIdentity } from "@/server/console-identity";
import { createDiskArtifactStore } from "@/server/services/artifacts/store";
import { SshPool, loadAgentBundle } from "@/server/ssh";
import { sshExecutor } from "./rollouts/ssh-executor";
import { startRolloutWorker, type RolloutWorker } from "./rollouts/worker";

export type Workers = { rollouts: RolloutWorker; stop(): Promise<void> };

export async function startWorkers(opts: { databaseUrl: string; dataDir: string; concurrency?: number; workerId?: string }): Promise<Workers> {
  const db = createDb(opts.databaseUrl);
  const identity = consoleIdentity({ dataDir: opts.dataDir });
  const pool = new SshPool({ maxConnections: 256 });
  const bundle = await loadAgentBundle().catch(() => undefined);
  const executor = sshExecutor({ db, pool, privateKey: identity.privateKey, artifacts: createDiskArtifactStore({ dataDir: opts.dataDir }), bundle });
  const rollouts = await startRolloutWorker({
    db,
    databaseUrl: opts.databaseUrl,
    executor,
    concurrency: opts.concurrency ?? Number(process.env.KEEL_WORKER_CONCURRENCY ?? 50),
    sweepMs: 1000,
    workerId: opts.workerId,
  });
  return {
    rollouts,
    async stop() {
      await rollouts.stop();
      await pool.close();
      await db.$disconnect();
    },
  };
}
