// The scheduled inventory refresh. Every tick (jittered) it claims the hosts whose last refresh is
// older than the interval — each host's due time is shifted by a stable per-host fraction of the
// jitter window, so a fleet enrolled at once is not hit at once — and refreshes them with bounded
// concurrency. Claiming stamps last_refresh_at in one UPDATE … FOR UPDATE SKIP LOCKED, so several
// console processes share the work and no host is refreshed twice in one interval.
// Env: KEEL_INVENTORY_REFRESH_SECONDS (default 900; 0 turns the loop off),
//      KEEL_INVENTORY_REFRESH_CONCURRENCY (default 16), KEEL_INVENTORY_REFRESH_JITTER (0–1, default 0.2).
import { Prisma, type PrismaClient } from "@prisma/client";
import { refreshHosts, type RefreshHostsSummary } from "@/server/services/inventory/refresh-hosts";
import type { InventorySsh } from "@/server/services/inventory/types";

export type RefreshLoopOptions = {
  db: PrismaClient;
  ssh: InventorySsh;
  intervalMs: number;
  /** Fraction of the interval by which hosts' due times are spread (0–1). */
  jitter?: number;
  concurrency?: number;
  /** Hosts claimed per tick at most. */
  batch?: number;
  /** Time between ticks (default interval/10, at least 5 s), itself jittered ±50 %. */
  tickMs?: number;
  log?: (line: string) => void;
};

export type RefreshLoop = { tick(): Promise<RefreshHostsSummary | null>; stop(): Promise<void> };

/** Claim the hosts due now (stamping last_refresh_at) and return their ids. */
export async function claimDueHosts(
  db: PrismaClient,
  o: { intervalMs: number; jitter: number; batch: number },
): Promise<string[]> {
  const rows = await db.$queryRaw<{ id: string }[]>(Prisma.sql`
    UPDATE hosts SET last_refresh_at = now()
    WHERE id IN (
      SELECT id FROM hosts
      WHERE NOT host_key_changed
        AND (last_refresh_at IS NULL
          OR last_refresh_at < now() - make_interval(secs => ${o.intervalMs / 1000}::float8
               * (1 - ${o.jitter}::float8 * ((hashtext(id::text) & 1023) / 1023.0))))
      ORDER BY last_refresh_at NULLS FIRST
      LIMIT ${o.batch}
      FOR UPDATE SKIP LOCKED)
    RETURNING id`);
  return rows.map((r) => r.id);
}

export function startInventoryRefreshLoop(o: RefreshLoopOptions): RefreshLoop {
  const jitter = Math.min(1, Math.max(0, o.jitter ?? 0.2));
  const tickMs = o.tickMs ?? Math.max(5_000, o.intervalMs / 10);
  const log = o.log ?? (() => undefined);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  const tick = async (): Promise<RefreshHostsSummary | null> => {
    const ids = await claimDueHosts(o.db, { intervalMs: o.intervalMs, jitter, batch: o.batch ?? 500 });
    if (!ids.length) return null;
    const r = await refreshHosts(
      { db: o.db, ssh: o.ssh },
      { hostIds: ids },
      { concurrency: o.concurrency ?? 16 },
    );
    log(
      `inventory refresh: ${r.total} hosts, ${r.ok} ok, ${r.changed} changed, ${r.unreachable} unreachable, ${r.keyChanged} key changed (${r.ms} ms)`,
    );
    return r;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(
      () => {
        running = tick()
          .catch((e: unknown) => log(`inventory refresh failed: ${(e as Error).message}`))
          .finally(schedule);
      },
      tickMs * (0.5 + Math.random()),
    );
    timer.unref?.();
  };
  schedule();
  return {
    tick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** The loop configured from the environment, or null when KEEL_INVENTORY_REFRESH_SECONDS=0. */
export function startInventoryRefreshFromEnv(
  db: PrismaClient,
  ssh: InventorySsh,
  env = process.env,
  log?: (l: string) => void,
): RefreshLoop | null {
  const seconds = Number(env.KEEL_INVENTORY_REFRESH_SECONDS ?? 900);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new Error(
      "KEEL_INVENTORY_REFRESH_SECONDS must be a number of seconds (0 turns the refresh loop off)",
    );
  if (seconds === 0) return null;
  return startInventoryRefreshLoop({
    db,
    ssh,
    intervalMs: seconds * 1000,
    jitter: env.KEEL_INVENTORY_REFRESH_JITTER ? Number(env.KEEL_INVENTORY_REFRESH_JITTER) : undefined,
    concurrency: env.KEEL_INVENTORY_REFRESH_CONCURRENCY
      ? Number(env.KEEL_INVENTORY_REFRESH_CONCURRENCY)
      : undefined,
    log,
  });
}
