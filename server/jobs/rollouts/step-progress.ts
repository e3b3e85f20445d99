// Progress (step name, bytes sent) and heartbeats of every host step a worker runs, written together:
// one UPDATE per flush for all the steps that reported something new, and one heartbeat UPDATE per
// heartbeat interval for all the steps in flight — instead of a timer and a write per step. A step's
// final write (run-host-step.ts) carries its last step and bytes itself, and every write here is
// guarded by `claimed_by` and `state = 'running'`, so a late flush never touches a finished step.
import type { Sql } from "@/server/db";

export type ProgressWriter = {
  /** A step this worker claimed: its heartbeat is kept until `end`. */
  begin(key: string): void;
  /** The step's latest progress, written at the next flush (a later call replaces an unwritten one). */
  set(key: string, step: string, bytesSent: number): void;
  /** The step ended: nothing more is written for it. */
  end(key: string): void;
  stop(): void;
};

export function progressWriter(
  db: Sql,
  workerId: string,
  o: { flushMs?: number; heartbeatMs?: number } = {},
): ProgressWriter {
  const flushMs = o.flushMs ?? 250;
  const heartbeatMs = o.heartbeatMs ?? 5_000;
  const live = new Set<string>();
  const dirty = new Map<string, { step: string; bytes: number }>();
  let timer: NodeJS.Timeout | null = null;
  let lastBeat = Date.now();
  let busy = false;

  const flush = async () => {
    if (busy) return;
    busy = true;
    try {
      if (dirty.size > 0) {
        const rows = [...dirty].map(([key, p]) => ({ key, step: p.step, bytes: String(p.bytes) }));
        dirty.clear();
        await db.$executeRaw`
          UPDATE rollout_hosts r SET step = v.step, bytes_sent = v.bytes, heartbeat_at = now()
          FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS v(key text, step text, bytes bigint)
          WHERE r.idempotency_key = v.key AND r.claimed_by = ${workerId} AND r.state = 'running'`;
      }
      if (Date.now() - lastBeat >= heartbeatMs && live.size > 0) {
        lastBeat = Date.now();
        await db.$executeRaw`
          UPDATE rollout_hosts SET heartbeat_at = now()
          WHERE idempotency_key = ANY(${[...live]}::text[]) AND claimed_by = ${workerId} AND state = 'running'`;
      }
    } catch {
      // A lost write is harmless: progress is advisory, and the next beat renews the heartbeat.
    } finally {
      busy = false;
    }
  };
  const tick = () => {
    if (live.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
    void flush();
  };

  return {
    begin(key) {
      live.add(key);
      if (!timer) {
        lastBeat = Date.now(); // the claim itself set the heartbeat
        timer = setInterval(tick, flushMs);
        timer.unref();
      }
    },
    set(key, step, bytes) {
      if (live.has(key)) dirty.set(key, { step, bytes });
    },
    end(key) {
      live.delete(key);
      dirty.delete(key);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
      live.clear();
      dirty.clear();
    },
  };
}
