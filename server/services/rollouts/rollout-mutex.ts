// Writes to one rollout (answers, start, pause, resume, cancel) take its row lock in PostgreSQL,
// which serialises them across processes. Within one process they also queue here first, so that
// a burst at one rollout holds one pooled connection at a time instead of parking every waiter on
// a connection (twenty parallel approvals used to drain the pool and stall every other request).
import type { Prisma } from "@prisma/client";
import { AppError } from "@/server/errors";

const tails = new Map<string, Promise<void>>();

export function serializeRollout<T>(rolloutId: string, fn: () => Promise<T>): Promise<T> {
  const prev = tails.get(rolloutId) ?? Promise.resolve();
  const run = prev.then(fn);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  tails.set(rolloutId, tail);
  void tail.then(() => {
    if (tails.get(rolloutId) === tail) tails.delete(rolloutId);
  });
  return run;
}

/** Takes the rollout's row lock for the rest of the transaction and returns its id; NOT_FOUND without it. */
export async function lockRolloutRow(tx: Prisma.TransactionClient, id: string): Promise<string> {
  const [row] = await tx.$queryRaw<
    { id: string }[]
  >`SELECT id::text FROM rollouts WHERE id = ${id}::uuid FOR UPDATE`;
  if (!row) throw new AppError("NOT_FOUND", { message: "no such rollout" });
  return row.id;
}
