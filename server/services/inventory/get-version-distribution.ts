// How many hosts run each version of an app (its current version), optionally among the hosts a
// filter selects, and optionally as of a past time (from history, hosts retired since included).
// Hosts without the app are counted separately. Now, unfiltered or by environment only, the
// counts come from app_version_counts and host_environment_counts; unfiltered at a past time, from
// app_version_history_deltas.
import { Prisma } from "@prisma/client";
import { readAppVersionCounts } from "./app-version-counts";
import { compareVersionStrings } from "./compare-versions";
import { readHostEnvironmentCounts } from "./host-environment-counts";
import { resolveHostFilter } from "./host-filter-sql";
import { readVersionsAt } from "./history-counts";
import { hostsAtSql } from "./hosts-at";
import { hostsAtCountSql } from "./hosts-at-count";
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
  const keys = Object.keys(f).filter((k) => f[k as keyof THostFilter] !== undefined);
  const filtered = keys.length > 0;
  const where = await resolveHostFilter(deps.db, f);
  const at = input.at;
  let rows: { version: string; n: number }[];
  let hostCount: number;
  if (!at && (!filtered || (keys.length === 1 && f.environments))) {
    // An empty list of environments filters nothing (as in hostFilterSql).
    const envs = f.environments?.length ? f.environments : undefined;
    const [counts, total] = await Promise.all([
      readAppVersionCounts(deps.db, { apps: [input.app], environments: envs }),
      readHostEnvironmentCounts(deps.db, envs),
    ]);
    const per = new Map<string, number>();
    for (const c of counts) per.set(c.version, (per.get(c.version) ?? 0) + c.hosts);
    rows = [...per].map(([version, n]) => ({ version, n }));
    hostCount = total.reduce((s, e) => s + e.hosts, 0);
  } else if (at && !filtered) {
    // Unfiltered as of T: a period live at T belongs to a host enrolled at T (periods are written
    // for enrolled hosts and end when a host is retired), so the history alone counts the versions,
    // summed from its deltas (history-counts.ts) instead of read period by period.
    const [counts, total] = await Promise.all([
      readVersionsAt(deps.db, input.app, at),
      deps.db.$queryRaw<{ n: bigint }[]>(hostsAtCountSql(at)),
    ]);
    rows = counts.map((r) => ({ version: r.version, n: r.hosts }));
    hostCount = Number(total[0]?.n ?? 0);
  } else {
    const hosts = at ? hostsAtSql(at) : Prisma.sql`hosts`;
    const source = at
      ? Prisma.sql`SELECT x.host_id, x.version FROM installed_version_history x
          WHERE x.app = ${input.app} AND x.is_current AND x.valid_from <= ${at} AND (x.valid_to IS NULL OR x.valid_to > ${at})`
      : Prisma.sql`SELECT x.host_id, x.version FROM installed_versions x WHERE x.app = ${input.app} AND x.is_current`;
    const result = await deps.db.$queryRaw<{ version: string | null; n: bigint }[]>(Prisma.sql`
      SELECT v.version, count(*) AS n FROM (${source}) v JOIN ${hosts} h ON h.id = v.host_id WHERE ${where} GROUP BY v.version
      UNION ALL
      SELECT NULL, count(*) FROM ${hosts} h WHERE ${where}`);
    rows = result.filter((r) => r.version !== null).map((r) => ({ version: r.version!, n: Number(r.n) }));
    hostCount = Number(result.find((r) => r.version === null)?.n ?? 0);
  }
  const versions = rows
    .map((r) => ({ version: r.version, hosts: r.n }))
    .sort((a, b) => compareVersionStrings(b.version, a.version));
  return {
    app: input.app,
    at: at ?? null,
    hostCount,
    withoutApp: hostCount - versions.reduce((s, v) => s + v.hosts, 0),
    versions,
  };
}
