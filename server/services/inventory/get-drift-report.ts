// Drift from the target versions: for each target (app × fleet / environment / group), how many
// hosts in that scope run the target, run something older or newer, or lack the app. One query over
// all targets: scopes are an OR of fleet, environment, static-group and filter-group predicates.
import { Prisma } from "@prisma/client";
import { compareVersionStrings } from "./compare-versions";
import { hostFilterSql } from "./host-filter-sql";
import { ZHostFilter, type InventoryDeps } from "./types";

export type DriftRow = {
  targetId: string;
  app: string;
  targetVersion: string;
  scopeKind: string;
  scopeKey: string;
  scopeName: string;
  hosts: number;
  onTarget: number;
  behind: number;
  ahead: number;
  missing: number;
  versions: { version: string | null; hosts: number }[];
};

export async function getDriftReport(deps: InventoryDeps, input: { app?: string } = {}): Promise<DriftRow[]> {
  const targets = await deps.db.appTarget.findMany({
    where: input.app ? { app: input.app } : {},
    select: { id: true, app: true, version: true, scopeKind: true, scopeKey: true, group: { select: { id: true, name: true, kind: true, filter: true } } },
    orderBy: [{ app: "asc" }, { scopeKind: "asc" }, { scopeKey: "asc" }],
  });
  if (targets.length === 0) return [];
  const scopes: Prisma.Sql[] = [
    Prisma.sql`t.scope_kind = 'fleet'`,
    Prisma.sql`(t.scope_kind = 'environment' AND h.environment = t.scope_key)`,
    Prisma.sql`(t.scope_kind = 'group' AND EXISTS (SELECT 1 FROM host_group_members m WHERE m.group_id = t.group_id AND m.host_id = h.id))`,
  ];
  const filterGroups = new Map<string, unknown>();
  for (const t of targets) if (t.group?.kind === "filter") filterGroups.set(t.group.id, t.group.filter);
  for (const [id, filter] of filterGroups) {
    const parsed = filter ? ZHostFilter.safeParse(filter) : null;
    const pred = parsed?.success ? hostFilterSql({ ...parsed.data, groupId: undefined }) : Prisma.sql`FALSE`;
    scopes.push(Prisma.sql`(t.group_id = ${id}::uuid AND ${pred})`);
  }
  const ids = targets.map((t) => Prisma.sql`${t.id}::uuid`);
  const rows = await deps.db.$queryRaw<{ target_id: string; version: string | null; n: bigint }[]>(Prisma.sql`
    SELECT t.id AS target_id, iv.version, count(*) AS n
    FROM app_targets t
    JOIN hosts h ON (${Prisma.join(scopes, " OR ")})
    LEFT JOIN installed_versions iv ON iv.host_id = h.id AND iv.app = t.app AND iv.is_current
    WHERE t.id IN (${Prisma.join(ids)})
    GROUP BY t.id, iv.version`);
  const byTarget = new Map<string, { version: string | null; hosts: number }[]>();
  for (const r of rows) {
    const l = byTarget.get(r.target_id) ?? [];
    l.push({ version: r.version, hosts: Number(r.n) });
    byTarget.set(r.target_id, l);
  }
  return targets.map((t) => {
    const versions = (byTarget.get(t.id) ?? []).sort((a, b) =>
      a.version === null ? 1 : b.version === null ? -1 : compareVersionStrings(b.version, a.version),
    );
    const sum = (pred: (v: string | null) => boolean) => versions.filter((v) => pred(v.version)).reduce((s, v) => s + v.hosts, 0);
    return {
      targetId: t.id,
      app: t.app,
      targetVersion: t.version,
      scopeKind: t.scopeKind,
      scopeKey: t.scopeKey,
      scopeName: t.scopeKind === "fleet" ? "whole fleet" : t.scopeKind === "group" ? `group ${t.group?.name ?? t.scopeKey}` : `env ${t.scopeKey}`,
      hosts: sum(() => true),
      onTarget: sum((v) => v === t.version),
      behind: sum((v) => v !== null && compareVersionStrings(v, t.version) < 0),
      ahead: sum((v) => v !== null && compareVersionStrings(v, t.version) > 0),
      missing: sum((v) => v === null),
      versions,
    };
  });
}
