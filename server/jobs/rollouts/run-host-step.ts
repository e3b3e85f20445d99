// Runs one host step of a rollout, exactly once: claim it in rollout_hosts (only a queued step, or
// a running one whose worker stopped sending heartbeats; claim-step.ts), ask the policy again on
// live facts, run the executor with heartbeats, record the result on the step, the host's timeline
// and the audit log, then let the rollout advance. The step's own statements run on `sql` (node-
// postgres alone, decision 0042) when the worker gives one; the policy, a pause and advancing the
// rollout stay on Prisma.
import type { Prisma, PrismaClient } from "@prisma/client";
import type { Sql, SqlClient } from "@/server/db";
import type PgBoss from "pg-boss";
import { appendAudit, deferAudit, flushAudit } from "@/server/services/audit/append-audit";
import { flagHostKeyChanged } from "@/server/services/inventory/record-refresh-failure";
import { checkDispatch, type DispatchVerdict } from "@/server/services/rollouts/dispatch-check";
import { hostFactChanges } from "@/server/services/rollouts/decision-facts";
import { lapseRollout } from "@/server/services/rollouts/lapse-rollout";
import type { PlanHost } from "@/server/services/rollouts/types";
import { advanceRollout } from "@/server/services/rollouts/advance-rollout";
import { claimStep, planOf, type PlanCache } from "./claim-step";
import { progressWriter, type ProgressWriter } from "./step-progress";
import { waveLook, type WaveLook } from "./wave-look";
import type { HostExecutor, HostStepResult } from "./executor";
import type { HostStepJob } from "@/server/services/rollouts/host-step-job";

export type StepDeps = {
  db: PrismaClient;
  /**
   * Runs the step's claim, plan read, final writes (result, timeline, inventory, audit) and gives
   * a claim back; the same SQL as on `db`, without Prisma's client (createSqlPool). Default: `db`.
   */
  sql?: SqlClient;
  boss: PgBoss;
  executor: HostExecutor;
  workerId: string;
  /** A running step whose heartbeat is older than this is taken over by another worker. */
  staleAfterMs?: number;
  heartbeatMs?: number;
  /** The time the policy is asked at (tests move it; defaults to now). */
  clock?: () => Date;
  /** Told when advancing the rollout queued more steps (the worker fetches them at once). */
  onQueued?: (n: number) => void;
  /**
   * Dispatch verdicts of this worker, shared by the steps of one rollout dispatched together: a
   * verdict is reused for at most DISPATCH_VERDICT_MS (and a check in flight is awaited, not
   * repeated), so a wave of N hosts asks the policy about once instead of N times.
   */
  verdicts?: Map<string, { at: number; verdict: Promise<DispatchVerdict> }>;
  /** Plans already read (and parsed) by this worker, by rollout id and plan digest. */
  plans?: PlanCache;
  /** Writes the progress and heartbeats of all the worker's steps together (step-progress.ts). */
  progress?: ProgressWriter;
  /** Shared looks at a wave after steps succeeded (wave-look.ts). */
  waveLook?: WaveLook;
  /**
   * Runs a step's final writes (result, timeline, audit) in a transaction, possibly together with
   * other steps' (see finishBatcher). Without it each step commits its own transaction.
   */
  finishing?: Finisher;
  /** Advances a rollout (advanceRollout), possibly coalescing concurrent calls (advanceCoalescer). */
  advance?: (rolloutId: string) => Promise<void>;
};

type Tx = Sql;
/** `careful`: the write runs alone in its transaction and may take savepoints. */
export type Finisher = (write: (tx: Tx, careful: boolean) => Promise<void>) => Promise<void>;

/** Runs final writes in `tx` with their audit events written together at the end (deferAudit). */
async function auditedTogether(tx: Tx, writes: () => Promise<void>): Promise<void> {
  deferAudit(tx);
  await writes();
  await flushAudit(tx);
}

