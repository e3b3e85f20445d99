// Starts the console's background work in this process: the rollout worker with the real SSH
// executor. `npm start` calls it; `npm run worker` runs it alone (more workers → more throughput,
// and one that dies is replaced by the others: steps are claimed in PostgreSQL).
import { createDb } from "@/server/db";
import { consoleIdentity } from "@/server/console-identity";
import { getEnv, publicOrigin } from "@/server/env";
import { createServices } from "@/server/services/compose";
import { startNotificationWorker, type NotificationWorker } from "./notifications/worker";
import { SshPool, loadAgentBundle } from "@/server/ssh";
import { createInventorySsh, factsFromAgent } from "@/server/services/inventory/ssh-adapter";
import { recordFacts } from "@/server/services/inventory/record-facts";
import { startInventoryRefreshFromEnv, type RefreshLoop } from "./refresh-inventory";
import { startDirectoryRecheckFromEnv } from "@/server/auth/oidc/recheck-from-env";
import { sshExecutor } from "./rollouts/ssh-executor";
import { startRolloutWorker, type RolloutWorker } from "./rollouts/worker";

export type Workers = {
  rollouts: RolloutWorker;
  refresh: RefreshLoop | null;
  notifications: NotificationWorker;
  stop(): Promise<void>;
};

export async function startWorkers(opts: {
  databaseUrl: string;
  dataDir: string;
  concurrency?: number;
  workerId?: string;
}): Promise<Workers> {
  const concurrency = opts.concurrency ?? Number(process.env.KEEL_WORKER_CONCURRENCY ?? 50);
  // Steps that end together each write progress and results: 10 connections made a wave of 100
  // hosts queue for the pool. Those writes now run on the rollout worker's own node-postgres pool
  // (at most 10 connections, decision 0042), so Prisma keeps 20: together the 30 as before, which
  // leaves room under PostgreSQL's 100 for the app and a second worker.
  const db = createDb(opts.databaseUrl, { max: Math.min(20, concurrency + 5) });
  const identity = consoleIdentity({ dataDir: opts.dataDir });
  // The store and the secret box from the composition root (server/services/compose.ts).
  const services = createServices({ dataDir: opts.dataDir, secret: getEnv().KEEL_SECRET });
  const pool = new SshPool({ maxConnections: 256 });
  const bundle = await loadAgentBundle().catch(() => undefined);
  const inventorySsh = createInventorySsh({ privateKey: identity.privateKey, pool, bundle });
  const executor = sshExecutor({
    db,
    pool,
    privateKey: identity.privateKey,
    artifacts: services.artifacts,
    bundle,
    residentSeconds: getEnv().KEEL_AGENT_RESIDENT_SECONDS,
    // After a host changed, its inventory (current/previous, history) follows at once, from the
    // facts the agent returned at the end of the step.
    recordFacts: async (tx, hostId, facts) =>
      void (await recordFacts({ db: tx }, hostId, factsFromAgent(facts))),
  });
  // Scheduled, jittered facts refresh (KEEL_INVENTORY_REFRESH_SECONDS; 0 turns it off).
  const refresh = startInventoryRefreshFromEnv(db, inventorySsh, process.env, (l) =>
    console.log(`keel: ${l}`),
  );
  // Accounts from the identity provider, re-checked every 10 minutes (docs/auth.md).
  const directory = startDirectoryRecheckFromEnv(db, opts.dataDir, (l) => console.log(`keel: ${l}`));
  const rollouts = await startRolloutWorker({
    db,
    databaseUrl: opts.databaseUrl,
    executor,
    concurrency,
    sweepMs: 1000,
    workerId: opts.workerId,
  });
  // Outgoing webhooks and e-mail from the outbox (docs/notifications.md).
  const notifications = startNotificationWorker({
    db,
    box: services.box,
    origin: publicOrigin(),
    workerId: rollouts.id,
    log: (l) => console.log(`keel: ${l}`),
  });
  return {
    rollouts,
    refresh,
    notifications,
    async stop() {
      await notifications.stop();
      directory.stop();
      await refresh?.stop();
      await rollouts.stop();
      await pool.close();
      await db.$disconnect();
    },
  };
}
