// Refreshes a selection of hosts (or all) with bounded concurrency and reports per host.
import { Prisma } from "@prisma/client";
import { AppError } from "@/server/errors";
import { resolveHostFilter } from "./host-filter-sql";
import { refreshHost, type RefreshResult } from "./refresh-host";
import type { InventoryDeps, THostFilter } from "./types";

export const DEFAULT_REFRESH_CONCURRENCY = 16;

/** Run `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export type RefreshHostsSummary = {
  total: number;
  ok: number;
  changed: number;
  unreachable: number;
  keyChanged: number;
  skipped: number;
  results: RefreshResult[];
  ms: number;
};

export type RefreshTarget = { hostIds: string[] } | { filter: THostFilter } | { all: true };

/** The ids of the hosts a refresh request names (a filter or "all" resolved now, by name). */
export async function resolveRefreshTargets(
  deps: Pick<InventoryDeps, "db">,
  target: RefreshTarget,
): Promise<string[]> {
  if ("hostIds" in target) return target.hostIds;
  const where = "filter" in target ? await resolveHostFilter(deps.db, target.filter) : Prisma.sql`TRUE`;
  return (
    await deps.db.$queryRaw<{ id: string }[]>(
      Prisma.sql`SELECT h.id FROM hosts h WHERE ${where} ORDER BY h.name`,
    )
  ).map((r) => r.id);
}

export async function refreshHosts(
  deps: InventoryDeps,
  target: RefreshTarget,
  opts: { concurrency?: number } = {},
): Promise<RefreshHostsSummary> {
  const started = Date.now();
  const ids = await resolveRefreshTargets(deps, target);
  const results = await mapLimit(ids, opts.concurrency ?? DEFAULT_REFRESH_CONCURRENCY, (id) =>
    // A host removed while the fan-out runs is skipped, not an error for the whole batch.
    refreshHost(deps, id).catch((e: unknown): RefreshResult => {
      if (e instanceof AppError && e.code === "NOT_FOUND")
        return { hostId: id, name: id, status: "skipped", changed: false, message: e.message, ms: 0 };
      throw e;
    }),
  );
  const count = (s: RefreshResult["status"]) => results.filter((r) => r.status === s).length;
  return {
    total: results.length,
    ok: count("ok"),
    changed: results.filter((r) => r.changed).length,
    unreachable: count("unreachable"),
    keyChanged: count("key-changed"),
    skipped: count("skipped"),
    results,
    ms: Date.now() - started,
  };
}