/**
 * The audit chain is appended under one PostgreSQL advisory lock, so the final writes of steps that
 * end together queue there one transaction (and one commit) each, every waiter holding a pooled
 * connection. A batcher runs the writes that queued while the previous batch was committing in one
 * transaction; if that transaction fails, each write is retried in its own, so one bad step cannot
 * take others down with it.
 */
export function finishBatcher(db: SqlClient, maxBatch = 200): Finisher {
  type Item = {
    write: (tx: Tx, careful: boolean) => Promise<void>;
    resolve: () => void;
    reject: (e: unknown) => void;
  };
  const queue: Item[] = [];
  let running = false;
  const drain = async () => {
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, maxBatch);
        try {
          await db.$transaction((tx) =>
            auditedTogether(tx, async () => {
              for (const it of batch) await it.write(tx, false);
            }),
          );
          for (const it of batch) it.resolve();
        } catch {
          for (const it of batch)
            await db
              .$transaction((tx) => auditedTogether(tx, () => it.write(tx, true)))
              .then(it.resolve, it.reject);
        }
      }
    } finally {
      running = false;
    }
  };
  return (write) =>
    new Promise<void>((resolve, reject) => {
      queue.push({ write, resolve, reject });
      if (!running) void drain();
    });
}

/**
 * Steps that end together would each run advanceRollout (a transaction reading the whole wave)
 * one after the other under its lock. Calls for a rollout already being advanced in this process
 * wait for one more run that starts after the current one — which sees every result committed
 * before the call — instead of queueing a run each.
 */
export function advanceCoalescer(
  run: (rolloutId: string) => Promise<void>,
): (rolloutId: string) => Promise<void> {
  const inFlight = new Map<string, { again: boolean; done: Promise<void> }>();
  return (rolloutId) => {
    const cur = inFlight.get(rolloutId);
    if (cur) {
      cur.again = true;
      return cur.done;
    }
    const entry = { again: false, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        do {
          entry.again = false;
          await run(rolloutId);
        } while (entry.again);
      } finally {
        inFlight.delete(rolloutId);
      }
    })();
    inFlight.set(rolloutId, entry);
    return entry.done;
  };
}

export const DISPATCH_VERDICT_MS = 1_000;

function dispatchVerdict(
  deps: StepDeps,
  r: Parameters<typeof checkDispatch>[1],
  at: Date,
  /** What else the verdict holds for: the active policy's version and the wave. */
  scope: string,
): Promise<DispatchVerdict> {
  const cache = deps.verdicts;
  if (!cache) return checkDispatch(deps.db, r, at);
  const key = `${r.id}:${r.planDigest}:${scope}`;
  const hit = cache.get(key);
  if (hit && Math.abs(at.getTime() - hit.at) < DISPATCH_VERDICT_MS) return hit.verdict;
  const verdict = checkDispatch(deps.db, r, at);
  cache.set(key, { at: at.getTime(), verdict });
  verdict.catch(() => cache.delete(key));
  for (const [k, v] of cache) if (Math.abs(at.getTime() - v.at) > 60_000) cache.delete(k);
  return verdict;
}

