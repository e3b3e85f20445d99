// Every app known to the fleet with how many hosts run it (have a current version) and how many
// distinct versions are current somewhere: one index-only scan of (is_current, app, version).
import { Prisma } from "@prisma/client";
import type { InventoryDeps } from "./types";

export type AppSummary = { app: string; hosts: number; versions: number };

export async function listApps(deps: InventoryDeps): Promise<AppSummary[]> {
  const rows = await deps.db.$queryRaw<{ app: string; version: string; n: bigint }[]>(Prisma.sql`
    SELECT app, version, count(*) AS n FROM installed_versions WHERE is_current GROUP BY app, version ORDER BY app`);
  const out = new Map<string, AppSummary>();
  for (const r of rows) {
    const a = out.get(r.app) ?? { app: r.app, hosts: 0, versions: 0 };
    a.hosts += Number(r.n);
    a.versions += 1;
    out.set(r.app, a);
  }
  return [...out.values()];
}
