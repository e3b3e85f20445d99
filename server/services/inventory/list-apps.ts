// Every app known to the fleet with how many hosts run it (have a current version) and how many
// distinct versions are current somewhere. Served by the (app, is_current, version) index.
import { Prisma } from "@prisma/client";
import type { InventoryDeps } from "./types";

export type AppSummary = { app: string; kind: string; hosts: number; versions: number };

export async function listApps(deps: InventoryDeps): Promise<AppSummary[]> {
  const rows = await deps.db.$queryRaw<{ app: string; kind: string; hosts: bigint; versions: bigint }[]>(Prisma.sql`
    SELECT app, min(kind) AS kind, count(*) AS hosts, count(DISTINCT version) AS versions
    FROM installed_versions WHERE is_current GROUP BY app ORDER BY app`);
  return rows.map((r) => ({ app: r.app, kind: r.kind, hosts: Number(r.hosts), versions: Number(r.versions) }));
}