export async function runHostStep(deps: StepDeps, job: HostStepJob): Promise<void> {
  const { db, workerId } = deps;
  const sql = deps.sql ?? db;
  const staleMs = deps.staleAfterMs ?? 30_000;
  // One round trip: the claim, the rollout's row, the host's row and live facts, the policy's version.
  const claimed = await claimStep(sql, job.key, workerId, staleMs);
  if (!claimed) return; // done already, or a live worker has it: nothing to do twice
  const reconcile = claimed.attempts > 1;
  const { host } = claimed;
  const row = claimed.rollout;
  const loaded = row?.state === "running" ? await planOf(sql, deps.plans, row) : null;
  // Gives the claimed step back (to the queue, or as cancelled), clearing step and error.
  const returnClaim = (state: string, tx: Sql | Prisma.TransactionClient = sql) =>
    tx.$executeRaw`
      UPDATE rollout_hosts SET state = ${state}, step = NULL, error = NULL
      WHERE idempotency_key = ${job.key} AND claimed_by = ${workerId}`;
  if (!row || row.state !== "running" || !loaded) {
    // Not running any more — or planned again since this step was queued: the sweep dispatches it anew.
    await returnClaim(row?.state === "cancelled" ? "cancelled" : "pending");
    return;
  }
  const r = { ...row, plan: loaded.raw };
  const at = deps.clock ? deps.clock() : new Date();
  // The policy's verdict (over every host's live facts) may be shared with the steps of this wave
  // dispatched in the same second under the same policy version; this host's own facts, the lapse
  // and the policy version were read with the claim, so a change to any of them is caught right here.
  const planned = loaded.byHost.get(job.hostId);
  const mine = planned && planned.action !== "nothing" ? hostFactChanges(planned, claimed.facts) : [];
  const verdict: DispatchVerdict = row.lapseReason
    ? { ok: false, reason: `its approvals lapsed (${row.lapseReason}); plan it again` }
    : mine.length > 0
      ? { ok: false, reason: mine.join("; "), changes: mine }
      : await dispatchVerdict(deps, r, at, `${claimed.policyVersion}:${claimed.wave}`);
  if (!verdict.ok) {
    const v = verdict;
    // Pause and hand the host back in one transaction: released first, the sweep could dispatch it
    // again before the pause landed; paused first, a reader saw a paused rollout with a host running.
    await db.$transaction(async (tx) => {
      if (v.changes)
        await lapseRollout(tx, r, v.changes, {
          actorId: null,
          at: `dispatch of ${host?.name ?? job.hostId} by ${workerId}`,
        });
      const paused = v.changes
        ? { count: 0 }
        : await tx.rollout.updateMany({
            where: { id: r.id, state: "running" },
            data: { state: "paused", pauseReason: `policy at dispatch: ${v.reason}` },
          });
      await returnClaim("pending", tx);
      if (paused.count)
        await appendAudit(tx, {
          actorId: null,
          action: "rollout.pause",
          target: `rollout:${r.number}`,
          detail: { reason: v.reason, by: workerId, host: host?.name },
        });
    });
    for (const k of deps.verdicts?.keys() ?? []) if (k.startsWith(`${r.id}:`)) deps.verdicts!.delete(k);
    return;
  }

  const plan: PlanHost | undefined = planned;
  let result: HostStepResult;
  let last = { step: "connect", bytesSent: 0 };
  if (!host || !plan) result = { outcome: "failed", step: "plan", error: "the host is no longer enrolled" };
  else if (host.hostKeyChanged)
    result = {
      outcome: "failed",
      step: "connect",
      error: `host ${host.name} presented a different SSH host key; an admin must re-pin it`,
    };
  else {
    // Progress and heartbeats go through the worker's writer: one UPDATE for all its steps per flush.
    const own = deps.progress ? null : progressWriter(sql, workerId, { heartbeatMs: deps.heartbeatMs });
    const progress = deps.progress ?? own!;
    progress.begin(job.key);
    try {
      result = await deps.executor.run(
        {
          rollout: {
            id: r.id,
            number: r.number,
            action: r.action as "update" | "rollback",
            app: r.app,
            version: r.version,
          },
          host: { ...host, fingerprint: host.hostKeyFingerprint },
          plan,
          reconcile,
          idempotencyKey: job.key,
        },
        async (p) => {
          last = { step: p.step, bytesSent: p.bytesSent ?? last.bytesSent };
          // Written at the writer's next flush (the page polls anyway); the final update below
          // carries the step and bytes.
          progress.set(job.key, p.step, last.bytesSent);
        },
      );
    } catch (e) {
      result = { outcome: "failed", step: last.step, error: (e as Error).message };
    } finally {
      progress.end(job.key);
      own?.stop();
    }
  }

  const error =
    result.outcome === "succeeded"
      ? null
      : result.outcome === "failed"
        ? `${result.step}: ${result.error}`
        : result.error;
  const message = `rollout ${r.number}: ${r.action} ${r.app}${r.version ? " " + r.version : ""} ${result.outcome}${error ? ` (${error})` : ""}`;
  // The step's result, the host's timeline and the audit entry in one transaction: all or none,
  // and one commit instead of three (shared with the steps that end together: finishBatcher).
  const finish = async (tx: Tx, careful: boolean) => {
    // The result and the timeline event in one statement.
    const [done] = await tx.$queryRaw<{ n: number }[]>`
      WITH done AS (
        UPDATE rollout_hosts SET state = ${result.outcome}, error = ${error}, finished_at = ${new Date()},
          step = ${result.outcome === "failed" ? result.step : "done"},
          bytes_sent = CASE WHEN ${last.bytesSent}::bigint > 0 THEN ${BigInt(last.bytesSent)} ELSE bytes_sent END
        WHERE idempotency_key = ${job.key} AND claimed_by = ${workerId} AND state = 'running'
        RETURNING 1),
      ev AS (
        INSERT INTO host_events (host_id, kind, message, detail)
        SELECT ${host?.id ?? null}::uuid, ${`rollout.${result.outcome}`}, ${message}, ${JSON.stringify({ rolloutId: r.id, key: job.key, reconcile })}::jsonb
        FROM done WHERE ${host?.id ?? null}::uuid IS NOT NULL)
      SELECT count(*)::int AS n FROM done`;
    if (done?.n !== 1) return;
    // The host's facts at the end of the step, into the inventory with the result. A host removed
    // meanwhile (or any failure there) must not undo the step's own result: when careful, under a
    // savepoint. In a batch of steps the first try takes no savepoints (two round trips each);
    // if anything fails there, each step is written again on its own, carefully.
    let inventory: string | null = null;
    if (result.record && !careful) await result.record(tx);
    else if (result.record) {
      await tx.$executeRaw`SAVEPOINT step_facts`;
      try {
        await result.record(tx);
        await tx.$executeRaw`RELEASE SAVEPOINT step_facts`;
      } catch (e) {
        await tx.$executeRaw`ROLLBACK TO SAVEPOINT step_facts`;
        inventory = `not updated: ${(e as Error).message}`;
      }
    }
    if (host && result.outcome === "failed" && result.hostKeyChanged) {
      // Met during the step: flagged (and notified) as a refresh would flag it, so nothing else
      // talks to the host until an admin re-pins the key.
      const [row] = await tx.$queryRaw<{ host_key_changed: boolean }[]>`
        SELECT host_key_changed FROM hosts WHERE id = ${host.id}::uuid FOR UPDATE`;
      if (row)
        await flagHostKeyChanged(
          tx,
          { id: host.id, name: host.name, host_key_changed: row.host_key_changed },
          { message: result.error, presentedFingerprint: result.hostKeyChanged.presented },
          new Date(),
        );
    }
    await appendAudit(tx, {
      actorId: null,
      action: "rollout.host_step",
      target: `rollout:${r.number}`,
      detail: {
        host: host?.name ?? job.hostId,
        outcome: result.outcome,
        error,
        key: job.key,
        attempt: claimed.attempts,
        worker: workerId,
        ...(result.commands ? { commands: result.commands } : {}),
        ...(inventory ? { inventory } : {}),
      },
    });
  };
  await (deps.finishing
    ? deps.finishing(finish)
    : sql.$transaction((tx) => auditedTogether(tx, () => finish(tx, true))));
  // A step that succeeded while others of its wave still run, with none waiting, changes nothing
  // the rollout must react to: skip the rollout lock. Safe for the last step: each step looks
  // after its own result was committed (a shared look starts after every caller's commit), so the
  // one that commits last sees every other done.
  if (result.outcome === "succeeded") {
    const w = await (deps.waveLook ?? waveLook(sql))(r.id, claimed.wave);
    if (w && w.pending === 0 && w.active > 0) return;
  }
  await (deps.advance ? deps.advance(r.id) : advanceRollout(db, deps.boss, r.id, workerId, deps.onQueued));
}
