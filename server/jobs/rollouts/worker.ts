// A rollout worker: takes host steps from the queue with bounded concurrency and, every few
// seconds, sweeps running rollouts so that a wave whose jobs were lost (a worker or the database
// died between marking and sending) still moves, and starts the rollouts whose scheduled start has
// come (schedule-rollout.ts). Any number of workers may run against one database.
//
// One fetch loop per worker asks the queue for as many jobs as it has free slots (one query, not
// one poller per slot), and it fetches again at once when a step of this process finished or queued
// more steps, so a wave of N hosts starts together instead of trickling in at the polling interval.
//
// The steps' own statements (claim, progress, final writes, wave looks) and the sweep's query run on
// a node-postgres pool of the worker's (createSqlPool, decision 0042); scheduled starts, the policy,
// pauses and advancing a rollout use `db` (Prisma).
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { PrismaClient } from "@prisma/client";
import type PgBoss from "pg-boss";
import { createSqlPool } from "@/server/db";
import { startDueRollouts } from "@/server/services/rollouts/schedule-rollout";
import { advanceRollout } from "@/server/services/rollouts/advance-rollout";
import type { HostExecutor } from "./executor";
import { HOST_STEP_QUEUE, type HostStepJob } from "@/server/services/rollouts/host-step-job";
import { openQueue } from "./queue";
import { advanceCoalescer, finishBatcher, runHostStep } from "./run-host-step";
import { progressWriter } from "./step-progress";
import { waveLook } from "./wave-look";

export type WorkerOptions = {
  db: PrismaClient;
  databaseUrl: string;
  executor: HostExecutor;
  concurrency?: number;
  sweepMs?: number;
  staleAfterMs?: number;
  heartbeatMs?: number;
  expireInSeconds?: number;
  workerId?: string;
  clock?: () => Date;
  /** How often an idle worker asks the queue for jobs (default 250 ms). */
  pollMs?: number;
  /** Connections of the steps' own pool (default: concurrency, at most 10). */
  sqlConnections?: number;
};

export type RolloutWorker = {
  id: string;
  boss: PgBoss;
  /** Fetch now (e.g. after this process queued steps) instead of at the next poll. */
  wake(): void;
  stop(): Promise<void>;
};

