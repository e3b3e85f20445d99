// Drift from the target versions: for each target (app × fleet / environment / group), how many
// hosts in that scope run the target, something older, something newer, or lack the app.
// Fleet and environment scopes come from app_version_counts and host_environment_counts, static groups
// and the console's filter groups from group_app_version_counts with their members from
// host_group_members / filter_group_members (all kept by triggers, exact); a filter group the
// console did not write is one more statement over its hosts' current versions; they run concurrently.
import { Prisma } from "@prisma/client";
import { readAppVersionCounts, readGroupAppVersionCounts } from "./app-version-counts";
import { compareVersionStrings } from "./compare-versions";
import { keptFilter } from "./filter-group-members";
import { readHostEnvironmentCounts } from "./host-environment-counts";
import { hostFilterSql } from "./host-filter-sql";
import { appTargetsOf } from "./hosts/list-app-targets";
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

type Counts = { versions: Map<string, Map<string, number>>; hosts: number };
const appIn = (apps: string[]) => Prisma.sql`iv.app IN (${Prisma.join(apps)})`;

function addCount(m: Map<string, Map<string, number>>, app: string, version: string, n: number) {
  const per = m.get(app) ?? new Map<string, number>();
  per.set(version, (per.get(version) ?? 0) + n);
  m.set(app, per);
}

