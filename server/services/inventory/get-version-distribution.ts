// How many hosts run each version of an app (its current version), optionally among the hosts a
// filter selects, and optionally as of a past time (from history). Hosts without the app are
// counted separately.
import { Prisma } from "@prisma/client";
import { compareVersionStrings } from "./compare-versions";
import { resolveHostFilter } from "./host-filter-sql";
import type { InventoryDeps, THostFilter } from "./types";

export type VersionDistribution = {
  app: string;
  at: Date | null;
  hostCount: number;
  withoutApp: number;
  versions: { version: string; hosts: number }[];
};

export async function getVersionDistribution(
  deps: InventoryDeps,
  input: { app: string; at?: Date; filter?: THostFilter },
): Promise<VersionDistribution> {
  const f = input.filter ?? {};
  const filtered = Object.keys(f).length > 0;
  const where = await resolveHostFilter(deps.db, f);
  const at = input.at;
  // Hosts that existed then: hosts are deleted with their history, so creation time is the bound.
  const hostScope = at ? Prisma.sql`${where} AND h.created_at <= ${at}` : where;
  const source = at
    ? Prisma.sql`SELECT x.host_id, x.version FROM installed_version_history x
        WHERE x.app = ${input.app} AND x.is_current AND x.valid_from <= ${at} AND (x.valid_to IS NULL OR x.valid_to > ${at})`
    : Prisma.sql`SELECT x.host_id, x.version FROM installed_versions x WHERE x.app = ${input.app} AND x.is_current`;
  const needsJoin = filtered || at !== undefined;
  const [rows, total] = await Promise.all([
    deps.db.$queryRaw<{ version: string; n: bigint }[]>(
      needsJoin
        ? Prisma.sql`SELECT v.version, count(*) AS n FROM (${source}) v JOIN hosts h ON h.id = v.host_id WHERE ${hostScope} GROUP BY v.version`
        : Prisma.sql`SELECT v.version, count(*) AS n FROM (${source}) v GROUP BY v.version`,
    ),
    deps.db.$queryRaw<{ n: bigint }[]>(Prisma.sql`SELECT count(*) AS n FROM hosts h WHERE ${hostScope}`),
  ]);
  const versions = rows
    .map((r) => ({ version: r.version, hosts: Number(r.n) }))
    .sort((a, b) => compareVersionStrings(b.version, a.version));
  const hostCount = Number(total[0]?.n ?? 0);
  return { app: input.app, at: at ?? null, hostCount, withoutApp: hostCount - versions.reduce((s, v) => s + v.hosts, 0), versions };
}
