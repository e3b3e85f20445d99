// app_version_counts against a real PostgreSQL: the triggers keep it equal to a recount of
// installed_versions × hosts after refreshes that install, activate and remove versions, after
// environment moves and host removal — also with many refreshes and moves running concurrently —
// and so do the static-group counts (group_app_version_counts) through membership changes; the
// views built on them (apps overview, distribution, fleet, environment and group drift) agree with
// recounts over the whole fleet.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma, type PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { enrollHost } from "./hosts/enroll-host";
import { removeHost } from "./hosts/remove-host";
import { setAppTarget } from "./hosts/set-app-target";
import { setHostEnvironment } from "./hosts/set-host-environment";
import { deleteGroup } from "./hosts/delete-group";
import { saveGroup } from "./hosts/save-group";
import { setGroupMembers } from "./hosts/set-group-members";
import { readAppVersionCounts, readGroupAppVersionCounts } from "./app-version-counts";
import { compareVersionStrings } from "./compare-versions";
import { getDriftReport } from "./get-drift-report";
import { getVersionDistribution } from "./get-version-distribution";
import { listApps } from "./list-apps";
import { recordFacts } from "./record-facts";
import type { CollectedFacts } from "./types";
import { factsWithApps, rng } from "./test-support/facts";

const FP = (n: number) => `SHA256:${String(n).padStart(43, "C")}`;
const APPS = ["api", "web", "worker"];
const VERSIONS = ["1.8", "1.9", "1.10", "2.0"];
const ENVS = ["dev", "staging", "prod", null];

function randomFacts(r: (n: number) => number): CollectedFacts {
  const apps: Record<string, { current: string | null; versions: string[] }> = {};
  for (const app of APPS) {
    if (r(4) === 0) continue; // app not installed
    const versions = VERSIONS.filter(() => r(2) === 0);
    if (!versions.length) continue;
    apps[app] = { current: r(5) === 0 ? null : versions[r(versions.length)]!, versions };
  }
  return factsWithApps(apps);
}

