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
  const live = Prisma.sql`x.is_current AND x.valid_from <= ${at} AND (x.valid_to IS NULL OR x.valid_to > ${at})`;
  let hosts: { id: string; name: string; environment: string | null }[];
  let total: number;
  let versions: { host_id: string; app: string; version: string }[];
  if (input.app) {
    // One app: start from the app's periods live at T (index-only scan), then join the hosts.
    const rows = await deps.db.$queryRaw<{ id: string; name: string; environment: string | null; version: string; total: bigint }[]>(Prisma.sql`
      SELECT h.id, h.name, h.environment, x.version, count(*) OVER () AS total
      FROM installed_version_history x JOIN hosts h ON h.id = x.host_id
      WHERE x.app = ${input.app} AND ${live} AND ${where} AND h.created_at <= ${at}
      ORDER BY h.name LIMIT ${pageSize} OFFSET ${(page - 1) * pageSize}`);
    hosts = rows.map(({ id, name, environment }) => ({ id, name, environment }));
    versions = rows.map((r) => ({ host_id: r.id, app: input.app!, version: r.version }));
    total =
      rows.length > 0
        ? Number(rows[0]!.total)
        : Number(
            (
              await deps.db.$queryRaw<{ n: bigint }[]>(Prisma.sql`
                SELECT count(*) AS n FROM installed_version_history x JOIN hosts h ON h.id = x.host_id
                WHERE x.app = ${input.app} AND ${live} AND ${where} AND h.created_at <= ${at}`)
            )[0]?.n ?? 0,
          );
  } else {
    const scope = Prisma.sql`${where} AND h.created_at <= ${at}`;
    const [page_, count] = await Promise.all([
      deps.db.$queryRaw<{ id: string; name: string; environment: string | null }[]>(Prisma.sql`
        SELECT h.id, h.name, h.environment FROM hosts h WHERE ${scope}
        ORDER BY h.name LIMIT ${pageSize} OFFSET ${(page - 1) * pageSize}`),
      deps.db.$queryRaw<{ n: bigint }[]>(Prisma.sql`SELECT count(*) AS n FROM hosts h WHERE ${scope}`),
    ]);
    hosts = page_;
    total = Number(count[0]?.n ?? 0);
    versions = hosts.length
      ? await deps.db.$queryRaw<{ host_id: string; app: string; version: string }[]>(Prisma.sql`
          SELECT x.host_id, x.app, x.version FROM installed_version_history x
          WHERE x.host_id IN (${Prisma.join(hosts.map((h) => Prisma.sql`${h.id}::uuid`))}) AND ${live}
          ORDER BY x.app`)
      : [];
  }
  const byHost = new Map<string, { app: string; version: string }[]>();
  for (const v of versions) {
    const l = byHost.get(v.host_id) ?? [];
    l.push({ app: v.app, version: v.version });
    byHost.set(v.host_id, l);
  }
  return {
    at,
    app: input.app ?? null,
    total,
    page,
    pageSize,
    rows: hosts.map((h) => ({ ...h, versions: byHost.get(h.id) ?? [] })),
  };
}
