// A rollout worker: takes host steps from the queue with bounded concurrency and, every few
// seconds, sweeps running rollouts so that a wave whose jobs were lost (a worker or the database
// died between marking and sending) still moves. Any number of workers may run against one database.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { PrismaClient } from "@prisma/client";
import type PgBoss from "pg-boss";
import { advanceRollout } from "./advance-rollout";
import type { HostExecutor } from "./executor";
import { HOST_STEP_QUEUE, openQueue, type HostStepJob } from "./queue";
import { runHostStep } from "./run-host-step";

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
};

export type RolloutWorker = { id: string; boss: PgBoss; stop(): Promise<void> };

export async function startRolloutWorker(o: WorkerOptions): Promise<RolloutWorker> {
  const id = o.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const boss = await openQueue(o.databaseUrl, { expireInSeconds: o.expireInSeconds });
  const deps = { db: o.db, boss, executor: o.executor, workerId: id, staleAfterMs: o.staleAfterMs, heartbeatMs: o.heartbeatMs, clock: o.clock };
  for (let i = 0; i < (o.concurrency ?? 20); i++)
    await boss.work<HostStepJob>(HOST_STEP_QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => {
      if (job) await runHostStep(deps, job.data);
    });

  const staleMs = o.staleAfterMs ?? 30_000;
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const running = await o.db.rollout.findMany({ where: { state: "running" }, select: { id: true } });
      for (const r of running) {
        // Steps marked queued long ago, or running with a dead heartbeat, get their job again;
        // the claim in runHostStep makes a duplicate harmless.
        const stuck = await o.db.rolloutHost.findMany({
          where: {
            rolloutId: r.id,
            state: { in: ["queued", "running"] },
            heartbeatAt: { lt: new Date(Date.now() - staleMs) },
          },
          select: { hostId: true, idempotencyKey: true, state: true },
        });
        for (const s of stuck) await boss.send(HOST_STEP_QUEUE, { rolloutId: r.id, hostId: s.hostId, key: s.idempotencyKey });
        await advanceRollout(o.db, boss, r.id, id);
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
    async stop() {
      clearInterval(timer);
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },
  };
}
