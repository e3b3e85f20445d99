// The PostgreSQL job queue (pg-boss) that carries rollout host steps between console processes.
// A job only names a host step; the truth about the step lives in rollout_hosts, and a worker
// claims a step there before doing anything, so a duplicated or retried job never runs a host twice.
import PgBoss from "pg-boss";
import { HOST_STEP_QUEUE } from "@/server/services/rollouts/host-step-job";

export async function openQueue(
  databaseUrl: string,
  opts: { expireInSeconds?: number } = {},
): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: databaseUrl, max: 4, schedule: false, supervise: true });
  boss.on("error", (e) => console.error(`[keel worker] job queue: ${e.message}`));
  await boss.start();
  await boss.createQueue(HOST_STEP_QUEUE, {
    name: HOST_STEP_QUEUE,
    // A worker that dies mid-step stops renewing nothing: pg-boss retries the job after this long,
    // and the next worker re-claims the step only once its heartbeat is stale.
    expireInSeconds: opts.expireInSeconds ?? 15 * 60,
    retryLimit: 5,
    retryDelay: 2,
    retryBackoff: true,
  });
  return boss;
}
