// After a step succeeded: how many steps of its wave are still waiting or in flight (advance-rollout
// needs to run only when none is in flight or some wait). Steps that end together (one batch of
// final writes) share one look: a look starts on the next turn of the event loop after the first
// call, so every caller's result was committed before it starts, and the calls made meanwhile join it.
import type { Sql } from "@/server/db";

export type WaveCounts = { pending: number; active: number };
export type WaveLook = (rolloutId: string, wave: number) => Promise<WaveCounts | undefined>;

export function waveLook(db: Sql): WaveLook {
  const waiting = new Map<string, Promise<WaveCounts | undefined>>();
  return (rolloutId, wave) => {
    const key = `${rolloutId}:${wave}`;
    const joined = waiting.get(key);
    if (joined) return joined;
    const p = new Promise<void>((go) => setImmediate(go)).then(async () => {
      waiting.delete(key); // started: later calls make a look of their own
      const [w] = await db.$queryRaw<WaveCounts[]>`
        SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending,
               count(*) FILTER (WHERE state IN ('queued', 'running'))::int AS active
        FROM rollout_hosts WHERE rollout_id = ${rolloutId}::uuid AND wave = ${wave}`;
      return w;
    });
    waiting.set(key, p);
    return p;
  };
}
