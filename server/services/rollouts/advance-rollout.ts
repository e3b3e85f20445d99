// Moves a running rollout along: dispatches pending hosts of the current wave up to the rollout's
// parallelism, and when a wave is finished either pauses (too many failures), starts the next wave,
// or finishes the rollout. Serialised per rollout with an advisory lock, so any number of workers
// may call it at any time.
import type { PrismaClient } from "@prisma/client";
import type PgBoss from "pg-boss";
import { appendAudit } from "@/server/services/audit/append-audit";
import { HOST_STEP_QUEUE, type HostStepJob } from "./host-step-job";

const DONE = ["succeeded", "failed", "reverted", "skipped", "cancelled"];

export async function advanceRollout(
  db: PrismaClient,
  boss: PgBoss,
  rolloutId: string,
  workerId = "console",
  /** Told how many steps were queued (a worker in this process fetches them at once instead of at its next poll). */
  onQueued?: (n: number) => void,
): Promise<void> {
  const jobs = await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${"rollout:" + rolloutId}))`;
    const r = await tx.rollout.findUnique({
      where: { id: rolloutId },
      select: {
        id: true,
        number: true,
        state: true,
        currentWave: true,
        waveSizes: true,
        failureThreshold: true,
        acknowledgedFailures: true,
        parallelism: true,
      },
    });
    if (!r || r.state !== "running") return [];
    let wave = r.currentWave;
    for (;;) {
      const hosts = await tx.rolloutHost.findMany({
        where: { rolloutId, wave },
        select: { hostId: true, state: true, idempotencyKey: true },
        orderBy: { hostName: "asc" },
      });
      const failed = hosts.filter((h) => h.state === "failed" || h.state === "reverted").length;
      const active = hosts.filter((h) => h.state === "queued" || h.state === "running").length;
      const acknowledged = wave === r.currentWave ? r.acknowledgedFailures : 0;
      if (failed - acknowledged > r.failureThreshold) {
        const reason = `wave ${wave + 1}: ${failed} host(s) failed, more than the ${r.failureThreshold} tolerated`;
        await tx.rollout.update({
          where: { id: rolloutId },
          data: { state: "paused", pauseReason: reason, currentWave: wave },
        });
        await appendAudit(tx, {
          actorId: null,
          action: "rollout.pause",
          target: `rollout:${r.number}`,
          detail: { reason, by: workerId },
        });
        return [];
      }
      const pending = hosts.filter((h) => h.state === "pending");
      if (pending.length === 0 && active === 0 && hosts.every((h) => DONE.includes(h.state))) {
        if (wave + 1 < r.waveSizes.length) {
          wave += 1;
          await tx.rollout.update({
            where: { id: rolloutId },
            data: { currentWave: wave, acknowledgedFailures: 0 },
          });
          await appendAudit(tx, {
            actorId: null,
            action: "rollout.wave",
            target: `rollout:${r.number}`,
            detail: { wave: wave + 1, by: workerId },
          });
          continue;
        }
        const all = await tx.rolloutHost.groupBy({ by: ["state"], where: { rolloutId }, _count: true });
        const counts = Object.fromEntries(all.map((g) => [g.state, g._count]));
        // Hosts that failed or went back within the threshold do not make the rollout a success.
        const state =
          (counts.failed ?? 0) + (counts.reverted ?? 0) > 0 ? "finished_with_failures" : "succeeded";
        await tx.rollout.update({
          where: { id: rolloutId },
          data: { state, finishedAt: new Date(), currentWave: wave },
        });
        await appendAudit(tx, {
          actorId: null,
          action: "rollout.finish",
          target: `rollout:${r.number}`,
          detail: { state, counts, by: workerId },
        });
        return [];
      }
      const room = Math.max(0, r.parallelism - active);
      const next = pending.slice(0, room);
      if (next.length > 0)
        await tx.rolloutHost.updateMany({
          where: { rolloutId, hostId: { in: next.map((h) => h.hostId) }, state: "pending" },
          data: { state: "queued", step: "queued", heartbeatAt: new Date() },
        });
      return next.map((h): HostStepJob => ({ rolloutId, hostId: h.hostId, key: h.idempotencyKey }));
    }
  });
  // One INSERT for the whole batch (a wave of 100 hosts used to be 100 round trips).
  if (jobs.length > 0)
    await boss.insert(jobs.map((job) => ({ name: HOST_STEP_QUEUE, data: job, singletonKey: job.key })));
  onQueued?.(jobs.length);
}
