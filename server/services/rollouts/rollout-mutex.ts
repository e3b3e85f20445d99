// Writes to one rollout (answers, start, pause, resume, cancel) take its row lock in PostgreSQL,
// which serialises them across processes. Within one process they also queue here first, so that
// a burst at one rollout holds one pooled connection at a time instead of parking every waiter on
// a connection (twenty parallel approvals used to drain the pool and stall every other request).
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