describe("app_version_counts (PostgreSQL)", () => {
  let t: TestDatabase;
  let db: PrismaClient;
  const ids: string[] = [];

  const recount = async () =>
    (
      await db.$queryRaw<
        { app: string; version: string; environment: string | null; hosts: number }[]
      >(Prisma.sql`
        SELECT iv.app, iv.version, h.environment, count(*)::int AS hosts FROM installed_versions iv JOIN hosts h ON h.id = iv.host_id
        WHERE iv.is_current GROUP BY 1, 2, 3`)
    )
      .map((r) => `${r.app} ${r.version} ${r.environment ?? "-"} ${r.hosts}`)
      .sort();
  const counted = async () =>
    (await readAppVersionCounts(db))
      .map((r) => `${r.app} ${r.version} ${r.environment ?? "-"} ${r.hosts}`)
      .sort();
  const groupIds: string[] = [];
  const recountGroups = async () =>
    (
      await db.$queryRaw<{ group_id: string; app: string; version: string; hosts: number }[]>(Prisma.sql`
        SELECT m.group_id, iv.app, iv.version, count(*)::int AS hosts FROM host_group_members m JOIN installed_versions iv ON iv.host_id = m.host_id
        WHERE iv.is_current GROUP BY 1, 2, 3`)
    )
      .map((r) => `${r.group_id} ${r.app} ${r.version} ${r.hosts}`)
      .sort();
  const countedGroups = async () =>
    (await readGroupAppVersionCounts(db, groupIds, APPS))
      .map((r) => `${r.groupId} ${r.app} ${r.version} ${r.hosts}`)
      .sort();

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createDb(t.url);
    for (let i = 0; i < 24; i++) {
      const r = await enrollHost(
        { db },
        {
          actorId: null,
          name: `c-${i}`,
          address: `10.7.0.${i + 1}`,
          acceptedFingerprint: FP(i),
          environment: ENVS[i % 4] ?? undefined,
        },
      );
      ids.push(r.id);
    }
  });
  afterAll(async () => {
    await db?.$disconnect();
    await t?.drop();
  });

  it("stays equal to a recount through refreshes, environment moves and removals, also concurrent ones", async () => {
    const r = rng(7);
    for (const name of ["g-a", "g-b", "g-c"])
      groupIds.push((await saveGroup({ db }, { actorId: null, name, kind: "static" })).id);
    await setGroupMembers({ db }, { actorId: null, groupId: groupIds[0]!, add: ids.slice(0, 12) });
    for (let round = 0; round < 4; round++) {
      // Refreshes of every host, environment moves and static-group membership changes of some, all at once.
      await Promise.all([
        ...ids.map((id) => recordFacts({ db }, id, randomFacts(r))),
        ...[0, 1, 2].map(() =>
          setHostEnvironment(
            { db },
            {
              actorId: null,
              hostIds: [ids[r(ids.length)]!, ids[r(ids.length)]!],
              environment: ENVS[r(4)] ?? null,
            },
          ),
        ),
        ...groupIds.map((groupId) =>
          setGroupMembers(
            { db },
            {
              actorId: null,
              groupId,
              add: [ids[r(ids.length)]!, ids[r(ids.length)]!],
              remove: [ids[r(ids.length)]!],
            },
          ),
        ),
      ]);
      expect(await counted()).toEqual(await recount());
      expect(await countedGroups()).toEqual(await recountGroups());
    }
    expect((await recount()).length).toBeGreaterThan(10);
    expect((await recountGroups()).length).toBeGreaterThan(10);
    await removeHost({ db }, { actorId: null, id: ids.pop()! });
    await setHostEnvironment({ db }, { actorId: null, hostIds: ids.slice(0, 10), environment: "prod" });
    await setGroupMembers({ db }, { actorId: null, groupId: groupIds[1]!, remove: ids });
    expect(await counted()).toEqual(await recount());
    expect(await countedGroups()).toEqual(await recountGroups());
    // A deleted group's rows are not counted and go at the next compaction.
    await deleteGroup({ db }, { actorId: null, id: groupIds[2]! });
    await db.$executeRaw`SELECT keel_compact_group_app_version_counts()`;
    expect(await db.groupAppVersionCount.count({ where: { groupId: groupIds[2] } })).toBe(0);
    expect(await countedGroups()).toEqual(await recountGroups());
    // Compaction folds the deltas into one row per key and changes no sum.
    const before = await counted();
    expect(await db.appVersionCount.count()).toBeGreaterThan(before.length);
    await db.$executeRaw`SELECT keel_compact_app_version_counts()`;
    expect(await db.appVersionCount.count()).toBe(before.length);
    expect(await counted()).toEqual(before);
  });

  it("serves the apps overview, distribution and fleet/environment drift exactly", async () => {
    const recountApp = async (app: string, env?: string) =>
      db.$queryRaw<{ version: string; n: number }[]>(Prisma.sql`
        SELECT iv.version, count(*)::int AS n FROM installed_versions iv JOIN hosts h ON h.id = iv.host_id
        WHERE iv.is_current AND iv.app = ${app} ${env ? Prisma.sql`AND h.environment = ${env}` : Prisma.empty} GROUP BY 1`);
    const hosts = await db.host.count();
    for (const app of APPS) {
      const truth = await recountApp(app);
      const d = await getVersionDistribution({ db }, { app });
      expect(d.versions).toEqual(
        truth
          .map((x) => ({ version: x.version, hosts: x.n }))
          .sort((a, b) => compareVersionStrings(b.version, a.version)),
      );
      expect(d.hostCount).toBe(hosts);
      const prod = await getVersionDistribution({ db }, { app, filter: { environments: ["prod"] } });
      expect(prod.versions.reduce((s, v) => s + v.hosts, 0)).toBe(
        (await recountApp(app, "prod")).reduce((s, v) => s + v.n, 0),
      );
      expect(prod.hostCount).toBe(await db.host.count({ where: { environment: "prod" } }));
    }
    const apps = await listApps({ db });
    expect(apps.map((a) => a.app)).toEqual(APPS);
    for (const a of apps) expect(a.hosts).toBe((await recountApp(a.app)).reduce((s, v) => s + v.n, 0));

    await setAppTarget({ db }, { actorId: null, app: "web", version: "1.9", scope: { kind: "fleet" } });
    await setAppTarget(
      { db },
      { actorId: null, app: "web", version: "1.10", scope: { kind: "environment", environment: "prod" } },
    );
    await setAppTarget(
      { db },
      { actorId: null, app: "web", version: "2.0", scope: { kind: "group", groupId: groupIds[0]! } },
    );
    await setAppTarget(
      { db },
      {
        actorId: null,
        app: "web",
        version: "1.9",
        scope: {
          kind: "group",
          groupId: (
            await saveGroup(
              { db },
              { actorId: null, name: "f-prod", kind: "filter", filter: { environments: ["prod"] } },
            )
          ).id,
        },
      },
    );
    const drift = await getDriftReport({ db }, { app: "web" });
    expect(drift.map((d) => d.scopeKind).sort()).toEqual(["environment", "fleet", "group", "group"]);
    for (const row of drift) {
      const env = row.scopeKind === "environment" || row.scopeName === "group f-prod" ? "prod" : undefined;
      const group = row.scopeName === "group g-a" ? groupIds[0]! : undefined;
      const truth = group
        ? await db.$queryRaw<{ version: string; n: number }[]>(Prisma.sql`
            SELECT iv.version, count(*)::int AS n FROM host_group_members m JOIN installed_versions iv ON iv.host_id = m.host_id
            WHERE iv.is_current AND iv.app = 'web' AND m.group_id = ${group}::uuid GROUP BY 1`)
        : await recountApp("web", env);
      const sum = (p: (v: string) => boolean) =>
        truth.filter((x) => p(x.version)).reduce((s, x) => s + x.n, 0);
      const inScope = group
        ? await db.hostGroupMember.count({ where: { groupId: group } })
        : env
          ? await db.host.count({ where: { environment: env } })
          : hosts;
      expect(
        sum(() => true),
        row.scopeName,
      ).toBeGreaterThan(0);
      expect(row, row.scopeName).toMatchObject({
        hosts: inScope,
        onTarget: sum((v) => v === row.targetVersion),
        behind: sum((v) => compareVersionStrings(v, row.targetVersion) < 0),
        ahead: sum((v) => compareVersionStrings(v, row.targetVersion) > 0),
        missing: inScope - sum(() => true),
      });
    }
  });
});
