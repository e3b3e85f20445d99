// Claiming deliveries. A worker takes due rows (pending and due, or claimed by a worker whose lease
// ran out) in one UPDATE … FOR UPDATE SKIP LOCKED, stamping itself and a lease; any number of
// workers share the outbox and none takes a row another holds. Results are written only while the
// lease is still this worker's, so a worker that stalled past its lease cannot overwrite the
// outcome of the one that took over.
import { Prisma, type PrismaClient } from "@prisma/client";
import { appendAudit } from "@/server/services/audit/append-audit";

export type Claimed = {
  id: string;
  channelId: string | null;
  event: string;
  payload: Prisma.JsonObject;
  attempts: number;
};

export async function claimDeliveries(
  db: PrismaClient,
  o: { workerId: string; leaseMs: number; batch: number },
): Promise<Claimed[]> {
  return db.$queryRaw<Claimed[]>(Prisma.sql`
    UPDATE notification_deliveries SET state = 'delivering', locked_by = ${o.workerId},
      locked_until = now() + make_interval(secs => ${o.leaseMs / 1000}::float8), attempts = attempts + 1
    WHERE id IN (
      SELECT id FROM notification_deliveries
      WHERE (state = 'pending' AND next_attempt_at <= now()) OR (state = 'delivering' AND locked_until < now())
      ORDER BY next_attempt_at
      LIMIT ${o.batch}
      FOR UPDATE SKIP LOCKED)
    RETURNING id, channel_id AS "channelId", event, payload, attempts`);
}

export type Outcome =
  | { ok: true; responseCode: number | null }
  | { ok: false; error: string; responseCode: number | null; permanent?: boolean };

/** Backoff before attempt n+1: base · 2^(n−1), at most an hour (10 s, 20 s, 40 s, … by default). */
export const backoffMs = (attempts: number, baseMs: number) =>
  Math.min(3_600_000, baseMs * 2 ** Math.max(0, attempts - 1));

/** Records one attempt's outcome (a final one is audited with it); returns the row's new state, or null if the lease was lost. */
export async function recordOutcome(
  db: PrismaClient,
  c: Claimed & { channelName?: string },
  out: Outcome,
  o: { workerId: string; maxAttempts: number; backoffBaseMs: number },
): Promise<"delivered" | "pending" | "failed" | null> {
  const state = out.ok ? "delivered" : out.permanent || c.attempts >= o.maxAttempts ? "failed" : "pending";
  const next = new Date(Date.now() + backoffMs(c.attempts, o.backoffBaseMs));
  return db.$transaction(async (tx) => {
    const n = await tx.$executeRaw`
      UPDATE notification_deliveries SET state = ${state}, locked_by = NULL, locked_until = NULL,
        response_code = ${out.responseCode}, last_error = ${out.ok ? null : out.error},
        delivered_at = ${out.ok ? new Date() : null}, next_attempt_at = ${next}
      WHERE id = ${c.id}::uuid AND locked_by = ${o.workerId} AND state = 'delivering'`;
    if (n !== 1) return null;
    if (state !== "pending")
      await appendAudit(tx, {
        actorId: null,
        action: state === "delivered" ? "notification.delivered" : "notification.failed",
        target: `notification:${c.channelName ?? "removed channel"}`,
        detail: {
          delivery: c.id,
          event: c.event,
          attempts: c.attempts,
          responseCode: out.responseCode,
          ...(out.ok ? {} : { error: out.error }),
        },
      });
    return state;
  });
}
