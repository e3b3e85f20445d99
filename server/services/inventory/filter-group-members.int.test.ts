// filter_group_members and the filter groups' version counts against a real PostgreSQL: after
// enrolments, refreshes (versions installed, activated, removed), unreachable hosts, label and
// environment changes, removals, and filter groups created, changed, turned static and deleted —
// also all at once — each filter group's members are exactly the hosts hostFilterSql selects, its
// counts in group_app_version_counts a recount over them, and drift for it (read from the counts)
// equals drift over the same filter written in a form the members table does not answer
// (evaluated at query time, as before decision 0036).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma, type PrismaClient } from "@prisma/client";
import { createDb } from "@/server/db";
import { createTestDatabase, type TestDatabase } from "@/server/test/db";
import { enrollHost } from "./hosts/enroll-host";
import { removeHost } from "./hosts/remove-host";
import { deleteGroup } from "./hosts/delete-group";
import { saveGroup } from "./hosts/save-group";
import { setAppTarget } from "./hosts/set-app-target";
import { setHostEnvironment } from "./hosts/set-host-environment";
import { setHostLabels } from "./hosts/set-host-labels";
import { getDriftReport } from "./get-drift-report";
import { hostFilterSql } from "./host-filter-sql";
import { keptFilter } from "./filter-group-members";
import { recordFacts } from "./record-facts";
import { recordRefreshFailure } from "./record-refresh-failure";
import { randomFacts as facts, rng } from "@/server/services/inventory/test-support/facts";
import type { THostFilter } from "./types";

const FP = (n: number) => `SHA256:${String(n).padStart(43, "F")}`;
const APPS = ["api", "web"];
const VERSIONS = ["1.8", "1.9", "2.0"];
const ENVS = ["dev", "prod", null];

const randomFacts = (r: (n: number) => number) =>
  facts(r, APPS, VERSIONS, {
    hostname: `box_${r(3)}%`,
    os: ["Debian GNU/Linux 12", "Ubuntu 24.04", null][r(3)] ?? null,
  });

/** Filters covering every test keel_host_matches_filter makes, alone and combined. */
const FILTERS: THostFilter[] = [
  { labels: { role: "web" } },
  { labels: { role: "web", dc: "fra1" } },
  { environments: ["prod"] },
  { environments: ["dev", "prod"], reachable: true },
  { reachable: false },
  { q: "  f-1 " },
  { q: "box_1%" },
  { q: "FRA" },
  { q: "\u00a0\t" },
  { os: "debian" },
  { os: "_" },
  { app: "web" },
  { app: "web", version: "2.0" },
  { version: "1.9", environments: ["prod"] },
  { hostKeyChanged: false, labels: { dc: "ams1" } },
  { seenAfter: new Date(Date.now() - 3600_000) },
  { seenBefore: new Date(Date.now() - 3600_000) },
];