export async function startRolloutWorker(o: WorkerOptions): Promise<RolloutWorker> {
  const id = o.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const boss = await openQueue(o.databaseUrl, { expireInSeconds: o.expireInSeconds });
  const concurrency = Math.max(1, o.concurrency ?? 20);
  const sql = createSqlPool(o.databaseUrl, { max: o.sqlConnections ?? Math.min(10, concurrency) });
  const pollMs = o.pollMs ?? 250;
  let stopped = false;
  let again = false;
  let wakeUp: (() => void) | null = null;
  const wake = () => {
    again = true;
    const w = wakeUp;
    wakeUp = null;
    w?.();
  };
  const deps = {
    db: o.db,
    sql,
    boss,
    executor: o.executor,
    workerId: id,
    staleAfterMs: o.staleAfterMs,
    heartbeatMs: o.heartbeatMs,
    clock: o.clock,
    onQueued: (n: number) => n > 0 && wake(),
    verdicts: new Map(),
    plans: new Map(),
    progress: progressWriter(sql, id, { heartbeatMs: o.heartbeatMs }),
    waveLook: waveLook(sql),
    finishing: finishBatcher(sql),
    advance: advanceCoalescer((rolloutId) =>
      advanceRollout(o.db, boss, rolloutId, id, (n) => n > 0 && wake()),
    ),
  };
  const inFlight = new Set<Promise<void>>();
  // Jobs whose steps ended in the same turn of the event loop (a batch of final writes) are
  // completed in the queue with one statement. A job never completed (the worker died first) is
  // retried by the queue; the step's claim makes that harmless.
  let completing: { ids: string[]; done: Promise<void> } | null = null;
  const completeJob = (jobId: string): Promise<void> => {
    if (completing) {
      completing.ids.push(jobId);
      return completing.done;
    }
    const batch = { ids: [jobId], done: Promise.resolve() };
    batch.done = new Promise<void>((go) => setImmediate(go)).then(() => {
      completing = null;
      return boss.complete(HOST_STEP_QUEUE, batch.ids);
    });
    completing = batch;
    return batch.done;
  };

  const loop = (async () => {
    while (!stopped) {
      again = false;
      const free = concurrency - inFlight.size;
      let jobs: PgBoss.Job<HostStepJob>[] = [];
      if (free > 0) {
        try {
          jobs = await boss.fetch<HostStepJob>(HOST_STEP_QUEUE, { batchSize: free });
        } catch (e) {
          if (!stopped) console.error(`[keel worker] fetch: ${(e as Error).message}`);
        }
      }
      for (const job of jobs) {
        const p: Promise<void> = runHostStep(deps, job.data)
          .then(
            () => completeJob(job.id),
            (e: unknown) => boss.fail(HOST_STEP_QUEUE, job.id, { message: (e as Error).message }),
          )
          .then(
            () => undefined,
            (e: unknown) => console.error(`[keel worker] job ${job.id}: ${(e as Error).message}`),
          )
          .finally(() => {
            inFlight.delete(p);
            wake();
          });
        inFlight.add(p);
      }
      // Got a full batch: there may be more. Otherwise wait for a poll, a finished step or a wake.
      if (jobs.length > 0 && jobs.length === free && inFlight.size < concurrency) continue;
      if (again) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          wakeUp = null;
          resolve();
        }, pollMs);
        wakeUp = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  })();

  const staleMs = o.staleAfterMs ?? 30_000;
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      // Scheduled starts first, so that a rollout started now is advanced by this same sweep.
      for (const s of await startDueRollouts({ db: o.db, boss, clock: o.clock }))
        console.log(
          `[keel worker] scheduled start of rollout ${s.number}: ${s.started ? "started" : `refused: ${s.error}`}`,
        );
    } catch (e) {
      console.error(`[keel worker] scheduled starts: ${(e as Error).message}`);
    }
    try {
      // One query for every running rollout: its steps whose job was lost (queued long ago, or
      // running with a dead heartbeat) and whether its current wave may need advancing.
      const running = await sql.$queryRaw<
        {
          id: string;
          stuck: { hostId: string; key: string }[];
          active: number;
          pending: number;
          room: boolean;
        }[]
      >`
        SELECT r.id::text AS id,
          COALESCE((SELECT json_agg(json_build_object('hostId', h.host_id, 'key', h.idempotency_key))
            FROM rollout_hosts h WHERE h.rollout_id = r.id AND h.state IN ('queued', 'running')
              AND h.heartbeat_at < ${new Date(Date.now() - staleMs)}
              -- A step whose job still waits in the queue (or, queued, is being fetched) is not
              -- lost, only waiting for a free worker: sending it again every sweep grew the queue
              -- by thousands of jobs a minute at 1,000 hosts. A running step's old job stays
              -- 'active' after its worker died, so only a waiting job counts there.
              AND NOT EXISTS (
                SELECT 1 FROM pgboss.job j WHERE j.name = ${HOST_STEP_QUEUE} AND j.singleton_key = h.idempotency_key
                  AND (j.state IN ('created', 'retry') OR (j.state = 'active' AND h.state = 'queued')))), '[]'::json) AS stuck,
          w.active, w.pending, w.active < r.parallelism AS room
        FROM rollouts r,
          LATERAL (SELECT count(*) FILTER (WHERE state IN ('queued', 'running'))::int AS active,
                          count(*) FILTER (WHERE state = 'pending')::int AS pending
                   FROM rollout_hosts WHERE rollout_id = r.id AND wave = r.current_wave) w
        WHERE r.state = 'running'`;
      for (const r of running) {
        // The claim in runHostStep makes a duplicate job harmless.
        if (r.stuck.length > 0) {
          await boss.insert(
            r.stuck.map((s) => ({
              name: HOST_STEP_QUEUE,
              data: { rolloutId: r.id, hostId: s.hostId, key: s.key } satisfies HostStepJob,
              singletonKey: s.key,
            })),
          );
          wake();
        }
        // Steps in flight and no room or no host waiting: those steps advance the rollout when
        // they end (a failed one at once, the last of the wave too); nothing for the sweep to do.
        if (r.stuck.length === 0 && r.active > 0 && (r.pending === 0 || !r.room)) continue;
        await advanceRollout(o.db, boss, r.id, id, deps.onQueued);
      }
    } catch (e) {
      console.error(`[keel worker] sweep: ${(e as Error).message}`);
    } finally {
      sweeping = false;
    }
  };
  const timer = setInterval(() => void sweep(), o.sweepMs ?? 5_000);
  return {
    id,
    boss,
    wake,
    async stop() {
      clearInterval(timer);
      stopped = true;
      wake();
      await loop;
      // Let the steps in flight finish (their claims and results are in PostgreSQL either way).
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((r) => setTimeout(r, 10_000).unref()),
      ]);
      deps.progress.stop();
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
      await sql.end();
    },
  };
}
