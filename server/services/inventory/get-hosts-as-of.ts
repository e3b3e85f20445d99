// "As of T": what each host ran at a past time, from the validity periods in
// installed_version_history. Paged over hosts that existed then (optionally filtered); per host,
// the current version of each app (or of one app) at T.
import { Prisma } from "@prisma/client";
import { resolveHostFilter } from "./host-filter-sql";
import type { InventoryDeps, THostFilter } from "./types";

export type HostAsOfRow = { id: string; name: string; environment: string | null; versions: { app: string; version: string }[] };

export async function getHostsAsOf(
  deps: InventoryDeps,
  input: { at: Date; app?: string; filter?: THostFilter; page?: number; pageSize?: number },
): Promise<{ at: Date; app: string | null; total: number; page: number; pageSize: number; rows: HostAsOfRow[] }> {
  const where = await resolveHostFilter(deps.db, input.filter ?? {});
  const pageSize = Math.min(Math.max(1, input.pageSize ?? 50), 500);
  const page = Math.max(1, input.page ?? 1);
  const at = input.at;
  const appCond = input.app ? Prisma.sql`AND x.app = ${input.app}` : Prisma.empty;
  // With one app, list only the hosts that ran it then; otherwise every host that existed.
  const hasApp = input.app
    ? Prisma.sql`AND EXISTS (SELECT 1 FROM installed_version_history x WHERE x.host_id = h.id ${appCond}
        AND x.is_current AND x.valid_from <= ${at} AND (x.valid_to IS NULL OR x.valid_to > ${at}))`
    : Prisma.empty;
  const scope = Prisma.sql`${where} AND h.created_at <= ${at} ${hasApp}`;
  const [hosts, total] = await Promise.all([
    deps.db.$queryRaw<{ id: string; name: string; environment: string | null }[]>(Prisma.sql`
      SELECT h.id, h.name, h.environment FROM hosts h WHERE ${scope}
      ORDER BY h.name LIMIT ${pageSize} OFFSET ${(page - 1) * pageSize}`),
    deps.db.$queryRaw<{ n: bigint }[]>(Prisma.sql`SELECT count(*) AS n FROM hosts h WHERE ${scope}`),
  ]);
  const versions = hosts.length
    ? await deps.db.$queryRaw<{ host_id: string; app: string; version: string }[]>(Prisma.sql`
        SELECT x.host_id, x.app, x.version FROM installed_version_history x
        WHERE x.host_id IN (${Prisma.join(hosts.map((h) => Prisma.sql`${h.id}::uuid`))}) ${appCond}
          AND x.is_current AND x.valid_from <= ${at} AND (x.valid_to IS NULL OR x.valid_to > ${at})
        ORDER BY x.app`)
    : [];
  const byHost = new Map<string, { app: string; version: string }[]>();
  for (const v of versions) {
    const l = byHost.get(v.host_id) ?? [];
    l.push({ app: v.app, version: v.version });
    byHost.set(v.host_id, l);
  }
  return {
    at,
    app: input.app ?? null,
    total: Number(total[0]?.n ?? 0),
    page,
    pageSize,
    rows: hosts.map((h) => ({ ...h, versions: byHost.get(h.id) ?? [] })),
  };
}