describe("filter_group_members (PostgreSQL)", () => {
  let t: TestDatabase;
  let db: PrismaClient;
  const ids: string[] = [];
  const groups = new Map<string, THostFilter>();

  /** Per filter group: its kept members and its counted versions vs. the straightforward query. */
  const check = async () => {
    const kept = await db.$queryRaw<{ group_id: string; host_id: string }[]>`
      SELECT group_id, host_id FROM filter_group_members`;
    const counted = await db.$queryRaw<{ group_id: string; app: string; version: string; n: number }[]>`
      SELECT group_id, app, version, sum(hosts)::int AS n FROM group_app_version_counts
      GROUP BY 1, 2, 3 HAVING sum(hosts) <> 0`;
    for (const [id, f] of groups) {
      const where = hostFilterSql(f);
      const truth = await db.$queryRaw<{ id: string }[]>(Prisma.sql`SELECT h.id FROM hosts h WHERE ${where}`);
      const members = kept.filter((k) => k.group_id === id).map((k) => k.host_id);
      expect(members.sort(), JSON.stringify(f)).toEqual(truth.map((h) => h.id).sort());
      const versions = await db.$queryRaw<{ app: string; version: string; n: number }[]>(Prisma.sql`
        SELECT iv.app, iv.version, count(*)::int AS n FROM hosts h JOIN installed_versions iv ON iv.host_id = h.id AND iv.is_current
        WHERE ${where} GROUP BY 1, 2`);
      const mine = counted.filter((c) => c.group_id === id).map((c) => `${c.app} ${c.version} ${c.n}`);
      expect(mine.sort(), JSON.stringify(f)).toEqual(
        versions.map((v) => `${v.app} ${v.version} ${v.n}`).sort(),
      );
    }
    // Nothing kept for a group that is gone or static.
    for (const k of kept) expect(groups.has(k.group_id)).toBe(true);
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    db = createDb(t.url);
    for (let i = 0; i < 20; i++) {
      const r = await enrollHost(
        { db },
        {
          actorId: null,
          name: `f-${i}`,
          address: `10.8.0.${i + 1}`,
          acceptedFingerprint: FP(i),
          environment: ENVS[i % 3] ?? undefined,
          labels: { role: i % 2 ? "web" : "db", dc: i % 3 ? "fra1" : "ams1" },
        },
      );
      ids.push(r.id);
    }
  });
  afterAll(async () => {
    await db?.$disconnect();
    await t?.drop();
  });

  it("keeps every filter group's members and versions equal to its filter's, through concurrent changes", async () => {
    const r = rng(11);
    for (const [i, filter] of FILTERS.entries()) {
      const g = await saveGroup({ db }, { actorId: null, name: `fg-${i}`, kind: "filter", filter });
      groups.set(g.id, filter);
    }
    await check();
    const [first, second, third] = [...groups.keys()];
    for (let round = 0; round < 4; round++) {
      await Promise.all([
        ...ids.map((id) =>
          r(4) === 0
            ? recordRefreshFailure({ db }, id, { kind: "unreachable", message: "connect ETIMEDOUT" })
            : recordFacts({ db }, id, randomFacts(r)),
        ),
        setHostLabels(
          { db },
          { actorId: null, hostIds: [ids[r(ids.length)]!, ids[r(ids.length)]!], set: { role: "web" } },
        ),
        setHostLabels({ db }, { actorId: null, hostIds: [ids[r(ids.length)]!], unset: ["dc"] }),
        setHostEnvironment(
          { db },
          {
            actorId: null,
            hostIds: [ids[r(ids.length)]!, ids[r(ids.length)]!],
            environment: ENVS[r(3)] ?? null,
          },
        ),
        // A group's filter changed while its hosts change.
        saveGroup(
          { db },
          {
            actorId: null,
            id: first,
            name: "fg-0",
            kind: "filter",
            filter: FILTERS[(round + 1) % FILTERS.length],
          },
        ).then(() => groups.set(first!, FILTERS[(round + 1) % FILTERS.length]!)),
      ]);
      await check();
    }
    await removeHost({ db }, { actorId: null, id: ids.pop()! });
    const late = await enrollHost(
      { db },
      {
        actorId: null,
        name: "f-late",
        address: "10.8.1.1",
        acceptedFingerprint: FP(99),
        labels: { role: "web" },
      },
    );
    ids.push(late.id);
    await check();
    // Turned static: no longer kept (its static members are host_group_members'); deleted: gone.
    await saveGroup({ db }, { actorId: null, id: second, name: "fg-1", kind: "static" });
    groups.delete(second!);
    await deleteGroup({ db }, { actorId: null, id: third! });
    groups.delete(third!);
    await check();
    expect(
      await db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM filter_group_members`,
    ).not.toEqual([{ n: 0 }]);
  });

  it("drift for a filter group equals drift evaluated over its filter at query time", async () => {
    const filter: THostFilter = { labels: { role: "web" }, reachable: true, seenAfter: new Date(0) };
    const kept = await saveGroup({ db }, { actorId: null, name: "fg-drift", kind: "filter", filter });
    await setAppTarget(
      { db },
      { actorId: null, app: "web", version: "1.9", scope: { kind: "group", groupId: kept.id } },
    );
    // The same filter stored in a form the console does not write (the time as epoch milliseconds,
    // which ZHostFilter accepts too): answered at query time.
    const other = await saveGroup({ db }, { actorId: null, name: "fg-drift-query", kind: "filter", filter });
    await db.$executeRaw`UPDATE host_groups SET filter = filter || '{"seenAfter": 0}'::jsonb WHERE id = ${other.id}::uuid`;
    const stored = await db.hostGroup.findUniqueOrThrow({
      where: { id: other.id },
      select: { filter: true },
    });
    expect(keptFilter(stored.filter)).toBeNull();
    await setAppTarget(
      { db },
      { actorId: null, app: "web", version: "1.9", scope: { kind: "group", groupId: other.id } },
    );
    const rows = await getDriftReport({ db }, { app: "web" });
    const a = rows.find((x) => x.scopeName === "group fg-drift")!;
    const b = rows.find((x) => x.scopeName === "group fg-drift-query")!;
    expect(a.hosts).toBeGreaterThan(0);
    expect(a.versions.length).toBeGreaterThan(1);
    const { targetId: _a, scopeKey: _ak, scopeName: _an, ...left } = a;
    const { targetId: _b, scopeKey: _bk, scopeName: _bn, ...right } = b;
    expect(left).toEqual(right);
  });
});