export async function getDriftReport(deps: InventoryDeps, input: { app?: string } = {}): Promise<DriftRow[]> {
  const { db } = deps;
  const targets = await db.appTarget.findMany({
    ...appTargetsOf(input.app),
    select: {
      id: true,
      app: true,
      version: true,
      scopeKind: true,
      scopeKey: true,
      group: { select: { id: true, name: true, kind: true, filter: true } },
    },
  });
  if (targets.length === 0) return [];
  const flatApps = [...new Set(targets.filter((t) => t.scopeKind !== "group").map((t) => t.app))];
  const needEnv = targets.some((t) => t.scopeKind === "environment");

  // fleet + environments: versions per (environment, app) from app_version_counts (kept by
  // triggers in every writing transaction, so exact for the whole fleet), hosts per environment
  const flat = (async () => {
    const byEnv = new Map<string, Counts>();
    const env = (e: string | null) => {
      const k = e ?? "";
      const c = byEnv.get(k) ?? { versions: new Map(), hosts: 0 };
      byEnv.set(k, c);
      return c;
    };
    if (!flatApps.length) return byEnv;
    const [rows, hosts] = await Promise.all([
      readAppVersionCounts(db, { apps: flatApps }),
      readHostEnvironmentCounts(db),
    ]);
    for (const r of rows) addCount(env(needEnv ? r.environment : null).versions, r.app, r.version, r.hosts);
    for (const h of hosts) env(needEnv ? h.environment : null).hosts += h.hosts;
    return byEnv;
  })();

  // groups with a target, and the apps targeted for each
  const groupApps = new Map<
    string,
    { group: NonNullable<(typeof targets)[number]["group"]>; apps: Set<string> }
  >();
  for (const t of targets)
    if (t.scopeKind === "group" && t.group) {
      const g = groupApps.get(t.group.id) ?? { group: t.group, apps: new Set<string>() };
      g.apps.add(t.app);
      groupApps.set(t.group.id, g);
    }
  // Static groups: hosts from host_group_members, versions from group_app_version_counts (kept
  // by triggers like app_version_counts). Filter groups the console saved: hosts from
  // filter_group_members, versions from the same counts (kept by triggers too, decision 0036).
  // Any other filter group: one statement each, probing the matching hosts' current versions by
  // (host_id, is_current, …).
  const counted = [...groupApps.values()].filter(
    (g) => g.group.kind === "static" || keptFilter(g.group.filter),
  );
  const staticCounts = (async (): Promise<[string, Counts][]> => {
    if (!counted.length) return [];
    const ids = counted.map((g) => g.group.id);
    const idList = Prisma.join(ids.map((g) => Prisma.sql`${g}::uuid`));
    const [rows, members] = await Promise.all([
      readGroupAppVersionCounts(db, ids, [...new Set(counted.flatMap((g) => [...g.apps]))]),
      db.$queryRaw<{ group_id: string; n: bigint }[]>(Prisma.sql`
        SELECT group_id, count(*) AS n FROM host_group_members WHERE group_id IN (${idList}) GROUP BY group_id
        UNION ALL
        SELECT group_id, count(*) AS n FROM filter_group_members WHERE group_id IN (${idList}) GROUP BY group_id`),
    ]);
    const out = new Map<string, Counts>(ids.map((g) => [g, { versions: new Map(), hosts: 0 }]));
    for (const m of members) out.get(m.group_id)!.hosts += Number(m.n);
    for (const r of rows)
      if (groupApps.get(r.groupId)?.apps.has(r.app))
        addCount(out.get(r.groupId)!.versions, r.app, r.version, r.hosts);
    return [...out];
  })();
  const filterCounts = Promise.all(
    [...groupApps.values()]
      .filter((g) => !counted.includes(g))
      .map(async ({ group, apps }): Promise<[string, Counts]> => {
        const parsed = group.filter ? ZHostFilter.safeParse(group.filter) : null;
        const pred = parsed?.success
          ? hostFilterSql({ ...parsed.data, groupId: undefined })
          : Prisma.sql`FALSE`;
        const rows = await db.$queryRaw<
          { app: string | null; version: string | null; n: bigint }[]
        >(Prisma.sql`
          WITH g AS MATERIALIZED (SELECT h.id FROM hosts h WHERE ${pred})
          SELECT NULL AS app, NULL AS version, count(*) AS n FROM g
          UNION ALL
          SELECT iv.app, iv.version, count(*) AS n
          FROM g CROSS JOIN LATERAL (
            -- OFFSET 0 keeps this one index-only probe per host: a group is usually a small part
            -- of the fleet, and a join would scan every current version. For several apps the app
            -- test stays outside, or each probe becomes one index descent per app; for one app it
            -- goes inside, so each probe reads that app's entry instead of all the host's apps.
            SELECT iv.app, iv.version FROM installed_versions iv
            WHERE iv.host_id = g.id AND iv.is_current ${apps.size === 1 ? Prisma.sql`AND ${appIn([...apps])}` : Prisma.empty} OFFSET 0
          ) iv
          WHERE ${appIn([...apps])}
          GROUP BY iv.app, iv.version`);
        const c: Counts = { versions: new Map(), hosts: 0 };
        for (const r of rows) {
          if (r.app === null) c.hosts = Number(r.n);
          else addCount(c.versions, r.app, r.version!, Number(r.n));
        }
        return [group.id, c];
      }),
  );
  const groups = Promise.all([staticCounts, filterCounts]).then(([a, b]) => [...a, ...b]);
  const [byEnv, byGroup] = await Promise.all([flat, groups.then((l) => new Map(l))]);

  const fleet: Counts = { versions: new Map(), hosts: 0 };
  for (const c of byEnv.values()) {
    fleet.hosts += c.hosts;
    for (const [app, per] of c.versions) for (const [v, n] of per) addCount(fleet.versions, app, v, n);
  }

  return targets.map((t) => {
    const scope: Counts =
      t.scopeKind === "fleet"
        ? fleet
        : t.scopeKind === "environment"
          ? (byEnv.get(t.scopeKey) ?? { versions: new Map(), hosts: 0 })
          : (byGroup.get(t.group?.id ?? "") ?? { versions: new Map(), hosts: 0 });
    const per = [...(scope.versions.get(t.app) ?? new Map<string, number>()).entries()]
      .map(([version, hosts]) => ({ version: version as string | null, hosts }))
      .sort((a, b) => compareVersionStrings(b.version!, a.version!));
    const withApp = per.reduce((s, v) => s + v.hosts, 0);
    const missing = scope.hosts - withApp;
    const sum = (pred: (v: string) => boolean) =>
      per.filter((v) => pred(v.version!)).reduce((s, v) => s + v.hosts, 0);
    return {
      targetId: t.id,
      app: t.app,
      targetVersion: t.version,
      scopeKind: t.scopeKind,
      scopeKey: t.scopeKey,
      scopeName:
        t.scopeKind === "fleet"
          ? "whole fleet"
          : t.scopeKind === "group"
            ? `group ${t.group?.name ?? t.scopeKey}`
            : `env ${t.scopeKey}`,
      hosts: scope.hosts,
      onTarget: sum((v) => v === t.version),
      behind: sum((v) => compareVersionStrings(v, t.version) < 0),
      ahead: sum((v) => compareVersionStrings(v, t.version) > 0),
      missing,
      versions: missing > 0 ? [...per, { version: null, hosts: missing }] : per,
    };
  });
}
