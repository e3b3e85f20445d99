// Runs one host step of a rollout, exactly once: claim it in rollout_hosts (only a queued step, or
// a running one whose worker stopped sending heartbeats), ask the policy again, run the executor
// with heartbeats, record the result on the step, the host's timeline and the audit log, then let
// the rollout advance.
import type { Prisma, PrismaClient } from "@prisma/client";
import type PgBoss from "pg-boss";
import { appendAudit } from "@/server/services/audit/append-audit";
import { flagHostKeyChanged } from "@/server/services/inventory/record-refresh-failure";
import { checkDispatch, type DispatchVerdict } from "@/server/services/rollouts/dispatch-check";
import { liveFactChanges } from "@/server/services/rollouts/decision-facts";
import { lapseRollout } from "@/server/services/rollouts/lapse-rollout";
import { parseRolloutPlan } from "@/server/services/rollouts/plan-schema";
import type { PlanHost } from "@/server/services/rollouts/types";
import { advanceRollout } from "./advance-rollout";
import type { HostExecutor, HostStepResult } from "./executor";
import type { HostStepJob } from "./queue";

export type StepDeps = {
  db: PrismaClient;
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
  /** Plans already read by this worker, by rollout id and plan digest. */
  plans?: Map<string, unknown>;
  /**
   * Runs a step's final writes (result, timeline, audit) in a transaction, possibly together with
   * other steps' (see finishBatcher). Without it each step commits its own transaction.
   */
  finishing?: Finisher;
  /** Advances a rollout (advanceRollout), possibly coalescing concurrent calls (advanceCoalescer). */
  advance?: (rolloutId: string) => Promise<void>;
};

type Tx = Prisma.TransactionClient;
export type Finisher = (write: (tx: Tx) => Promise<void>) => Promise<void>;

/**
 * The audit chain is appended under one PostgreSQL advisory lock, so the final writes of steps that
 * end together queue there one transaction (and one commit) each, every waiter holding a pooled
 * connection. A batcher runs the writes that queued while the previous batch was committing in one
 * transaction; if that transaction fails, each write is retried in its own, so one bad step cannot
 * take others down with it.
 */
export function finishBatcher(db: PrismaClient, maxBatch = 200): Finisher {
  type Item = { write: (tx: Tx) => Promise<void>; resolve: () => void; reject: (e: unknown) => void };
  const queue: Item[] = [];
  let running = false;
  const drain = async () => {
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, maxBatch);
        try {
          await db.$transaction(async (tx) => {
            for (const it of batch) await it.write(tx);
          });
          for (const it of batch) it.resolve();
        } catch {
          for (const it of batch) await db.$transaction((tx) => it.write(tx)).then(it.resolve, it.reject);
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
/** Progress (step name, bytes) is written at most this often per host; the final result always is. */
const PROGRESS_WRITE_MS = 250;

function dispatchVerdict(
  deps: StepDeps,
  r: Parameters<typeof checkDispatch>[1],
  at: Date,
): Promise<DispatchVerdict> {
  const cache = deps.verdicts;
  if (!cache) return checkDispatch(deps.db, r, at);
  const key = `${r.id}:${r.planDigest}`;
  const hit = cache.get(key);
  if (hit && Math.abs(at.getTime() - hit.at) < DISPATCH_VERDICT_MS) return hit.verdict;
  const verdict = checkDispatch(deps.db, r, at);
  cache.set(key, { at: at.getTime(), verdict });
  verdict.catch(() => cache.delete(key));
  for (const [k, v] of cache) if (Math.abs(at.getTime() - v.at) > 60_000) cache.delete(k);
  return verdict;
}

const ROLLOUT_COLUMNS = {
  id: true,
  number: true,
  state: true,
  action: true,
  app: true,
  version: true,
  planDigest: true,
  createdById: true,
} as const;

type RolloutRow = {
  id: string;
  number: number;
  state: string;
  action: string;
  app: string;
  version: string | null;
  planDigest: string;
  createdById: string;
};

/**
 * The rollout with its plan. A plan never changes under the same digest (a replan makes a new
 * one), so a worker reads each plan once, not once per host: it is O(hosts) to read and parse.
 */
async function loadRollout(deps: StepDeps, id: string) {
  const { db } = deps;
  if (!deps.plans)
    return db.rollout.findUnique({ where: { id }, select: { ...ROLLOUT_COLUMNS, plan: true } });
  // Raw SQL on the per-step path: a Prisma model query costs several times its SQL here.
  const [r] = await db.$queryRaw<RolloutRow[]>`
    SELECT id, number, state, action, app, version, plan_digest AS "planDigest", created_by_id AS "createdById"
    FROM rollouts WHERE id = ${id}::uuid`;
  if (!r) return null;
  const key = `${r.id}:${r.planDigest}`;
  let plan = deps.plans.get(key);
  if (plan === undefined) {
    const p = await db.rollout.findFirst({ where: { id, planDigest: r.planDigest }, select: { plan: true } });
    if (!p) return db.rollout.findUnique({ where: { id }, select: { ...ROLLOUT_COLUMNS, plan: true } });
    plan = p.plan;
    if (deps.plans.size >= 16) deps.plans.delete(deps.plans.keys().next().value!);
    deps.plans.set(key, plan);
  }
  return { ...r, plan };
}

export async function runHostStep(deps: StepDeps, job: HostStepJob): Promise<void> {
  const { db, workerId } = deps;
  const staleMs = deps.staleAfterMs ?? 30_000;
  const claimed = await db.$queryRaw<{ attempts: number }[]>`
    UPDATE rollout_hosts SET state = 'running', claimed_by = ${workerId}, heartbeat_at = now(),
      attempts = attempts + 1, started_at = COALESCE(started_at, now())
    WHERE idempotency_key = ${job.key}
      AND (state = 'queued' OR (state = 'running' AND heartbeat_at < now() - make_interval(secs => ${staleMs / 1000})))
    RETURNING attempts`;
  if (claimed.length === 0) return; // done already, or a live worker has it: nothing to do twice
  const reconcile = claimed[0]!.attempts > 1;

  const r = await loadRollout(deps, job.rolloutId);
  const [host] = await db.$queryRaw<
    {
      id: string;
      name: string;
      address: string;
      port: number;
      user: string;
      hostKeyFingerprint: string;
      hostKeyChanged: boolean;
      sudoMode: string;
    }[]
  >`
    SELECT id, name, address, port, "user", host_key_fingerprint AS "hostKeyFingerprint", host_key_changed AS "hostKeyChanged", sudo_mode AS "sudoMode"
    FROM hosts WHERE id = ${job.hostId}::uuid`;
  // Gives the claimed step back (to the queue, or as cancelled), clearing step and error.
  const returnClaim = (state: string, tx: Prisma.TransactionClient = db) =>
    tx.rolloutHost.updateMany({
      where: { idempotencyKey: job.key, claimedBy: workerId },
      data: { state, step: null, error: null },
    });
  if (!r || r.state !== "running") {
    await returnClaim(r?.state === "cancelled" ? "cancelled" : "pending");
    return;
  }
  let verdict = await dispatchVerdict(deps, r, deps.clock ? deps.clock() : new Date());
  // The policy's verdict may be shared with the steps dispatched in the same second; the facts it
  // rests on are read again for every step, so a host changed since is caught right here.
  if (verdict.ok) {
    const { changes } = await liveFactChanges(db, parseRolloutPlan(r.plan, r.number));
    if (changes.length > 0) verdict = { ok: false, reason: changes.join("; "), changes };
  }
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
    deps.verdicts?.delete(`${r.id}:${r.planDigest}`);
    return;
  }

  const plan: PlanHost | undefined = parseRolloutPlan(r.plan, r.number).hosts.find(
    (h) => h.hostId === job.hostId,
  );
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
    let lastWrite = 0;
    const beat = setInterval(() => {
      void db.$executeRaw`UPDATE rollout_hosts SET heartbeat_at = now() WHERE idempotency_key = ${job.key} AND claimed_by = ${workerId}`.catch(
        () => undefined,
      );
    }, deps.heartbeatMs ?? 5_000);
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
          // A step of a second or two would otherwise write five rows' worth of progress; the
          // page polls anyway, and the final update below carries the step and bytes.
          if (Date.now() - lastWrite < PROGRESS_WRITE_MS) return;
          lastWrite = Date.now();
          await db.$executeRaw`
            UPDATE rollout_hosts SET step = ${p.step}, bytes_sent = ${BigInt(last.bytesSent)}, heartbeat_at = now()
            WHERE idempotency_key = ${job.key} AND claimed_by = ${workerId}`;
        },
      );
    } catch (e) {
      result = { outcome: "failed", step: last.step, error: (e as Error).message };
    } finally {
      clearInterval(beat);
    }
  }

  const error =
    result.outcome === "succeeded"
      ? null
      : result.outcome === "failed"
        ? `${result.step}: ${result.error}`
        : result.error;
  // The step's result, the host's timeline and the audit entry in one transaction: all or none,
  // and one commit instead of three.
  const finish = async (tx: Tx) => {
    const done = await tx.$executeRaw`
      UPDATE rollout_hosts SET state = ${result.outcome}, error = ${error}, finished_at = ${new Date()},
        step = ${result.outcome === "failed" ? result.step : "done"},
        bytes_sent = CASE WHEN ${last.bytesSent}::bigint > 0 THEN ${BigInt(last.bytesSent)} ELSE bytes_sent END
      WHERE idempotency_key = ${job.key} AND claimed_by = ${workerId} AND state = 'running'`;
    if (done !== 1) return;
    // The host's facts at the end of the step, into the inventory with the result. Under a savepoint:
    // a host removed meanwhile (or any failure there) must not undo the step's own result.
    let inventory: string | null = null;
    if (result.record) {
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
    if (host) {
      const message = `rollout ${r.number}: ${r.action} ${r.app}${r.version ? " " + r.version : ""} ${result.outcome}${error ? ` (${error})` : ""}`;
      await tx.$executeRaw`
        INSERT INTO host_events (host_id, kind, message, detail)
        VALUES (${host.id}::uuid, ${`rollout.${result.outcome}`}, ${message}, ${JSON.stringify({ rolloutId: r.id, key: job.key, reconcile })}::jsonb)`;
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
        attempt: claimed[0]!.attempts,
        worker: workerId,
        ...(result.commands ? { commands: result.commands } : {}),
        ...(inventory ? { inventory } : {}),
      },
    });
  };
  await (deps.finishing ? deps.finishing(finish) : db.$transaction(finish));
  // A step that succeeded while others of its wave still run, with none waiting, changes nothing
  // the rollout must react to: skip the rollout lock. Safe for the last step: each step looks
  // after its own result was committed, so the one that commits last sees every other done.
  if (result.outcome === "succeeded") {
    const [w] = await db.$queryRaw<{ pending: number; active: number }[]>`
      SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending,
             count(*) FILTER (WHERE state IN ('queued', 'running'))::int AS active
      FROM rollout_hosts
      WHERE rollout_id = ${r.id}::uuid AND wave = (SELECT wave FROM rollout_hosts WHERE idempotency_key = ${job.key})`;
    if (w && w.pending === 0 && w.active > 0) return;
  }
  await (deps.advance ? deps.advance(r.id) : advanceRollout(db, deps.boss, r.id, workerId, deps.onQueued));
}
